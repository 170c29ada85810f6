package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

const jobColumns = `id, account_id, action, description, sns_topic, tier, created_at, due_at, completed_at, status,
	status_message, archive_id, archive_size, archive_tree_hash, archive_description, range_start, range_end,
	range_tree_hash, format, start_date, end_date, lim, marker, next_marker, output_key, output_size, inventory_date,
	select_params`

// qualifiedJobColumns is jobColumns prefixed with the table alias j.
var qualifiedJobColumns = func() string {
	cols := strings.Split(jobColumns, ",")
	for i, c := range cols {
		cols[i] = "j." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// optHashCol scans a nullable 32-byte BLOB into a *Hash (nil for NULL).
type optHashCol struct{ h **treehash.Hash }

func (c optHashCol) Scan(v any) error {
	if v == nil {
		*c.h = nil
		return nil
	}
	var h treehash.Hash
	if err := (hashCol{&h}).Scan(v); err != nil {
		return err
	}
	*c.h = &h
	return nil
}

// optHash is the column value of a *Hash.
func optHash(h *treehash.Hash) any {
	if h == nil {
		return nil
	}
	return h[:]
}

// zeroableHashCol scans a nullable hash into a Hash (zero for NULL).
type zeroableHashCol struct{ h *treehash.Hash }

func (c zeroableHashCol) Scan(v any) error {
	if v == nil {
		*c.h = treehash.Hash{}
		return nil
	}
	return hashCol(c).Scan(v)
}

func scanJob(s interface{ Scan(...any) error }, j *glacier.Job) error {
	var action, status, sel string
	err := s.Scan(&j.ID, &j.AccountID, &action, &j.Description, &j.SNSTopic, &j.Tier, timeCol{&j.CreatedAt},
		timeCol{&j.DueAt}, timeCol{&j.CompletedAt}, &status, &j.StatusMessage, &j.ArchiveID, &j.ArchiveSize,
		zeroableHashCol{&j.ArchiveTreeHash}, &j.ArchiveDescription, &j.RangeStart, &j.RangeEnd,
		optHashCol{&j.RangeTreeHash}, &j.Format, timeCol{&j.StartDate}, timeCol{&j.EndDate}, &j.Limit, &j.Marker,
		&j.NextMarker, &j.OutputKey, &j.OutputSize, timeCol{&j.InventoryDate}, &sel)
	j.Action, j.Status = glacier.JobAction(action), glacier.JobStatus(status)
	if err == nil {
		j.Select, err = glacier.DecodeSelectJob(sel)
	}
	return err
}

// CreateJob inserts an in-progress job; KindNotFound if no vault.
func (db *DB) CreateJob(ctx context.Context, j glacier.Job) error {
	return db.update(ctx, "create job", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, j.AccountID, j.VaultName)
		if err != nil {
			return err
		}
		return insertJob(ctx, tx, vaultID, j)
	})
}

