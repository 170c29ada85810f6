package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SwapSetting stores value under key only if the key holds old ("" also
// matching an unset key), in one statement, and reports whether it did.
// Of concurrent swaps from one value exactly one wins: a writer that waited
// for another's row lock re-checks the value the winner left.
func (db *DB) SwapSetting(ctx context.Context, key, old, value string) (bool, error) {
	var swapped bool
	err := db.update(ctx, "swap setting", func(tx pgx.Tx) error {
		q, args := `UPDATE settings SET value = $1 WHERE key = $2 AND value = $3`, []any{value, key, old}
		if old == "" {
			q, args = `INSERT INTO settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value = ''`, []any{key, value}
		}
		tag, err := tx.Exec(ctx, q, args...)
		swapped = err == nil && tag.RowsAffected() == 1
		return err
	})
	return swapped && err == nil, err
}
