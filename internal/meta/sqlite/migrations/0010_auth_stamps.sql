-- 0009_auth_stamps: one counter per account that moves, in the same
-- transaction, with every change to what authenticating and authorizing a
-- request reads (the account, its access keys and users, its vaults with
-- their counters, access policies, locks and tags). A server that keeps
-- these in memory reads the account's counter on every request and uses
-- its copy only while the counter is the one it was read under: a change
-- committed by any connection or process is seen by the next request.
CREATE TABLE auth_stamps (
	account_id TEXT PRIMARY KEY,
	v          INTEGER NOT NULL
) STRICT;

CREATE TRIGGER auth_stamp_accounts_ins AFTER INSERT ON accounts BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_accounts_upd AFTER UPDATE ON accounts BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_accounts_del AFTER DELETE ON accounts BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;

CREATE TRIGGER auth_stamp_keys_ins AFTER INSERT ON access_keys BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_keys_upd AFTER UPDATE ON access_keys BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1;
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_keys_del AFTER DELETE ON access_keys BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;

CREATE TRIGGER auth_stamp_users_ins AFTER INSERT ON users BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_users_upd AFTER UPDATE ON users BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1;
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_users_del AFTER DELETE ON users BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;

CREATE TRIGGER auth_stamp_vaults_ins AFTER INSERT ON vaults BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_vaults_upd AFTER UPDATE ON vaults BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1;
	INSERT INTO auth_stamps (account_id, v) VALUES (NEW.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_vaults_del AFTER DELETE ON vaults BEGIN
	INSERT INTO auth_stamps (account_id, v) VALUES (OLD.account_id, 1) ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_access_policies_ins AFTER INSERT ON vault_access_policies BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_access_policies_upd AFTER UPDATE ON vault_access_policies BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_access_policies_del AFTER DELETE ON vault_access_policies BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = OLD.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_locks_ins AFTER INSERT ON vault_locks BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_locks_upd AFTER UPDATE ON vault_locks BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_locks_del AFTER DELETE ON vault_locks BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = OLD.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_tags_ins AFTER INSERT ON vault_tags BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_tags_upd AFTER UPDATE ON vault_tags BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = NEW.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
CREATE TRIGGER auth_stamp_v_tags_del AFTER DELETE ON vault_tags BEGIN
	INSERT INTO auth_stamps (account_id, v) SELECT account_id, 1 FROM vaults WHERE id = OLD.vault_id
	ON CONFLICT (account_id) DO UPDATE SET v = v + 1; END;
