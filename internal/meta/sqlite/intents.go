package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// AddBlobIntent records key before its blob is written (migration 0009's
// triggers clear it when metadata referencing the blob commits). It shares
// the group commit (groupcommit.go) with the other uploads' intents and
// archive rows: under concurrent small uploads one WAL fsync makes many
// intents durable, instead of one serialized commit each.
func (db *DB) AddBlobIntent(ctx context.Context, key string, at time.Time) error {
	gctx, ctx := ctx, context.WithoutCancel(ctx) // see CreateArchive
	return db.group(gctx, "add blob intent", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, qAddIntent, key, at.UnixMilli())
		return err
	})
}

// BlobIntents returns up to limit keys recorded before the given time,
// oldest first.
func (db *DB) BlobIntents(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var keys []string
	err := db.view(ctx, "blob intents", func(tx *txn) (err error) {
		keys, err = queryStrings(ctx, tx, `SELECT blob_key FROM blob_intents WHERE created_at < ? ORDER BY created_at, blob_key LIMIT ?`,
			before.UnixMilli(), limitArg(limit))
		return err
	})
	return keys, err
}

// ClearBlobIntents forgets the records of keys recorded before the given
// time, in one transaction.
func (db *DB) ClearBlobIntents(ctx context.Context, keys []string, before time.Time) error {
	return db.update(ctx, "clear blob intents", func(tx *txn) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM blob_intents WHERE blob_key = ? AND created_at < ?`, k, before.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountBlobIntents returns how many intents are recorded.
func (db *DB) CountBlobIntents(ctx context.Context) (int64, error) {
	var n int64
	err := db.view(ctx, "count blob intents", func(tx *txn) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM blob_intents`).Scan(&n)
	})
	return n, err
}

// SpaceUsage sums what the stored bytes are held for. Live archive bytes
// come from the vaults' counters; the other sums read only uploads, parts
// and jobs, never the archives.
func (db *DB) SpaceUsage(ctx context.Context, jobsBefore, idleBefore time.Time) (glacier.SpaceUsage, error) {
	var u glacier.SpaceUsage
	err := db.view(ctx, "space usage", func(tx *txn) error {
		var idleParts, pinnedLive, pinnedExpired, outLive, outExpired int64
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT coalesce(sum(size_in_bytes), 0) FROM vaults),
			(SELECT coalesce(sum(p.size), 0) FROM upload_parts p JOIN uploads u ON u.id = p.upload_id
				WHERE u.state = 0 AND coalesce(u.last_activity_at, 0) >= ?1),
			(SELECT coalesce(sum(p.size), 0) FROM upload_parts p JOIN uploads u ON u.id = p.upload_id
				WHERE u.state = 0 AND coalesce(u.last_activity_at, 0) < ?1),
			(SELECT coalesce(sum(CASE WHEN done >= ?2 THEN size ELSE 0 END), 0) FROM (
				SELECT js.blob_key, max(js.size) AS size, max(coalesce(j.completed_at, 0)) AS done
				FROM job_segments js JOIN jobs j ON j.id = js.job_id
				WHERE NOT EXISTS (SELECT 1 FROM archive_segments s WHERE s.blob_key = js.blob_key)
				GROUP BY js.blob_key)),
			(SELECT coalesce(sum(CASE WHEN done < ?2 THEN size ELSE 0 END), 0) FROM (
				SELECT js.blob_key, max(js.size) AS size, max(coalesce(j.completed_at, 0)) AS done
				FROM job_segments js JOIN jobs j ON j.id = js.job_id
				WHERE NOT EXISTS (SELECT 1 FROM archive_segments s WHERE s.blob_key = js.blob_key)
				GROUP BY js.blob_key)),
			(SELECT coalesce(sum(output_size), 0) FROM jobs WHERE output_key <> '' AND coalesce(completed_at, 0) >= ?2),
			(SELECT coalesce(sum(output_size), 0) FROM jobs WHERE output_key <> '' AND status <> 'InProgress' AND coalesce(completed_at, 0) < ?2)`,
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
	err := db.view(ctx, "archive page", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		var rows *sql.Rows
		if afterID == "" {
			rows, err = tx.QueryContext(ctx, `SELECT id, created_at, size, tree_hash, description FROM archives
				WHERE vault_id = ? ORDER BY created_at, id LIMIT ?`, vaultID, limitArg(limit))
		} else {
			rows, err = tx.QueryContext(ctx, `SELECT id, created_at, size, tree_hash, description FROM archives
				WHERE vault_id = ? AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`,
				vaultID, afterCreated.UnixMilli(), afterID, limitArg(limit))
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := glacier.Archive{AccountID: accountID, VaultName: vault}
			if err := rows.Scan(&a.ID, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description); err != nil {
				return err
			}
			page = append(page, a)
		}
		return rows.Err()
	})
	return page, err
}
