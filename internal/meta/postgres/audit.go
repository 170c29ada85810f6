package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/audit"
)

var _ audit.Log = (*DB)(nil)

// appendAudit appends rec to the audit log inside tx as the chain's next
// record. Locking audit_head's row serializes appends from every node into
// one chain; it runs as the transaction's last statement, so the row is
// held only for the commit.
func appendAudit(ctx context.Context, tx pgx.Tx, rec *audit.Record) error {
	var seq int64
	var prev string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq++
	body := rec.Body(seq)
	hash := audit.Hash(prev, body)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO audit_log (seq, event_time, account_id, vault, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		seq, rec.Event.EventTime.UnixMilli(), rec.Account(), rec.Vault(), string(body), prev, hash)
	b.Queue(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, hash)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// AppendAudit appends rec in a transaction of its own, unless it is
// already in the log.
func (db *DB) AppendAudit(ctx context.Context, rec *audit.Record) error {
	if rec == nil || rec.Appended() {
		return nil
	}
	return db.update(audit.WithRecord(ctx, rec), "append audit record", func(pgx.Tx) error { return nil })
}

// AuditHead returns the chain head.
func (db *DB) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := db.view(ctx, "audit head", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	})
	return h, err
}

// ScanAudit calls fn for every record with seq >= from, in order, a page
// at a time.
func (db *DB) ScanAudit(ctx context.Context, from int64, fn func(audit.Stored) error) error {
	const page = 1000
	for {
		var batch []audit.Stored
		err := db.view(ctx, "scan audit log", func(tx pgx.Tx) error {
			batch = batch[:0]
			rows, err := tx.Query(ctx, `SELECT seq, event_time, account_id, vault, body, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, page)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s audit.Stored
				var ms int64
				var body string
				if err := rows.Scan(&s.Seq, &ms, &s.AccountID, &s.Vault, &body, &s.PrevHash, &s.Hash); err != nil {
					return err
				}
				s.Time, s.Body = time.UnixMilli(ms).UTC(), []byte(body)
				batch = append(batch, s)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, s := range batch {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		from = batch[len(batch)-1].Seq + 1
	}
}
