package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// AddBlobIntent records key before its blob is written (migration 0009's
// triggers clear it when metadata referencing the blob commits), in a
// group commit (groupcommit.go).
func (db *DB) AddBlobIntent(ctx context.Context, key string, at time.Time) error {
	return db.group(&groupWrite{ctx: ctx, op: "add blob intent", queue: func(b *pgx.Batch) {
		b.Queue(`INSERT INTO blob_intents (blob_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, key, at.UnixMilli())
	}})
}

// BlobIntents returns up to limit keys recorded before the given time,
// oldest first.
func (db *DB) BlobIntents(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var keys []string
	err := db.view(ctx, "blob intents", func(tx pgx.Tx) (err error) {
		keys, err = queryStrings(ctx, tx, `SELECT blob_key FROM blob_intents WHERE created_at < $1 ORDER BY created_at, blob_key LIMIT $2`,
			before.UnixMilli(), limitArg(limit))
		return err
	})
	return keys, err
}

// ClearBlobIntents forgets the records of keys recorded before the given
// time, in one transaction.
func (db *DB) ClearBlobIntents(ctx context.Context, keys []string, before time.Time) error {
	return db.update(ctx, "clear blob intents", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM blob_intents WHERE blob_key = ANY($1) AND created_at < $2`, keys, before.UnixMilli())
		return err
	})
}

// CountBlobIntents returns how many intents are recorded.
func (db *DB) CountBlobIntents(ctx context.Context) (int64, error) {
	var n int64
	err := db.view(ctx, "count blob intents", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM blob_intents`).Scan(&n)
	})
	return n, err
}

// SpaceUsage sums what the stored bytes are held for. Live archive bytes
// come from the vaults' counters; the other sums read only uploads, parts
// and jobs, never the archives.
func (db *DB) SpaceUsage(ctx context.Context, jobsBefore, idleBefore time.Time) (glacier.SpaceUsage, error) {
	var u glacier.SpaceUsage
	err := db.view(ctx, "space usage", func(tx pgx.Tx) error {
		var idleParts, pinnedLive, pinnedExpired, outLive, outExpired int64
		err := tx.QueryRow(ctx, `WITH pinned AS (
				SELECT js.blob_key, max(js.size) AS size, max(coalesce(j.completed_at, 0)) AS done
				FROM job_segments js JOIN jobs j ON j.id = js.job_id
				WHERE NOT EXISTS (SELECT 1 FROM archive_segments s WHERE s.blob_key = js.blob_key)
				GROUP BY js.blob_key)
			SELECT
			(SELECT coalesce(sum(size_in_bytes), 0)::bigint FROM vaults),
			(SELECT coalesce(sum(p.size), 0)::bigint FROM upload_parts p JOIN uploads u ON u.id = p.upload_id
				WHERE u.state = 0 AND coalesce(u.last_activity_at, 0) >= $1),
			(SELECT coalesce(sum(p.size), 0)::bigint FROM upload_parts p JOIN uploads u ON u.id = p.upload_id
				WHERE u.state = 0 AND coalesce(u.last_activity_at, 0) < $1),
			(SELECT coalesce(sum(size) FILTER (WHERE done >= $2), 0)::bigint FROM pinned),
			(SELECT coalesce(sum(size) FILTER (WHERE done < $2), 0)::bigint FROM pinned),
			(SELECT coalesce(sum(output_size), 0)::bigint FROM jobs WHERE output_key <> '' AND coalesce(completed_at, 0) >= $2),
			(SELECT coalesce(sum(output_size), 0)::bigint FROM jobs WHERE output_key <> '' AND status <> 'InProgress' AND coalesce(completed_at, 0) < $2)`,
			idleBefore.UnixMilli(), jobsBefore.UnixMilli()).Scan(&u.LiveArchives, &u.InFlightUploads, &idleParts, &pinnedLive, &pinnedExpired, &outLive, &outExpired)
		u.RetainedJobOutputs = pinnedLive + outLive
		u.ExpiredUnpurged = idleParts + pinnedExpired + outExpired
		return err
	})
	return u, err
}

// ArchivePage returns up to limit archives of the vault after
// (afterCreated, afterID) in order of creation then id; with afterID ""
// the page starts at the beginning. Archives without a creation time (none
// written by the service) are listed only within the first page.
// KindNotFound if no vault.
func (db *DB) ArchivePage(ctx context.Context, accountID, vault string, afterCreated time.Time, afterID string, limit int) ([]glacier.Archive, error) {
	var page []glacier.Archive
	err := db.view(ctx, "archive page", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		scan := func(s scanner) error {
			a := glacier.Archive{AccountID: accountID, VaultName: vault}
			if err := s.Scan(&a.ID, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description); err != nil {
				return err
			}
			page = append(page, a)
			return nil
		}
		if afterID == "" {
			return scanAll(ctx, tx, scan, `SELECT id, created_at, size, tree_hash, description FROM archives
				WHERE vault_id = $1 ORDER BY created_at, id LIMIT $2`, vaultID, limitArg(limit))
		}
		return scanAll(ctx, tx, scan, `SELECT id, created_at, size, tree_hash, description FROM archives
			WHERE vault_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4`,
			vaultID, afterCreated.UnixMilli(), afterID, limitArg(limit))
	})
	return page, err
}
