package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// CreateArchive inserts a with its segments (leaves included) and counts it
// in the vault's counters, with a.CreatedAt as the vault's last write.
// KindNotFound if the vault does not exist.
func (db *DB) CreateArchive(ctx context.Context, a glacier.Archive) error {
	// Statements of a group commit never see a cancellation: interrupting
	// one could end the transaction the other writes share.
	gctx, ctx := ctx, context.WithoutCancel(ctx)
	return db.group(gctx, "create archive", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, a.AccountID, a.VaultName)
		if err != nil {
			return err
		}
		if err := insertArchive(ctx, tx, vaultID, a); err != nil {
			return err
		}
		for i, s := range a.Segments {
			if _, err := tx.ExecContext(ctx, qInsertSegment,
				a.ID, i, s.BlobKey, s.Size, s.TreeHash[:], encodeLeaves(s.Leaves)); err != nil {
				return err
			}
			if s.Inline != nil {
				if err := insertInline(ctx, tx, s.BlobKey, s.Inline, time.Now()); err != nil {
					return err
				}
			}
		}
		return countWrite(ctx, tx, vaultID, 1, a.Size, a.CreatedAt)
	})
}

// insertArchive inserts the archive row, without segments.
func insertArchive(ctx context.Context, tx *txn, vaultID int64, a glacier.Archive) error {
	_, err := tx.ExecContext(ctx, qInsertArchive,
		a.ID, vaultID, millis(a.CreatedAt), a.Size, a.TreeHash[:], a.Description)
	return err
}

// countWrite adds n archives of size bytes in total (both negative for a
// deletion) to the vault's counters and records the write at time at.
func countWrite(ctx context.Context, tx *txn, vaultID int64, n, size int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, qCountWrite, n, size, millis(at), vaultID)
	return err
}

// findArchive returns the archive with its segments (without leaves) and
// its vault's row id. If vaultID is not 0 the archive must be in that
// vault. KindNotFound if there is no such archive.
func findArchive(ctx context.Context, tx *txn, id string, vaultID int64) (glacier.Archive, int64, error) {
	var a glacier.Archive
	var vid int64
	err := tx.QueryRowContext(ctx, qFindArchive, id, vaultID).
		Scan(&a.ID, &vid, &a.AccountID, &a.VaultName, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return glacier.Archive{}, 0, glacier.Errorf(glacier.KindNotFound, "archive %s not found", id)
	}
	if err != nil {
		return glacier.Archive{}, 0, err
	}

	rows, err := tx.QueryContext(ctx, qArchiveSegments, id)
	if err != nil {
		return glacier.Archive{}, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var s glacier.Segment
		if err := rows.Scan(&s.BlobKey, &s.Size, hashCol{&s.TreeHash}); err != nil {
			return glacier.Archive{}, 0, err
		}
		a.Segments = append(a.Segments, s)
	}
	return a, vid, rows.Err()
}

// GetArchive finds an archive by id in any vault, with its segments in
// order and without their leaves.
func (db *DB) GetArchive(ctx context.Context, id string) (glacier.Archive, error) {
	var a glacier.Archive
	err := db.view(ctx, "get archive", func(tx *txn) (err error) {
		a, _, err = findArchive(ctx, tx, id, 0)
		return err
	})
	return a, err
}

// ArchiveLeaves returns the archive's per-MiB leaf hashes in order: the
// concatenation of its segments' leaves.
func (db *DB) ArchiveLeaves(ctx context.Context, id string) ([]treehash.Hash, error) {
	var leaves []treehash.Hash
	err := db.view(ctx, "archive leaves", func(tx *txn) (err error) {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM archives WHERE id = ?)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return glacier.Errorf(glacier.KindNotFound, "archive %s not found", id)
		}
		leaves, err = queryLeaves(ctx, tx, `SELECT leaves FROM archive_segments WHERE archive_id = ? ORDER BY seq`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if leaves == nil {
		leaves = []treehash.Hash{}
	}
	return leaves, nil
}

// DeleteArchive removes the archive from the vault, updates the vault's
// counters and last write (now), and returns the removed archive with its
// segments. KindNotFound if the archive is not in that vault.
func (db *DB) DeleteArchive(ctx context.Context, accountID, vault, id string, now time.Time) (glacier.Archive, error) {
	var a glacier.Archive
	gctx, ctx := ctx, context.WithoutCancel(ctx) // see CreateArchive
	err := db.group(gctx, "delete archive", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		if a, _, err = findArchive(ctx, tx, id, vaultID); err != nil {
			return err
		}
		// The segments go by ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, qDeleteArchive, id); err != nil {
			return err
		}
		return countWrite(ctx, tx, vaultID, -1, -a.Size, now)
	})
	if err != nil {
		return glacier.Archive{}, err
	}
	return a, nil
}

// BlobReferenced reports whether any archive segment, part, job or
// inventory snapshot uses key.
func (db *DB) BlobReferenced(ctx context.Context, key string) (bool, error) {
	var used bool
	err := db.view(ctx, "blob referenced", func(tx *txn) (err error) {
		used, err = blobReferenced(ctx, tx, key)
		return err
	})
	return used, err
}

// blobReferenced reports whether any archive segment, part, job or
// inventory snapshot uses key.
func blobReferenced(ctx context.Context, tx *txn, key string) (bool, error) {
	var used bool
	err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM archive_segments WHERE blob_key = ?1) OR
		EXISTS (SELECT 1 FROM upload_parts WHERE blob_key = ?1) OR
		EXISTS (SELECT 1 FROM job_segments WHERE blob_key = ?1) OR
		EXISTS (SELECT 1 FROM jobs WHERE output_key = ?1 AND output_key <> '') OR
		EXISTS (SELECT 1 FROM vaults WHERE inventory_key = ?1 AND inventory_key <> '')`, key).Scan(&used)
	return used, err
}

// queryLeaves concatenates the leaf lists of a query's single BLOB column.
func queryLeaves(ctx context.Context, tx *txn, query string, args ...any) ([]treehash.Hash, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leaves []treehash.Hash
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		l, err := treehash.DecodeLeaves(b)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, l...)
	}
	return leaves, rows.Err()
}
