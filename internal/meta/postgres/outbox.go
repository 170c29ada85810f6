package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// notificationLease is how far DueNotifications moves the next attempt of
// the notifications it returns: the time the caller has to deliver them and
// report the outcome before another node may try them too.
const notificationLease = 60 * time.Second

// DueNotifications returns up to limit queued notifications due at now,
// oldest first, and claims them: in the same statement their next attempt
// moves to now + notificationLease, and rows another node is claiming at
// that moment are skipped (FOR UPDATE SKIP LOCKED). The notifications come
// back as they were before the claim. NotificationDelivered or
// NotificationFailed settles a claimed notification; one the caller drops
// is tried again when the lease ends.
func (db *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]glacier.Notification, error) {
	var list []glacier.Notification
	err := db.update(ctx, "due notifications", func(tx pgx.Tx) error {
		list = nil
		return scanAll(ctx, tx, func(s scanner) error {
			var n glacier.Notification
			var attempts int32
			if err := s.Scan(&n.ID, &n.TopicARN, &n.Subject, &n.Message, timeCol{&n.CreatedAt}, &attempts,
				timeCol{&n.NextAttemptAt}, &n.LastError); err != nil {
				return err
			}
			n.Attempts = int(attempts)
			list = append(list, n)
			return nil
		}, `WITH due AS (
				SELECT id, next_attempt_at FROM outbox WHERE next_attempt_at <= $1
				ORDER BY next_attempt_at, created_at, id LIMIT $2
				FOR UPDATE SKIP LOCKED
			)
			UPDATE outbox o SET next_attempt_at = $3 FROM due WHERE o.id = due.id
			RETURNING o.id, o.topic_arn, o.subject, o.message, o.created_at, o.attempts, due.next_attempt_at, o.last_error`,
			now.UnixMilli(), limitArg(limit), now.Add(notificationLease).UnixMilli())
	})
	if err != nil {
		return nil, err
	}
	// RETURNING keeps no order.
	slices.SortFunc(list, func(a, b glacier.Notification) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return list, nil
}

// NotificationDelivered removes a delivered notification; removing one
// that is already gone is not an error.
func (db *DB) NotificationDelivered(ctx context.Context, id string) error {
	return db.update(ctx, "notification delivered", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, id)
		return err
	})
}

// NotificationFailed records a failed delivery attempt.
func (db *DB) NotificationFailed(ctx context.Context, id string, next time.Time, msg string) error {
	return db.update(ctx, "notification failed", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3`,
			next.UnixMilli(), msg, id)
		return err
	})
}
