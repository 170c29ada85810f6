package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// The reads every request makes — authenticating its key, and loading the
// vault with its policies, lock and tags — run as statements prepared once.
// Parsing their SQL was a quarter of the CPU of a metadata request (the
// driver keeps no statement cache). They are prepared on the read pool
// when the store opens; database/sql then prepares each on every pooled
// connection the first time it runs there and keeps it. Other queries run
// as text.
const (
	qGetAccessKey = `SELECT ` + accessKeyColumns + ` FROM access_keys WHERE id = ?`
	qGetUser      = `SELECT ` + userColumns + ` FROM users WHERE account_id = ? AND name = ?`
	qFindVault    = `SELECT ` + vaultColumns + ` FROM vaults WHERE account_id = ? AND name = ?`
	qAccessPolicy = `SELECT policy FROM vault_access_policies WHERE vault_id = ?`
	qLockRecord   = `SELECT policy, state, lock_id, created_at, expires_at FROM vault_locks WHERE vault_id = ?`
	qVaultTags    = `SELECT key, value FROM vault_tags WHERE vault_id = ?`
)

var hotQueries = []string{qGetAccessKey, qGetUser, qFindVault, qAccessPolicy, qLockRecord, qVaultTags}

// The statements of the group-committed writes (archives created and
// deleted, blob intents) and of the audit record each request's write
// appends, prepared once on the writer connection: under concurrent small
// uploads the leader of a group commit runs a dozen statements per upload,
// and parsing them was most of its CPU.
const (
	qSavepoint       = `SAVEPOINT g`
	qRelease         = `RELEASE g`
	qRollbackTo      = `ROLLBACK TO g`
	qFindVaultID     = `SELECT id FROM vaults WHERE account_id = ? AND name = ?`
	qInsertArchive   = `INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description) VALUES (?, ?, ?, ?, ?, ?)`
	qInsertSegment   = `INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves) VALUES (?, ?, ?, ?, ?, ?)`
	qCountWrite      = `UPDATE vaults SET number_of_archives = number_of_archives + ?, size_in_bytes = size_in_bytes + ?, last_write_at = ? WHERE id = ?`
	qFindArchive     = `SELECT a.id, v.id, v.account_id, v.name, a.created_at, a.size, a.tree_hash, a.description FROM archives a JOIN vaults v ON v.id = a.vault_id WHERE a.id = ?1 AND (?2 = 0 OR a.vault_id = ?2)`
	qArchiveSegments = `SELECT blob_key, size, tree_hash FROM archive_segments WHERE archive_id = ? ORDER BY seq`
	qDeleteArchive   = `DELETE FROM archives WHERE id = ?`
	qAddIntent       = `INSERT OR IGNORE INTO blob_intents (blob_key, created_at) VALUES (?, ?)`
	qAuditHead       = `SELECT seq, hash FROM audit_head WHERE id = 1`
	qAuditAppend     = `INSERT INTO audit_log (seq, event_time, account_id, vault, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qAuditHeadSet    = `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`
)

var hotWrites = []string{qSavepoint, qRelease, qRollbackTo, qFindVaultID, qInsertArchive, qInsertSegment, qCountWrite,
	qFindArchive, qArchiveSegments, qDeleteArchive, qAddIntent, qAuditHead, qAuditAppend, qAuditHeadSet}

// txn is a transaction whose hot queries run as prepared statements.
type txn struct {
	*sql.Tx
	stmts map[string]*sql.Stmt // the read pool's hot queries, or the writer's
}

// prepareHot prepares queries on pool.
func prepareHot(ctx context.Context, pool *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := pool.PrepareContext(ctx, q)
		if err != nil {
			for _, s := range m {
				s.Close()
			}
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		m[q] = st
	}
	return m, nil
}

// QueryRowContext runs query as a prepared statement when it is a hot one.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// ExecContext runs query as a prepared statement when it is a hot one.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query as a prepared statement when it is a hot one.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}
