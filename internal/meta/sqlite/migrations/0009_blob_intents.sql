-- 0009_blob_intents: blobs that may be referenced by nothing, so that
-- housekeeping examines only what changed instead of listing every blob.
-- A row is written (by the service, with its own wall-clock time) before a
-- blob is written; the triggers below clear it in the transaction that
-- commits metadata referencing the blob, and add one in the transaction
-- that drops a reference (a delete, an abort, a replaced part, a purged
-- job), so a crash anywhere leaves a row for housekeeping to examine.
-- created_at is Unix ms, wall clock (the grace of an upload in flight is
-- measured in real time); a dropped reference refreshes it, so that
-- housekeeping, which forgets only rows older than its cut-off, never
-- forgets one recorded after it looked.
CREATE TABLE blob_intents (
	blob_key   TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX blob_intents_created ON blob_intents (created_at);


CREATE TRIGGER archive_segments_blob_key_committed AFTER INSERT ON archive_segments WHEN NEW.blob_key <> '' BEGIN
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER archive_segments_blob_key_replaced AFTER UPDATE OF blob_key ON archive_segments WHEN OLD.blob_key IS NOT NEW.blob_key BEGIN
	INSERT INTO blob_intents (blob_key, created_at) SELECT OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE OLD.blob_key <> ''
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER archive_segments_blob_key_dropped AFTER DELETE ON archive_segments WHEN OLD.blob_key <> '' BEGIN
	INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
END;

CREATE TRIGGER upload_parts_blob_key_committed AFTER INSERT ON upload_parts WHEN NEW.blob_key <> '' BEGIN
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER upload_parts_blob_key_replaced AFTER UPDATE OF blob_key ON upload_parts WHEN OLD.blob_key IS NOT NEW.blob_key BEGIN
	INSERT INTO blob_intents (blob_key, created_at) SELECT OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE OLD.blob_key <> ''
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER upload_parts_blob_key_dropped AFTER DELETE ON upload_parts WHEN OLD.blob_key <> '' BEGIN
	INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
END;

CREATE TRIGGER job_segments_blob_key_committed AFTER INSERT ON job_segments WHEN NEW.blob_key <> '' BEGIN
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER job_segments_blob_key_replaced AFTER UPDATE OF blob_key ON job_segments WHEN OLD.blob_key IS NOT NEW.blob_key BEGIN
	INSERT INTO blob_intents (blob_key, created_at) SELECT OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE OLD.blob_key <> ''
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
	DELETE FROM blob_intents WHERE blob_key = NEW.blob_key;
END;
CREATE TRIGGER job_segments_blob_key_dropped AFTER DELETE ON job_segments WHEN OLD.blob_key <> '' BEGIN
	INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.blob_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
END;

CREATE TRIGGER jobs_output_key_committed AFTER INSERT ON jobs WHEN NEW.output_key <> '' BEGIN
	DELETE FROM blob_intents WHERE blob_key = NEW.output_key;
END;
CREATE TRIGGER jobs_output_key_replaced AFTER UPDATE OF output_key ON jobs WHEN OLD.output_key IS NOT NEW.output_key BEGIN
	INSERT INTO blob_intents (blob_key, created_at) SELECT OLD.output_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE OLD.output_key <> ''
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
	DELETE FROM blob_intents WHERE blob_key = NEW.output_key;
END;
CREATE TRIGGER jobs_output_key_dropped AFTER DELETE ON jobs WHEN OLD.output_key <> '' BEGIN
	INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.output_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
END;

CREATE TRIGGER vaults_inventory_key_committed AFTER INSERT ON vaults WHEN NEW.inventory_key <> '' BEGIN
	DELETE FROM blob_intents WHERE blob_key = NEW.inventory_key;
END;
CREATE TRIGGER vaults_inventory_key_replaced AFTER UPDATE OF inventory_key ON vaults WHEN OLD.inventory_key IS NOT NEW.inventory_key BEGIN
	INSERT INTO blob_intents (blob_key, created_at) SELECT OLD.inventory_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE OLD.inventory_key <> ''
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
	DELETE FROM blob_intents WHERE blob_key = NEW.inventory_key;
END;
CREATE TRIGGER vaults_inventory_key_dropped AFTER DELETE ON vaults WHEN OLD.inventory_key <> '' BEGIN
	INSERT INTO blob_intents (blob_key, created_at) VALUES (OLD.inventory_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		ON CONFLICT (blob_key) DO UPDATE SET created_at = excluded.created_at;
END;
