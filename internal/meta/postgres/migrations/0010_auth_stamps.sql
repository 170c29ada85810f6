-- 0009_auth_stamps: one counter per account that moves, in the same
-- transaction, with every change to what authenticating and authorizing a
-- request reads (the account, its access keys and users, its vaults with
-- their counters, access policies, locks and tags). A node that keeps these
-- in memory reads the account's counter on every request and uses its copy
-- only while the counter is the one it was read under: a change committed
-- on any node is seen by the next request on every node.
CREATE TABLE auth_stamps (
	account_id text COLLATE "C" PRIMARY KEY,
	v          bigint NOT NULL
);

CREATE FUNCTION auth_stamp_bump(acct text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO auth_stamps (account_id, v) VALUES (acct, 1)
	ON CONFLICT (account_id) DO UPDATE SET v = auth_stamps.v + 1
$$;

-- Tables with an account_id column (or accounts.id).
CREATE FUNCTION auth_stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'accounts' THEN
		IF TG_OP <> 'INSERT' THEN PERFORM auth_stamp_bump(OLD.id); END IF;
		IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.id <> OLD.id) THEN PERFORM auth_stamp_bump(NEW.id); END IF;
	ELSE
		IF TG_OP <> 'INSERT' THEN PERFORM auth_stamp_bump(OLD.account_id); END IF;
		IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.account_id <> OLD.account_id) THEN PERFORM auth_stamp_bump(NEW.account_id); END IF;
	END IF;
	RETURN NULL;
END $$;

-- Tables attached to a vault by vault_id. When the vault itself is being
-- deleted (ON DELETE CASCADE) the vaults row's own trigger bumps.
CREATE FUNCTION auth_stamp_vault_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
	IF TG_OP = 'DELETE' THEN
		SELECT account_id INTO acct FROM vaults WHERE id = OLD.vault_id;
	ELSE
		SELECT account_id INTO acct FROM vaults WHERE id = NEW.vault_id;
	END IF;
	IF acct IS NOT NULL THEN PERFORM auth_stamp_bump(acct); END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION auth_stamp_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON access_keys FOR EACH ROW EXECUTE FUNCTION auth_stamp_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION auth_stamp_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON vaults FOR EACH ROW EXECUTE FUNCTION auth_stamp_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON vault_access_policies FOR EACH ROW EXECUTE FUNCTION auth_stamp_vault_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON vault_locks FOR EACH ROW EXECUTE FUNCTION auth_stamp_vault_row();
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON vault_tags FOR EACH ROW EXECUTE FUNCTION auth_stamp_vault_row();
