package sqlite

import "context"

// SwapSetting stores value under key only if the key holds old ("" also
// matching an unset key), in one statement, and reports whether it did.
func (db *DB) SwapSetting(ctx context.Context, key, old, value string) (bool, error) {
	var swapped bool
	err := db.update(ctx, "swap setting", func(tx *txn) error {
		q, args := `UPDATE settings SET value = ? WHERE key = ? AND value = ?`, []any{value, key, old}
		if old == "" {
			q, args = `INSERT INTO settings (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value = ''`, []any{key, value}
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		swapped = n == 1
		return err
	})
	return swapped && err == nil, err
}
