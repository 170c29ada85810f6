package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// IdleUploads returns up to limit open uploads whose last activity is
// before the given time, least recently active first.
func (db *DB) IdleUploads(ctx context.Context, before time.Time, limit int) ([]glacier.Upload, error) {
	var list []glacier.Upload
	err := db.view(ctx, "idle uploads", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var u glacier.Upload
			if err := scanUpload(s, &u); err != nil {
				return err
			}
			list = append(list, u)
			return nil
		}, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.state = 0 AND u.last_activity_at < $1 ORDER BY u.last_activity_at LIMIT $2`,
			before.UnixMilli(), limitArg(limit))
	})
	return list, err
}

// touchUpload records activity on an upload at t (never moving it back).
func touchUpload(ctx context.Context, tx pgx.Tx, id string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE uploads SET last_activity_at = greatest(coalesce(last_activity_at, 0), $1) WHERE id = $2`, t.UnixMilli(), id)
	return err
}
