package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimJob leases an in-progress job to the caller by moving its due time
// from due to until, only if it is still due then: a compare-and-set that
// one node wins. Select jobs use it to run on one node at a time.
func (db *DB) ClaimJob(ctx context.Context, id string, due, until time.Time) (bool, error) {
	var claimed bool
	err := db.update(ctx, "claim job", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE jobs SET due_at = $1 WHERE id = $2 AND status = 'InProgress' AND due_at = $3`,
			until.UnixMilli(), id, due.UnixMilli())
		claimed = tag.RowsAffected() == 1
		return err
	})
	return claimed, err
}
