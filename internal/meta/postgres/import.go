package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// TouchVault records a write to the vault at the given time unless a later
// one is recorded (permafrost import: an imported archive keeps its
// original creation date, but the vault was written now).
func (db *DB) TouchVault(ctx context.Context, accountID, vault string, at time.Time) error {
	return db.update(ctx, "touch vault", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, "")
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE vaults SET last_write_at = $1 WHERE id = $2 AND (last_write_at IS NULL OR last_write_at < $1)`,
			millis(at), id)
		return err
	})
}
