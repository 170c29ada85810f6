-- 0012_auth_stamp_split: the account's stamp row gets a second counter,
-- a, that moves with everything v moves with except what authorization
-- never reads: a vault's counters and last write, changed by archives
-- created and deleted (and imports). So an upload leaves the access keys,
-- users and vault policies a node keeps in memory current (checked
-- against a), while the vaults' records and lists it keeps (checked
-- against v) are read again. v keeps its meaning — it moves with every
-- change, counters included — so a node of the previous version, still
-- running while the database is migrated, stays exact.
ALTER TABLE auth_stamps ADD COLUMN a bigint NOT NULL DEFAULT 0;

-- Moves both counters: every trigger of 0010 calls it.
CREATE OR REPLACE FUNCTION auth_stamp_bump(acct text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO auth_stamps (account_id, v, a) VALUES (acct, 1, 1)
	ON CONFLICT (account_id) DO UPDATE SET v = auth_stamps.v + 1, a = auth_stamps.a + 1
$$;

-- Moves v alone.
CREATE FUNCTION data_stamp_bump(acct text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO auth_stamps (account_id, v) VALUES (acct, 1)
	ON CONFLICT (account_id) DO UPDATE SET v = auth_stamps.v + 1
$$;

-- vaults: an UPDATE that changes nothing but number_of_archives,
-- size_in_bytes and last_write_at moves v alone; every other change
-- (inserts, deletes, any other column, including columns added later)
-- moves both, as before.
CREATE FUNCTION auth_stamp_vaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - '{number_of_archives,size_in_bytes,last_write_at}'::text[])
			= (to_jsonb(OLD) - '{number_of_archives,size_in_bytes,last_write_at}'::text[]) THEN
		PERFORM data_stamp_bump(NEW.account_id);
		RETURN NULL;
	END IF;
	IF TG_OP <> 'INSERT' THEN PERFORM auth_stamp_bump(OLD.account_id); END IF;
	IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.account_id <> OLD.account_id) THEN PERFORM auth_stamp_bump(NEW.account_id); END IF;
	RETURN NULL;
END $$;

DROP TRIGGER auth_stamp ON vaults;
CREATE TRIGGER auth_stamp AFTER INSERT OR UPDATE OR DELETE ON vaults FOR EACH ROW EXECUTE FUNCTION auth_stamp_vaults();