// insertJob inserts j into the vault of row id vaultID.
func insertJob(ctx context.Context, tx *txn, vaultID int64, j glacier.Job) error {
	var treeHash any
	if j.Action == glacier.ArchiveRetrieval {
		treeHash = j.ArchiveTreeHash[:]
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (vault_id, `+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		vaultID, j.ID, j.AccountID, string(j.Action), j.Description, j.SNSTopic, j.Tier, millis(j.CreatedAt),
		millis(j.DueAt), millis(j.CompletedAt), string(j.Status), j.StatusMessage, j.ArchiveID, j.ArchiveSize,
		treeHash, j.ArchiveDescription, j.RangeStart, j.RangeEnd, optHash(j.RangeTreeHash), j.Format,
		millis(j.StartDate), millis(j.EndDate), j.Limit, j.Marker, j.NextMarker, j.OutputKey, j.OutputSize,
		millis(j.InventoryDate), glacier.EncodeSelectJob(j.Select))
	return err
}

// GetJob returns a job of the vault with its pinned segments.
func (db *DB) GetJob(ctx context.Context, accountID, vault, id string) (glacier.Job, error) {
	var j glacier.Job
	err := db.view(ctx, "get job", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		err = scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ? AND vault_id = ?`, id, vaultID), &j)
		if errors.Is(err, sql.ErrNoRows) {
			return glacier.Errorf(glacier.KindNotFound, "job %s not found", id)
		}
		if err != nil {
			return err
		}
		j.VaultName = vault
		rows, err := tx.QueryContext(ctx, `SELECT blob_key, size, tree_hash FROM job_segments WHERE job_id = ? ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s glacier.Segment
			if err := rows.Scan(&s.BlobKey, &s.Size, hashCol{&s.TreeHash}); err != nil {
				return err
			}
			j.Segments = append(j.Segments, s)
		}
		return rows.Err()
	})
	return j, err
}

// JobLeaves returns the leaf hashes of the job's pinned segments in order.
func (db *DB) JobLeaves(ctx context.Context, id string) ([]treehash.Hash, error) {
	var leaves []treehash.Hash
	err := db.view(ctx, "job leaves", func(tx *txn) (err error) {
		leaves, err = queryLeaves(ctx, tx, `SELECT leaves FROM job_segments WHERE job_id = ? ORDER BY seq`, id)
		return err
	})
	return leaves, err
}

// ListJobs returns at most limit jobs of the vault matching f, in order of
// creation then id, from job from on.
func (db *DB) ListJobs(ctx context.Context, accountID, vault string, f glacier.JobFilter, from string, limit int) ([]glacier.Job, error) {
	var list []glacier.Job
	err := db.view(ctx, "list jobs", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		var fromCreated int64 = -1 << 62
		if from != "" {
			err := tx.QueryRowContext(ctx, `SELECT created_at FROM jobs WHERE id = ? AND vault_id = ?`, from, vaultID).Scan(&fromCreated)
			if errors.Is(err, sql.ErrNoRows) {
				return glacier.Errorf(glacier.KindNotFound, "job %s not found", from)
			}
			if err != nil {
				return err
			}
		}
		completed := -1
		if f.Completed != nil {
			completed = 0
			if *f.Completed {
				completed = 1
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
			WHERE vault_id = ?1 AND (created_at > ?2 OR (created_at = ?2 AND id >= ?3))
			AND (?4 = '' OR status = ?4)
			AND (?5 = -1 OR (status <> 'InProgress') = (?5 = 1))
			ORDER BY created_at, id LIMIT ?6`,
			vaultID, fromCreated, from, string(f.Status), completed, limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j glacier.Job
			if err := scanJob(rows, &j); err != nil {
				return err
			}
			j.VaultName = vault
			list = append(list, j)
		}
		return rows.Err()
	})
	return list, err
}

// DueJobs returns up to limit in-progress jobs due at or before now.
func (db *DB) DueJobs(ctx context.Context, now time.Time, limit int) ([]glacier.Job, error) {
	var list []glacier.Job
	err := db.view(ctx, "due jobs", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+qualifiedJobColumns+`, v.name FROM jobs j JOIN vaults v ON v.id = j.vault_id
			WHERE j.status = 'InProgress' AND j.due_at <= ? ORDER BY j.due_at, j.id LIMIT ?`, now.UnixMilli(), limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j glacier.Job
			var name string
			if err := scanJob(scanAlso{rows, &name}, &j); err != nil {
				return err
			}
			j.VaultName = name
			list = append(list, j)
		}
		return rows.Err()
	})
	return list, err
}

// scanAlso scans the columns of a scan function plus trailing extras.
type scanAlso struct {
	s     interface{ Scan(...any) error }
	extra *string
}

func (a scanAlso) Scan(dest ...any) error { return a.s.Scan(append(dest, a.extra)...) }

