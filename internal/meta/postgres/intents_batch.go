package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.BlobIntentBatcher = (*DB)(nil)

// AddBlobIntents records keys in one statement: the service records the
// intents of the next uploads' keys ahead of time, a batch at a time. In a
// group commit (groupcommit.go).
func (db *DB) AddBlobIntents(ctx context.Context, keys []string, at time.Time) error {
	return db.group(&groupWrite{ctx: ctx, op: "add blob intents", queue: func(b *pgx.Batch) {
		b.Queue(`INSERT INTO blob_intents (blob_key, created_at) SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING`, keys, at.UnixMilli())
	}})
}
