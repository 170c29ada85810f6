-- 0009_blob_intents: blobs that may be referenced by nothing, so that
-- housekeeping examines only what changed instead of listing every blob
-- (listing a bucket of millions of objects costs money). A row is written
-- (by the service, with its own wall-clock time) before a blob is written;
-- the triggers below clear it in the transaction that commits metadata
-- referencing the blob, and add one in the transaction that drops a
-- reference (a delete, an abort, a replaced part, a purged job), so a
-- crash anywhere leaves a row for housekeeping to examine. created_at is
-- Unix ms, wall clock; a dropped reference refreshes it, so that
-- housekeeping, which forgets only rows older than its cut-off, never
-- forgets one recorded after it looked.
CREATE TABLE blob_intents (
	blob_key   text COLLATE "C" PRIMARY KEY,
	created_at bigint NOT NULL
);
CREATE INDEX blob_intents_created ON blob_intents (created_at);


CREATE FUNCTION archive_segments_blob_key_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.blob_key <> '' AND (TG_OP = 'DELETE' OR OLD.blob_key IS DISTINCT FROM NEW.blob_key) THEN
		INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT (blob_key) DO UPDATE SET created_at = EXCLUDED.created_at;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.blob_key <> '' THEN
		DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER archive_segments_blob_key_intent AFTER INSERT OR UPDATE OF blob_key OR DELETE ON archive_segments
	FOR EACH ROW EXECUTE FUNCTION archive_segments_blob_key_intent();

CREATE FUNCTION upload_parts_blob_key_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.blob_key <> '' AND (TG_OP = 'DELETE' OR OLD.blob_key IS DISTINCT FROM NEW.blob_key) THEN
		INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT (blob_key) DO UPDATE SET created_at = EXCLUDED.created_at;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.blob_key <> '' THEN
		DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER upload_parts_blob_key_intent AFTER INSERT OR UPDATE OF blob_key OR DELETE ON upload_parts
	FOR EACH ROW EXECUTE FUNCTION upload_parts_blob_key_intent();

CREATE FUNCTION job_segments_blob_key_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.blob_key <> '' AND (TG_OP = 'DELETE' OR OLD.blob_key IS DISTINCT FROM NEW.blob_key) THEN
		INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT (blob_key) DO UPDATE SET created_at = EXCLUDED.created_at;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.blob_key <> '' THEN
		DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER job_segments_blob_key_intent AFTER INSERT OR UPDATE OF blob_key OR DELETE ON job_segments
	FOR EACH ROW EXECUTE FUNCTION job_segments_blob_key_intent();

CREATE FUNCTION jobs_output_key_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.output_key <> '' AND (TG_OP = 'DELETE' OR OLD.output_key IS DISTINCT FROM NEW.output_key) THEN
		INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.output_key, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT (blob_key) DO UPDATE SET created_at = EXCLUDED.created_at;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.output_key <> '' THEN
		DELETE FROM blob_intents WHERE blob_key = NEW.output_key;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER jobs_output_key_intent AFTER INSERT OR UPDATE OF output_key OR DELETE ON jobs
	FOR EACH ROW EXECUTE FUNCTION jobs_output_key_intent();

CREATE FUNCTION vaults_inventory_key_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.inventory_key <> '' AND (TG_OP = 'DELETE' OR OLD.inventory_key IS DISTINCT FROM NEW.inventory_key) THEN
		INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.inventory_key, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT (blob_key) DO UPDATE SET created_at = EXCLUDED.created_at;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.inventory_key <> '' THEN
		DELETE FROM blob_intents WHERE blob_key = NEW.inventory_key;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER vaults_inventory_key_intent AFTER INSERT OR UPDATE OF inventory_key OR DELETE ON vaults
	FOR EACH ROW EXECUTE FUNCTION vaults_inventory_key_intent();
