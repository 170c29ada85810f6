-- 0005_upload_activity: the time (Unix ms, service clock) of an upload's
-- last activity (its initiation or its latest part), so that uploads idle
-- for longer than the idle timeout can be found and discarded.
ALTER TABLE uploads ADD COLUMN last_activity_at INTEGER;
UPDATE uploads SET last_activity_at = created_at;
CREATE INDEX uploads_idle ON uploads (last_activity_at) WHERE state = 0;
