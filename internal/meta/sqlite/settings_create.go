package sqlite

import "context"

// CreateSetting stores value under key only if the key is unset, and
// returns the value stored afterwards: value if this call stored it, or
// the one that was there.
func (db *DB) CreateSetting(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := db.update(ctx, "create setting", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&stored)
	})
	return stored, err
}
