package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
)

var _ audit.Log = (*DB)(nil)

// appendAudit appends rec to the audit log inside tx as the chain's next
// record. The single writer connection serializes it with every other
// write.
func appendAudit(ctx context.Context, tx *txn, rec *audit.Record) error {
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, qAuditHead).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq++
	body := rec.Body(seq)
	hash := audit.Hash(prev, body)
	if _, err := tx.ExecContext(ctx, qAuditAppend,
		seq, rec.Event.EventTime.UnixMilli(), rec.Account(), rec.Vault(), string(body), prev, hash); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	if _, err := tx.ExecContext(ctx, qAuditHeadSet, seq, hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// AppendAudit appends rec in a transaction of its own, unless it is
// already in the log.
func (db *DB) AppendAudit(ctx context.Context, rec *audit.Record) error {
	if rec == nil || rec.Appended() {
		return nil
	}
	return db.update(audit.WithRecord(ctx, rec), "append audit record", func(*txn) error { return nil })
}

// AuditHead returns the chain head.
func (db *DB) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := db.view(ctx, "audit head", func(tx *txn) error {
		return tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	})
	return h, err
}

// ScanAudit calls fn for every record with seq >= from, in order, a page
// at a time (so fn may take its time without holding a transaction open).
func (db *DB) ScanAudit(ctx context.Context, from int64, fn func(audit.Stored) error) error {
	const page = 1000
	for {
		var batch []audit.Stored
		err := db.view(ctx, "scan audit log", func(tx *txn) error {
			rows, err := tx.QueryContext(ctx, `SELECT seq, event_time, account_id, vault, body, prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, page)
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
