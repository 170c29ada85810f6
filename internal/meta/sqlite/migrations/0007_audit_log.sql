-- 0007_audit_log: the tamper-evident audit log (internal/audit). Records are
-- appended inside the transaction of the change they describe; audit_head is
-- the chain's last sequence number and hash, updated in the same
-- transaction. Both refuse updates and deletes through permafrost's own
-- connections (an operator with the database file can still drop the
-- triggers: that is what the hash chain and its anchors detect).
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY,
	event_time INTEGER NOT NULL,
	account_id TEXT NOT NULL,
	vault      TEXT NOT NULL,
	body       TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_time ON audit_log (event_time);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
