package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CreateSetting stores value under key only if the key is unset, and
// returns the value stored afterwards: value if this call stored it, or
// the one that was there. Nodes racing to create the same setting (the
// notification signing key at first use) all end up with one value.
func (db *DB) CreateSetting(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := db.update(ctx, "create setting", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&stored)
	})
	return stored, err
}
