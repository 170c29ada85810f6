-- 0003_jobs: retrieval and inventory jobs, vault inventory snapshots,
-- provisioned capacity and the notification outbox.

ALTER TABLE vaults ADD COLUMN inventory_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE vaults ADD COLUMN inventory_count bigint NOT NULL DEFAULT 0;
ALTER TABLE vaults ADD COLUMN inventory_size bigint NOT NULL DEFAULT 0;
CREATE INDEX vaults_inventory ON vaults (last_write_at) WHERE last_write_at IS NOT NULL;
CREATE INDEX vaults_inventory_key ON vaults (inventory_key) WHERE inventory_key <> '';

-- Inventories list archives in order of creation, then id.
CREATE INDEX archives_vault_created ON archives (vault_id, created_at, id);

-- status: 'InProgress', 'Succeeded' or 'Failed' (glacier.JobStatus).
-- Archive jobs copy what they need of the archive at initiation, so a job
-- describes itself after the archive is deleted.
CREATE TABLE jobs (
	id                  text COLLATE "C" PRIMARY KEY,
	vault_id            bigint NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	account_id          text COLLATE "C" NOT NULL,
	action              text NOT NULL,
	description         text NOT NULL,
	sns_topic           text NOT NULL,
	tier                text COLLATE "C" NOT NULL,
	created_at          bigint NOT NULL,
	due_at              bigint NOT NULL,
	completed_at        bigint,
	status              text NOT NULL CHECK (status IN ('InProgress', 'Succeeded', 'Failed')),
	status_message      text NOT NULL,
	archive_id          text COLLATE "C" NOT NULL,
	archive_size        bigint NOT NULL,
	archive_tree_hash   bytea,
	archive_description text NOT NULL,
	range_start         bigint NOT NULL,
	range_end           bigint NOT NULL,
	range_tree_hash     bytea,
	format              text NOT NULL,
	start_date          bigint,
	end_date            bigint,
	lim                 bigint NOT NULL,
	marker              text NOT NULL,
	next_marker         text NOT NULL,
	output_key          text COLLATE "C" NOT NULL,
	output_size         bigint NOT NULL,
	inventory_date      bigint
);
CREATE INDEX jobs_vault ON jobs (vault_id, created_at, id);
CREATE INDEX jobs_due ON jobs (due_at) WHERE status = 'InProgress';
CREATE INDEX jobs_completed ON jobs (completed_at) WHERE status <> 'InProgress';
CREATE INDEX jobs_account ON jobs (account_id, tier, created_at);
CREATE INDEX jobs_output_key ON jobs (output_key) WHERE output_key <> '';

-- The archive blobs a succeeded retrieval job serves, pinned so that its
-- output outlives a DeleteArchive (data-plane.md §5.3).
CREATE TABLE job_segments (
	job_id    text COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	seq       integer NOT NULL,
	blob_key  text COLLATE "C" NOT NULL,
	size      bigint NOT NULL,
	tree_hash bytea NOT NULL,
	leaves    bytea NOT NULL,
	PRIMARY KEY (job_id, seq)
);
CREATE INDEX job_segments_blob_key ON job_segments (blob_key);

CREATE TABLE provisioned_capacity (
	id         text COLLATE "C" PRIMARY KEY,
	account_id text COLLATE "C" NOT NULL,
	start_date bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX provisioned_capacity_account ON provisioned_capacity (account_id, expires_at);

-- Notifications waiting for delivery; a row is removed once delivered.
-- DueNotifications claims the rows it returns by moving next_attempt_at
-- a lease ahead (see the package comment).
CREATE TABLE outbox (
	id              text COLLATE "C" PRIMARY KEY,
	topic_arn       text NOT NULL,
	subject         text NOT NULL,
	message         text NOT NULL,
	created_at      bigint NOT NULL,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at bigint NOT NULL,
	last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, created_at, id);
