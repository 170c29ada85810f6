-- 0012_auth_stamp_split: the column PostgreSQL's migration of the same
-- name adds (a counter that leaves out vault counter changes), so that
-- both schemas keep the same columns. On SQLite the split is made by the
-- mapped change counters (sharedstamp.go); the stamps table, read only
-- when they cannot be mapped, keeps one counter for both and this column
-- stays 0.
ALTER TABLE auth_stamps ADD COLUMN a INTEGER NOT NULL DEFAULT 0;
