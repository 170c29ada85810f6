package sqlite

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// PurchaseCapacity adds a unit unless the account already holds limit
// units unexpired at c.StartDate.
func (db *DB) PurchaseCapacity(ctx context.Context, c glacier.ProvisionedCapacity, limit int) error {
	return db.update(ctx, "purchase capacity", func(tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM provisioned_capacity WHERE account_id = ? AND expires_at > ?`,
			c.AccountID, c.StartDate.UnixMilli()).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return glacier.Errorf(glacier.KindLimitExceeded, "account %s holds %d provisioned capacity units, the limit is %d", c.AccountID, n, limit)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO provisioned_capacity (id, account_id, start_date, expires_at) VALUES (?, ?, ?, ?)`,
			c.ID, c.AccountID, c.StartDate.UnixMilli(), c.ExpiresAt.UnixMilli())
		return err
	})
}

// ListCapacity returns the account's units unexpired at now, by start.
func (db *DB) ListCapacity(ctx context.Context, accountID string, now time.Time) ([]glacier.ProvisionedCapacity, error) {
	var list []glacier.ProvisionedCapacity
	err := db.view(ctx, "list capacity", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, account_id, start_date, expires_at FROM provisioned_capacity
			WHERE account_id = ? AND expires_at > ? ORDER BY start_date, id`, accountID, now.UnixMilli())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c glacier.ProvisionedCapacity
			if err := rows.Scan(&c.ID, &c.AccountID, timeCol{&c.StartDate}, timeCol{&c.ExpiresAt}); err != nil {
				return err
			}
			list = append(list, c)
		}
		return rows.Err()
	})
	return list, err
}

// DueNotifications returns up to limit queued notifications due at now,
// oldest first.
func (db *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]glacier.Notification, error) {
	var list []glacier.Notification
	err := db.view(ctx, "due notifications", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, topic_arn, subject, message, created_at, attempts, next_attempt_at, last_error
			FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?`, now.UnixMilli(), limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n glacier.Notification
			if err := rows.Scan(&n.ID, &n.TopicARN, &n.Subject, &n.Message, timeCol{&n.CreatedAt}, &n.Attempts,
				timeCol{&n.NextAttemptAt}, &n.LastError); err != nil {
				return err
			}
			list = append(list, n)
		}
		return rows.Err()
	})
	return list, err
}

// NotificationDelivered removes a delivered notification.
func (db *DB) NotificationDelivered(ctx context.Context, id string) error {
	return db.update(ctx, "notification delivered", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id)
		return err
	})
}

// NotificationFailed records a failed delivery attempt.
func (db *DB) NotificationFailed(ctx context.Context, id string, next time.Time, msg string) error {
	return db.update(ctx, "notification failed", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`,
			next.UnixMilli(), msg, id)
		return err
	})
}
