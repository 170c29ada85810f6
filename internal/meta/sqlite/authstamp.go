package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// qAuthStamp reads an account's authorization stamp (migration 0009).
const qAuthStamp = `SELECT v FROM auth_stamps WHERE account_id = ?`

func init() { hotQueries = append(hotQueries, qAuthStamp) }

// AuthStamp returns the account's authorization stamp: a counter that
// triggers move in the same transaction as any change to the account, its
// access keys, users, vaults (counters included), vault access policies,
// locks and tags, whichever connection or process commits it. 0 when the
// account never changed since the migration. One autocommit statement: it
// sees every transaction committed before it starts.
//
// When the shared change counter is mapped (sharedstamp.go), it answers
// instead, for every account: a generation that moves with every write
// transaction of any process, or -1 while one is in flight (never equal
// to a stamp a value was read under).
func (db *DB) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	if db.stamp != nil {
		return db.stamp.read(), nil
	}
	var v int64
	err := db.hot[qAuthStamp].QueryRowContext(ctx, accountID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, classify("auth stamp", err)
	}
	return v, nil
}
