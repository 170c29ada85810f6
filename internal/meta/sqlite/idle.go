package sqlite

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// IdleUploads returns up to limit open uploads whose last activity is
// before the given time, least recently active first.
func (db *DB) IdleUploads(ctx context.Context, before time.Time, limit int) ([]glacier.Upload, error) {
	var list []glacier.Upload
	err := db.view(ctx, "idle uploads", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.state = 0 AND u.last_activity_at < ? ORDER BY u.last_activity_at LIMIT ?`,
			before.UnixMilli(), limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u glacier.Upload
			if err := scanUpload(rows, &u); err != nil {
				return err
			}
			list = append(list, u)
		}
		return rows.Err()
	})
	return list, err
}

// touchUpload records activity on an upload at t (never moving it back).
func touchUpload(ctx context.Context, tx *txn, id string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE uploads SET last_activity_at = max(coalesce(last_activity_at, 0), ?) WHERE id = ?`, t.UnixMilli(), id)
	return err
}
