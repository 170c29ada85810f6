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

// txn is a transaction whose hot queries run as prepared statements.
type txn struct {
	*sql.Tx
	stmts map[string]*sql.Stmt // nil for write transactions
}

// prepareHot prepares the hot queries on pool.
func prepareHot(ctx context.Context, pool *sql.DB) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
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

// QueryContext runs query as a prepared statement when it is a hot one.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}
