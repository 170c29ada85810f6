package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/permafrost/permafrost/internal/glacier"
)

// AuthStamp returns the account's authorization stamp: a counter that
// triggers move in the same transaction as any change to the account, its
// access keys, users, vaults (counters included), vault access policies,
// locks and tags, on whichever node commits it (migration 0009). 0 when
// the account never changed since the migration. One statement, one round
// trip, outside any transaction: it sees every commit made before it.
func (db *DB) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	if db.closed.Load() {
		return 0, glacier.Errorf(glacier.KindInternal, "postgres: auth stamp: the store is closed")
	}
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT v FROM auth_stamps WHERE account_id = $1`, accountID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, classifyCtx(ctx, "auth stamp", err)
	}
	return v, nil
}
