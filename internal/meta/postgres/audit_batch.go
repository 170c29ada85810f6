package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/audit"
)

// appendAudits appends recs, in order, as the chain's next records inside
// tx: appendAudit for many records in two round trips (the head locked and
// read, then every insert and the head's update in one pipeline). The
// group commit's records go this way.
func appendAudits(ctx context.Context, tx pgx.Tx, recs []*audit.Record) error {
	if len(recs) == 0 {
		return nil
	}
	var seq int64
	var prev string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	b := &pgx.Batch{}
	for _, rec := range recs {
		seq++
		body := rec.Body(seq)
		hash := audit.Hash(prev, body)
		b.Queue(`INSERT INTO audit_log (seq, event_time, account_id, vault, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			seq, rec.Event.EventTime.UnixMilli(), rec.Account(), rec.Vault(), string(body), prev, hash)
		prev = hash
	}
	b.Queue(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, prev)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}
