package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// CreateArchive inserts a with its segments (leaves included) and counts it
// in the vault's counters, with a.CreatedAt as the vault's last write.
// KindNotFound if the vault does not exist. It goes through the group
// commit (groupcommit.go): its transaction is shared with concurrent
// archive creations of this node.
func (db *DB) CreateArchive(ctx context.Context, a glacier.Archive) error {
	n := len(a.Segments)
	keys, sizes := make([]string, n), make([]int64, n)
	hashes, leaves := make([][]byte, n), make([][]byte, n)
	for i, s := range a.Segments {
		keys[i], sizes[i], hashes[i], leaves[i] = s.BlobKey, s.Size, s.TreeHash[:], encodeLeaves(s.Leaves)
		if s.Inline != nil {
			if err := glacier.CheckInlineBlob(s.BlobKey, s.Inline); err != nil {
				return err
			}
		}
	}
	return db.group(&groupWrite{
		ctx: ctx, op: "create archive",
		account: a.AccountID, vault: a.VaultName,
		n: 1, size: a.Size, at: a.CreatedAt,
		queue: func(b *pgx.Batch) {
			// The vault row is locked (groupcommit.go): the subquery finds
			// it, or NULL (refused) when the vault is missing.
			b.Queue(`INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description)
				VALUES ($1, (SELECT id FROM vaults WHERE account_id = $2 AND name = $3), $4, $5, $6, $7)`,
				a.ID, a.AccountID, a.VaultName, millis(a.CreatedAt), a.Size, a.TreeHash[:], a.Description)
			if n > 0 {
				b.Queue(`INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves)
					SELECT $1, s.ord - 1, s.blob_key, s.size, s.tree_hash, s.leaves
					FROM unnest($2::text[], $3::bigint[], $4::bytea[], $5::bytea[])
						WITH ORDINALITY AS s (blob_key, size, tree_hash, leaves, ord)`,
					a.ID, keys, sizes, hashes, leaves)
			}
			now := time.Now().UnixMilli()
			for _, s := range a.Segments {
				if s.Inline != nil {
					b.Queue(`INSERT INTO inline_blobs (blob_key, created_at, data) VALUES ($1, $2, $3)`, s.BlobKey, now, s.Inline)
				}
			}
		},
	})
}

// insertArchive inserts the archive row, without segments.
func insertArchive(ctx context.Context, tx pgx.Tx, vaultID int64, a glacier.Archive) error {
	_, err := tx.Exec(ctx, `INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, vaultID, millis(a.CreatedAt), a.Size, a.TreeHash[:], a.Description)
	return err
}

// countWrite adds n archives of size bytes in total (both negative for a
// deletion) to the vault's counters and records the write at time at.
func countWrite(ctx context.Context, tx pgx.Tx, vaultID int64, n, size int64, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE vaults SET
		number_of_archives = number_of_archives + $1,
		size_in_bytes = size_in_bytes + $2,
		last_write_at = $3
		WHERE id = $4`, n, size, millis(at), vaultID)
	return err
}

// findArchive returns the archive with its segments (without leaves) and
// its vault's row id. If vaultID is not 0 the archive must be in that
// vault. KindNotFound if there is no such archive.
func findArchive(ctx context.Context, tx pgx.Tx, id string, vaultID int64) (glacier.Archive, int64, error) {
	var a glacier.Archive
	var vid int64
	err := tx.QueryRow(ctx, `SELECT a.id, v.id, v.account_id, v.name, a.created_at, a.size, a.tree_hash, a.description
		FROM archives a JOIN vaults v ON v.id = a.vault_id
		WHERE a.id = $1 AND ($2::bigint = 0 OR a.vault_id = $2)`, id, vaultID).
		Scan(&a.ID, &vid, &a.AccountID, &a.VaultName, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description)
	if errNotFound(err) {
		return glacier.Archive{}, 0, glacier.Errorf(glacier.KindNotFound, "archive %s not found", id)
	}
	if err != nil {
		return glacier.Archive{}, 0, err
	}
	a.Segments, err = querySegments(ctx, tx, `SELECT blob_key, size, tree_hash FROM archive_segments
		WHERE archive_id = $1 ORDER BY seq`, id)
	return a, vid, err
}

// querySegments returns segments (blob key, size, tree hash; no leaves).
func querySegments(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]glacier.Segment, error) {
	var list []glacier.Segment
	err := scanAll(ctx, tx, func(s scanner) error {
		var seg glacier.Segment
		if err := s.Scan(&seg.BlobKey, &seg.Size, hashCol{&seg.TreeHash}); err != nil {
			return err
		}
		list = append(list, seg)
		return nil
	}, query, args...)
	return list, err
}

// GetArchive finds an archive by id in any vault, with its segments in
// order and without their leaves.
func (db *DB) GetArchive(ctx context.Context, id string) (glacier.Archive, error) {
	var a glacier.Archive
	err := db.view(ctx, "get archive", func(tx pgx.Tx) (err error) {
		a, _, err = findArchive(ctx, tx, id, 0)
		return err
	})
	return a, err
}

// ArchiveLeaves returns the archive's per-MiB leaf hashes in order: the
// concatenation of its segments' leaves.
func (db *DB) ArchiveLeaves(ctx context.Context, id string) ([]treehash.Hash, error) {
	var leaves []treehash.Hash
	err := db.view(ctx, "archive leaves", func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM archives WHERE id = $1)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return glacier.Errorf(glacier.KindNotFound, "archive %s not found", id)
		}
		var err error
		leaves, err = queryLeaves(ctx, tx, `SELECT leaves FROM archive_segments WHERE archive_id = $1 ORDER BY seq`, id)
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
// segments. KindNotFound if the archive is not in that vault. The vault
// row's lock serializes it with the vault's other archive changes; the
// DELETE waits for a FinishJob pinning the archive's segments.
func (db *DB) DeleteArchive(ctx context.Context, accountID, vault, id string, now time.Time) (glacier.Archive, error) {
	var a glacier.Archive
	err := db.update(ctx, "delete archive", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, ownVault)
		if err != nil {
			return err
		}
		if a, _, err = findArchive(ctx, tx, id, vaultID); err != nil {
			return err
		}
		// The segments go by ON DELETE CASCADE.
		tag, err := tx.Exec(ctx, `DELETE FROM archives WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return glacier.Errorf(glacier.KindNotFound, "archive %s not found", id)
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
	err := db.view(ctx, "blob referenced", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT `+blobUsed, key).Scan(&used)
	})
	return used, err
}

// blobUsed is the condition that blob key $1 is referenced.
const blobUsed = `
	EXISTS (SELECT 1 FROM archive_segments WHERE blob_key = $1) OR
	EXISTS (SELECT 1 FROM upload_parts WHERE blob_key = $1) OR
	EXISTS (SELECT 1 FROM job_segments WHERE blob_key = $1) OR
	EXISTS (SELECT 1 FROM jobs WHERE output_key = $1 AND output_key <> '') OR
	EXISTS (SELECT 1 FROM vaults WHERE inventory_key = $1 AND inventory_key <> '')`
