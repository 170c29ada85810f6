package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

// GetImportProgress returns one value of an import's progress ("" when
// none).
func (db *DB) GetImportProgress(ctx context.Context, importKey, name string) (string, error) {
	var value string
	err := db.view(ctx, "get import progress", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM import_progress WHERE import_key = ? AND name = ?`, importKey, name).Scan(&value)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return value, err
}

// PutImportProgress stores one value of an import's progress; "" removes
// it.
func (db *DB) PutImportProgress(ctx context.Context, importKey, name, value string) error {
	return db.update(ctx, "put import progress", func(tx *txn) error {
		if value == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM import_progress WHERE import_key = ? AND name = ?`, importKey, name)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO import_progress (import_key, name, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (import_key, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			importKey, name, value, time.Now().UnixMilli())
		return err
	})
}

// ClearImportProgress removes everything an import recorded.
func (db *DB) ClearImportProgress(ctx context.Context, importKey string) error {
	return db.update(ctx, "clear import progress", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM import_progress WHERE import_key = ?`, importKey)
		return err
	})
}
