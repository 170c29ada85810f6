package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/permafrost/permafrost/internal/glacier"
)

// Stamps returns the account's two stamps, read together by one statement
// (one round trip, outside any transaction: it sees every commit made
// before it), from the account's row of auth_stamps, which triggers move
// in the same transaction as the change, on whichever node commits it:
//
//   - auth (column a, migration 0012) moves with any change to the
//     account, its access keys, users, vaults created or deleted (or
//     changed otherwise than in their counters), vault access policies,
//     locks and tags;
//   - data (column v, migration 0010) moves with all of those and with a
//     vault's counters and last write (archives created and deleted).
//
// Both 0 when the account never changed since the migrations.
func (db *DB) Stamps(ctx context.Context, accountID string) (auth, data int64, err error) {
	if db.closed.Load() {
		return 0, 0, glacier.Errorf(glacier.KindInternal, "postgres: auth stamp: the store is closed")
	}
	err = db.pool.QueryRow(ctx, `SELECT a, v FROM auth_stamps WHERE account_id = $1`, accountID).Scan(&auth, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, classifyCtx(ctx, "auth stamp", err)
	}
	return auth, data, nil
}

// AuthStamp returns the account's authorization stamp (see Stamps): an
// upload does not move it.
func (db *DB) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	a, _, err := db.Stamps(ctx, accountID)
	return a, err
}

// DataStamp returns the account's data stamp (see Stamps): it moves with
// every change AuthStamp moves with and with the vaults' counters.
func (db *DB) DataStamp(ctx context.Context, accountID string) (int64, error) {
	_, d, err := db.Stamps(ctx, accountID)
	return d, err
}
