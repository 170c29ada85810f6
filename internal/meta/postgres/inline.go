package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.InlineStore = (*DB)(nil)

// insertInline stores an inline blob in tx (CreateArchive's transaction,
// or PutInlineBlob's own).
func insertInline(ctx context.Context, tx pgx.Tx, key string, data []byte, at time.Time) error {
	if err := glacier.CheckInlineBlob(key, data); err != nil {
		return err
	}
	if data == nil {
		data = []byte{} // NOT NULL: an empty blob, not a NULL
	}
	_, err := tx.Exec(ctx, `INSERT INTO inline_blobs (blob_key, created_at, data) VALUES ($1, $2, $3)`, key, at.UnixMilli(), data)
	return err
}

// PutInlineBlob stores data under key as its own durable write.
// KindConflict if the key exists.
func (db *DB) PutInlineBlob(ctx context.Context, key string, data []byte, at time.Time) error {
	if err := glacier.CheckInlineBlob(key, data); err != nil {
		return err
	}
	return db.update(ctx, "put inline blob", func(tx pgx.Tx) error {
		return insertInline(ctx, tx, key, data, at)
	})
}

// GetInlineBlob returns the blob's bytes; KindNotFound if absent.
func (db *DB) GetInlineBlob(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := db.view(ctx, "get inline blob", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT data FROM inline_blobs WHERE blob_key = $1`, key).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return glacier.Errorf(glacier.KindNotFound, "blob %s not found", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// DeleteInlineBlob removes the blob; a missing blob is not an error.
func (db *DB) DeleteInlineBlob(ctx context.Context, key string) error {
	return db.update(ctx, "delete inline blob", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM inline_blobs WHERE blob_key = $1`, key)
		return err
	})
}

// InlineBlobPage returns up to limit inline blobs with keys after after,
// in byte order of key.
func (db *DB) InlineBlobPage(ctx context.Context, after string, limit int) ([]glacier.InlineBlob, error) {
	var page []glacier.InlineBlob
	err := db.view(ctx, "list inline blobs", func(tx pgx.Tx) error {
		page = page[:0]
		rows, err := tx.Query(ctx, `SELECT blob_key, created_at FROM inline_blobs WHERE blob_key > $1 ORDER BY blob_key LIMIT $2`, after, limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b glacier.InlineBlob
			if err := rows.Scan(&b.Key, timeCol{&b.CreatedAt}); err != nil {
				return err
			}
			page = append(page, b)
		}
		return rows.Err()
	})
	return page, err
}
