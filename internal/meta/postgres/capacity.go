package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// PurchaseCapacity adds a unit unless the account already holds limit
// units unexpired at c.StartDate. The account's advisory lock serializes
// the count and the insert with other purchases of the account.
func (db *DB) PurchaseCapacity(ctx context.Context, c glacier.ProvisionedCapacity, limit int) error {
	return db.update(ctx, "purchase capacity", func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, lockCapacityCount, c.AccountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM provisioned_capacity WHERE account_id = $1 AND expires_at > $2`,
			c.AccountID, c.StartDate.UnixMilli()).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return glacier.Errorf(glacier.KindLimitExceeded, "account %s holds %d provisioned capacity units, the limit is %d", c.AccountID, n, limit)
		}
		_, err := tx.Exec(ctx, `INSERT INTO provisioned_capacity (id, account_id, start_date, expires_at) VALUES ($1, $2, $3, $4)`,
			c.ID, c.AccountID, c.StartDate.UnixMilli(), c.ExpiresAt.UnixMilli())
		return err
	})
}

// ListCapacity returns the account's units unexpired at now, by start.
func (db *DB) ListCapacity(ctx context.Context, accountID string, now time.Time) ([]glacier.ProvisionedCapacity, error) {
	var list []glacier.ProvisionedCapacity
	err := db.view(ctx, "list capacity", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var c glacier.ProvisionedCapacity
			if err := s.Scan(&c.ID, &c.AccountID, timeCol{&c.StartDate}, timeCol{&c.ExpiresAt}); err != nil {
				return err
			}
			list = append(list, c)
			return nil
		}, `SELECT id, account_id, start_date, expires_at FROM provisioned_capacity
			WHERE account_id = $1 AND expires_at > $2 ORDER BY start_date, id`, accountID, now.UnixMilli())
	})
	return list, err
}
