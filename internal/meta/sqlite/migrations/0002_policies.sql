-- 0002_policies: IAM-style users, vault access policies, vault locks and
-- the append-only log of lock transitions.

-- A user's access keys are the access_keys rows with its name; DeleteUser
-- removes them in the same transaction.
CREATE TABLE users (
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	user_id    TEXT NOT NULL UNIQUE,
	policy     TEXT NOT NULL DEFAULT '',
	created_at INTEGER,
	PRIMARY KEY (account_id, name)
) STRICT;

CREATE TABLE vault_access_policies (
	vault_id INTEGER PRIMARY KEY REFERENCES vaults (id) ON DELETE CASCADE,
	policy   TEXT NOT NULL
) STRICT;

-- state: 1 InProgress, 2 Locked (vaultlock.State); no row means None.
CREATE TABLE vault_locks (
	vault_id   INTEGER PRIMARY KEY REFERENCES vaults (id) ON DELETE CASCADE,
	policy     TEXT NOT NULL,
	state      INTEGER NOT NULL CHECK (state IN (1, 2)),
	lock_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

-- Every lock transition, kept after the vault is gone (no foreign key) so
-- that a restore that reverts a Locked vault is detectable
-- (vault-lock.md §5.4). Rows are only ever inserted.
CREATE TABLE vault_lock_log (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	account_id TEXT NOT NULL,
	vault      TEXT NOT NULL,
	lock_id    TEXT NOT NULL,
	state      INTEGER NOT NULL
) STRICT;
CREATE TRIGGER vault_lock_log_append_only_update BEFORE UPDATE ON vault_lock_log
BEGIN SELECT RAISE(ABORT, 'vault_lock_log is append-only'); END;
CREATE TRIGGER vault_lock_log_append_only_delete BEFORE DELETE ON vault_lock_log
BEGIN SELECT RAISE(ABORT, 'vault_lock_log is append-only'); END;
