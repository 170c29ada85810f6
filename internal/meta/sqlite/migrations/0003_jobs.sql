-- 0003_jobs: retrieval and inventory jobs, vault inventory snapshots,
-- provisioned capacity and the notification outbox.

ALTER TABLE vaults ADD COLUMN inventory_key TEXT NOT NULL DEFAULT '';
ALTER TABLE vaults ADD COLUMN inventory_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vaults ADD COLUMN inventory_size INTEGER NOT NULL DEFAULT 0;
CREATE INDEX vaults_inventory ON vaults (last_write_at) WHERE last_write_at IS NOT NULL;

-- Inventories list archives in order of creation, then id.
CREATE INDEX archives_vault_created ON archives (vault_id, created_at, id);

-- status: 'InProgress', 'Succeeded' or 'Failed' (glacier.JobStatus).
-- Archive jobs copy what they need of the archive at initiation, so a job
-- describes itself after the archive is deleted.
CREATE TABLE jobs (
	id                  TEXT PRIMARY KEY,
	vault_id            INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	account_id          TEXT NOT NULL,
	action              TEXT NOT NULL,
	description         TEXT NOT NULL,
	sns_topic           TEXT NOT NULL,
	tier                TEXT NOT NULL,
	created_at          INTEGER NOT NULL,
	due_at              INTEGER NOT NULL,
	completed_at        INTEGER,
	status              TEXT NOT NULL CHECK (status IN ('InProgress', 'Succeeded', 'Failed')),
	status_message      TEXT NOT NULL,
	archive_id          TEXT NOT NULL,
	archive_size        INTEGER NOT NULL,
	archive_tree_hash   BLOB,
	archive_description TEXT NOT NULL,
	range_start         INTEGER NOT NULL,
	range_end           INTEGER NOT NULL,
	range_tree_hash     BLOB,
	format              TEXT NOT NULL,
	start_date          INTEGER,
	end_date            INTEGER,
	lim                 INTEGER NOT NULL,
	marker              TEXT NOT NULL,
	next_marker         TEXT NOT NULL,
	output_key          TEXT NOT NULL,
	output_size         INTEGER NOT NULL,
	inventory_date      INTEGER
) STRICT;
CREATE INDEX jobs_vault ON jobs (vault_id, created_at, id);
CREATE INDEX jobs_due ON jobs (due_at) WHERE status = 'InProgress';
CREATE INDEX jobs_completed ON jobs (completed_at) WHERE status <> 'InProgress';
CREATE INDEX jobs_account ON jobs (account_id, tier, created_at);
CREATE INDEX jobs_output_key ON jobs (output_key) WHERE output_key <> '';

-- The archive blobs a succeeded retrieval job serves, pinned so that its
-- output outlives a DeleteArchive (data-plane.md §5.3).
CREATE TABLE job_segments (
	job_id   TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	blob_key TEXT NOT NULL,
	size     INTEGER NOT NULL,
	tree_hash BLOB NOT NULL,
	leaves   BLOB NOT NULL,
	PRIMARY KEY (job_id, seq)
) STRICT;
CREATE INDEX job_segments_blob_key ON job_segments (blob_key);

CREATE TABLE provisioned_capacity (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	start_date INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX provisioned_capacity_account ON provisioned_capacity (account_id, expires_at);

-- Notifications waiting for delivery; a row is removed once delivered.
CREATE TABLE outbox (
	id              TEXT PRIMARY KEY,
	topic_arn       TEXT NOT NULL,
	subject         TEXT NOT NULL,
	message         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at);
