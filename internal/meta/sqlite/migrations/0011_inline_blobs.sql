-- 0011_inline_blobs: the bytes of small archives, kept in the database
-- with their archive (glacier.InlineStore): CreateArchive inserts them in
-- the same transaction as the archive's row, so one commit makes both
-- durable. blob_key is an inline key ("inline/" + 32 hex digits), the key
-- the archive's segment names; like a file blob, the row outlives the
-- archive's (a job that pinned the segment keeps its output) and goes when
-- nothing references it. created_at is Unix ms, wall clock: what a file's
-- modification time is to the sweep's grace.
CREATE TABLE inline_blobs (
	blob_key   TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL,
	data       BLOB NOT NULL
) STRICT;
