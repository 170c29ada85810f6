package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.InlineStore = (*DB)(nil)

// The statements of inline blobs, prepared once like the other hot ones
// (stmts.go): an inline upload's insert runs in the group commit, its read
// on every retrieval.
const (
	qInsertInline = `INSERT INTO inline_blobs (blob_key, created_at, data) VALUES (?, ?, ?)`
	qGetInline    = `SELECT data FROM inline_blobs WHERE blob_key = ?`
	qDeleteInline = `DELETE FROM inline_blobs WHERE blob_key = ?`
)

func init() {
	hotWrites = append(hotWrites, qInsertInline, qDeleteInline)
	hotQueries = append(hotQueries, qGetInline)
}

// insertInline stores an inline blob in tx (CreateArchive's transaction,
// or PutInlineBlob's own).
func insertInline(ctx context.Context, tx *txn, key string, data []byte, at time.Time) error {
	if err := glacier.CheckInlineBlob(key, data); err != nil {
		return err
	}
	if data == nil {
		data = []byte{} // NOT NULL: an empty blob, not a NULL
	}
	_, err := tx.ExecContext(ctx, qInsertInline, key, at.UnixMilli(), data)
	return err
}

// PutInlineBlob stores data under key as its own durable write (a group
// commit: it changes nothing authorization reads). KindConflict if the
// key exists.
func (db *DB) PutInlineBlob(ctx context.Context, key string, data []byte, at time.Time) error {
	if err := glacier.CheckInlineBlob(key, data); err != nil {
		return err
	}
	// A blob write, not the request's change: the request's audit record
	// commits with its metadata (as recordIntent's).
	ctx = audit.Detach(ctx)
	gctx, ctx := ctx, context.WithoutCancel(ctx) // see CreateArchive
	return db.group(gctx, "put inline blob", func(tx *txn) error {
		return insertInline(ctx, tx, key, data, at)
	})
}

// GetInlineBlob returns the blob's bytes; KindNotFound if absent.
func (db *DB) GetInlineBlob(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := db.view(ctx, "get inline blob", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, qGetInline, key).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
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
	ctx = audit.Detach(ctx)                      // as PutInlineBlob
	gctx, ctx := ctx, context.WithoutCancel(ctx) // see CreateArchive
	return db.group(gctx, "delete inline blob", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, qDeleteInline, key)
		return err
	})
}

// InlineBlobPage returns up to limit inline blobs with keys after after,
// in byte order of key.
func (db *DB) InlineBlobPage(ctx context.Context, after string, limit int) ([]glacier.InlineBlob, error) {
	var page []glacier.InlineBlob
	err := db.view(ctx, "list inline blobs", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT blob_key, created_at FROM inline_blobs WHERE blob_key > ? ORDER BY blob_key LIMIT ?`, after, limitArg(limit))
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
