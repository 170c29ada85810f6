package sqlite

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.BlobIntentBatcher = (*DB)(nil)

// AddBlobIntents records keys in one write of the group commit
// (groupcommit.go): the service records the intents of the next uploads'
// keys ahead of time, a batch at a time.
func (db *DB) AddBlobIntents(ctx context.Context, keys []string, at time.Time) error {
	gctx, ctx := ctx, context.WithoutCancel(ctx) // see CreateArchive
	return db.group(gctx, "add blob intents", func(tx *txn) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, qAddIntent, k, at.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}
