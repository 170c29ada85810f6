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
// moves with any committed change to what authorization reads — the
// account's access keys, users, vaults created or deleted, access
// policies, locks and tags — whichever connection or process commits it.
//
// When the shared change counters are mapped (sharedstamp.go), the
// authorization one answers, for every account: a generation that moves
// with every write transaction of any process except archive creations
// and deletions and blob intents, or -1 while one is in flight (never
// equal to a stamp a value was read under). Otherwise the stamps table of
// migration 0009 answers, whose triggers move with every change to the
// account, counters included; one autocommit statement, which sees every
// transaction committed before it starts.
func (db *DB) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	if db.stamp != nil {
		return db.stamp.readAuth(), nil
	}
	return db.tableStamp(ctx, accountID)
}

// DataStamp returns a stamp that moves with every committed change to the
// account, its vaults' counters and last writes included: what a cached
// vault record or vault list is checked against. With the shared counters
// mapped it is the data generation (every write of any process), else the
// stamps table.
func (db *DB) DataStamp(ctx context.Context, accountID string) (int64, error) {
	if db.stamp != nil {
		return db.stamp.read(), nil
	}
	return db.tableStamp(ctx, accountID)
}

func (db *DB) tableStamp(ctx context.Context, accountID string) (int64, error) {
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

// StampsInMemory reports whether the stamps are the mapped counters (two
// memory reads each) rather than statements.
func (db *DB) StampsInMemory() bool { return db.stamp != nil }
