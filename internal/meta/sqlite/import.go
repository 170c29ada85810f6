package sqlite

import (
	"context"
	"time"
)

// TouchVault records a write to the vault at the given time unless a later
// one is recorded (permafrost import: an imported archive keeps its
// original creation date, but the vault was written now).
func (db *DB) TouchVault(ctx context.Context, accountID, vault string, at time.Time) error {
	return db.update(ctx, "touch vault", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE vaults SET last_write_at = ? WHERE id = ? AND (last_write_at IS NULL OR last_write_at < ?)`,
			millis(at), id, millis(at))
		return err
	})
}