// FinishJob ends an in-progress job and queues its notifications.
func (db *DB) FinishJob(ctx context.Context, j glacier.Job, notes []glacier.Notification) error {
	return db.update(ctx, "finish job", func(tx *txn) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM jobs WHERE id = ?`, j.ID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return glacier.Errorf(glacier.KindConflict, "job %s no longer exists", j.ID)
		}
		if err != nil {
			return err
		}
		if status != string(glacier.JobInProgress) {
			return glacier.Errorf(glacier.KindConflict, "job %s already finished", j.ID)
		}
		if j.Action == glacier.ArchiveRetrieval && j.Status == glacier.JobSucceeded {
			res, err := tx.ExecContext(ctx, `INSERT INTO job_segments (job_id, seq, blob_key, size, tree_hash, leaves)
				SELECT ?, seq, blob_key, size, tree_hash, leaves FROM archive_segments WHERE archive_id = ?`, j.ID, j.ArchiveID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return glacier.Errorf(glacier.KindNotFound, "archive %s not found", j.ArchiveID)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET completed_at = ?, status = ?, status_message = ?,
			next_marker = ?, output_key = ?, output_size = ?, inventory_date = ? WHERE id = ?`,
			millis(j.CompletedAt), string(j.Status), j.StatusMessage, j.NextMarker, j.OutputKey, j.OutputSize,
			millis(j.InventoryDate), j.ID); err != nil {
			return err
		}
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, topic_arn, subject, message, created_at, attempts, next_attempt_at, last_error)
				VALUES (?, ?, ?, ?, ?, 0, ?, '')`, n.ID, n.TopicARN, n.Subject, n.Message, millis(n.CreatedAt), n.NextAttemptAt.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeJobs removes jobs completed before the given time and returns the
// blob keys that nothing references any more.
func (db *DB) PurgeJobs(ctx context.Context, before time.Time) ([]string, error) {
	// The scheduler asks twice a second; a read finds out whether there is
	// anything to purge without taking the write lock.
	var due bool
	if err := db.view(ctx, "purge jobs", func(tx *txn) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE status <> 'InProgress' AND completed_at < ?)`,
			before.UnixMilli()).Scan(&due)
	}); err != nil || !due {
		return nil, err
	}
	var orphans []string
	err := db.update(ctx, "purge jobs", func(tx *txn) error {
		candidates, err := queryStrings(ctx, tx, `
			SELECT output_key FROM jobs WHERE status <> 'InProgress' AND completed_at < ?1 AND output_key <> ''
			UNION
			SELECT js.blob_key FROM job_segments js JOIN jobs j ON j.id = js.job_id
				WHERE j.status <> 'InProgress' AND j.completed_at < ?1`, before.UnixMilli())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE status <> 'InProgress' AND completed_at < ?`, before.UnixMilli()); err != nil {
			return err
		}
		for _, k := range candidates {
			used, err := blobReferenced(ctx, tx, k)
			if err != nil {
				return err
			}
			if !used {
				orphans = append(orphans, k)
			}
		}
		return nil
	})
	return orphans, err
}

// JobsSince counts the account's archive and select jobs of a tier
// created at or after since and sums their bytes.
func (db *DB) JobsSince(ctx context.Context, accountID, tier string, since time.Time, inProgress bool) (int, int64, error) {
	var n int
	var bytes int64
	err := db.view(ctx, "jobs since", func(tx *txn) (err error) {
		n, bytes, err = jobsSince(ctx, tx, accountID, tier, since, inProgress)
		return err
	})
	return n, bytes, err
}

// jobsSince is JobsSince in tx.
func jobsSince(ctx context.Context, tx *txn, accountID, tier string, since time.Time, inProgress bool) (n int, bytes int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(range_end - range_start + 1), 0) FROM jobs
		WHERE account_id = ? AND action IN ('ArchiveRetrieval', 'Select') AND tier = ? AND created_at >= ?
		AND (NOT ? OR status = 'InProgress')`, accountID, tier, since.UnixMilli(), inProgress).Scan(&n, &bytes)
	return n, bytes, err
}
