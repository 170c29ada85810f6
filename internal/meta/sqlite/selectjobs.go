package sqlite

import (
	"context"
	"time"
)

// ClaimJob leases an in-progress job to the caller by moving its due time
// from due to until, only if it is still due then: a compare-and-set that
// one caller wins. Select jobs use it to run on one node at a time.
func (db *DB) ClaimJob(ctx context.Context, id string, due, until time.Time) (bool, error) {
	var claimed bool
	err := db.update(ctx, "claim job", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET due_at = ? WHERE id = ? AND status = 'InProgress' AND due_at = ?`,
			until.UnixMilli(), id, due.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}
