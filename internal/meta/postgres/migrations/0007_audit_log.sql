-- 0007_audit_log: the tamper-evident audit log (internal/audit). Records are
-- appended inside the transaction of the change they describe. audit_head
-- is the chain's last sequence number and hash: a transaction appending a
-- record locks its one row (SELECT … FOR UPDATE) as its last statement, so
-- appends from all nodes are serialized into one chain. audit_log refuses
-- updates, deletes and truncation through ordinary statements.
CREATE TABLE audit_log (
	seq        bigint PRIMARY KEY,
	event_time bigint NOT NULL,
	account_id text COLLATE "C" NOT NULL,
	vault      text COLLATE "C" NOT NULL,
	body       text NOT NULL,
	prev_hash  text NOT NULL,
	hash       text NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (event_time);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_append_only_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TABLE audit_head (
	id   smallint PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
