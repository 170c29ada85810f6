-- 0001_init: the initial schema.
--
-- Conventions: times are INTEGER Unix milliseconds UTC, NULL for the zero
-- time; hashes are 32-byte BLOBs; leaf lists are one BLOB of concatenated
-- 32-byte hashes (treehash.EncodeLeaves). Tables are STRICT so a column
-- holds only its declared type.

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	created_at INTEGER
) STRICT;

-- Keys are listed by account, then creation (created_at, then rowid, which
-- only grows with insertion).
CREATE TABLE access_keys (
	id         TEXT PRIMARY KEY,
	secret     TEXT NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	user_name  TEXT NOT NULL DEFAULT '',
	created_at INTEGER
) STRICT;
CREATE INDEX access_keys_account ON access_keys (account_id, created_at);

-- Vaults have a surrogate key that is never reused (AUTOINCREMENT), so that
-- everything attached to a vault is removed with it by ON DELETE CASCADE.
-- Names compare in byte order (BINARY collation), as ListVaults requires.
CREATE TABLE vaults (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id         TEXT NOT NULL,
	name               TEXT NOT NULL,
	created_at         INTEGER,
	number_of_archives INTEGER NOT NULL DEFAULT 0,
	size_in_bytes      INTEGER NOT NULL DEFAULT 0,
	last_write_at      INTEGER,
	last_inventory_at  INTEGER,
	UNIQUE (account_id, name)
) STRICT;

-- Tag keys are case-sensitive (BINARY collation).
CREATE TABLE vault_tags (
	vault_id INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	key      TEXT NOT NULL,
	value    TEXT NOT NULL,
	PRIMARY KEY (vault_id, key)
) STRICT;

-- events is a JSON array of event names.
CREATE TABLE vault_notifications (
	vault_id  INTEGER PRIMARY KEY REFERENCES vaults (id) ON DELETE CASCADE,
	sns_topic TEXT NOT NULL,
	events    TEXT NOT NULL
) STRICT;

CREATE TABLE archives (
	id          TEXT PRIMARY KEY,
	vault_id    INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	created_at  INTEGER,
	size        INTEGER NOT NULL,
	tree_hash   BLOB NOT NULL,
	description TEXT NOT NULL
) STRICT;
CREATE INDEX archives_vault ON archives (vault_id);

-- An archive's bytes are its segments' blobs in seq order (0, 1, …).
CREATE TABLE archive_segments (
	archive_id TEXT NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	blob_key   TEXT NOT NULL,
	size       INTEGER NOT NULL,
	tree_hash  BLOB NOT NULL,
	leaves     BLOB NOT NULL,
	PRIMARY KEY (archive_id, seq)
) STRICT;
CREATE INDEX archive_segments_blob_key ON archive_segments (blob_key);

-- state: 0 open, 1 completed, 2 aborted (glacier.UploadState). archive_id
-- is deliberately not a foreign key: a completed upload remembers its
-- archive after the archive is deleted, to answer a repeated Complete.
CREATE TABLE uploads (
	id          TEXT PRIMARY KEY,
	vault_id    INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	description TEXT NOT NULL,
	part_size   INTEGER NOT NULL,
	created_at  INTEGER,
	state       INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
	archive_id  TEXT NOT NULL DEFAULT '',
	closed_at   INTEGER
) STRICT;
CREATE INDEX uploads_vault ON uploads (vault_id, state, id);
CREATE INDEX uploads_closed ON uploads (closed_at) WHERE state <> 0;

CREATE TABLE upload_parts (
	upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
	start     INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	tree_hash BLOB NOT NULL,
	leaves    BLOB NOT NULL,
	blob_key  TEXT NOT NULL,
	PRIMARY KEY (upload_id, start)
) STRICT;
CREATE INDEX upload_parts_blob_key ON upload_parts (blob_key);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
