package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

func scanJob(s scanner, j *glacier.Job, extra ...any) error {
	var action, status, sel string
	var limit int64
	err := s.Scan(append([]any{&j.ID, &j.AccountID, &action, &j.Description, &j.SNSTopic, &j.Tier, timeCol{&j.CreatedAt},
		timeCol{&j.DueAt}, timeCol{&j.CompletedAt}, &status, &j.StatusMessage, &j.ArchiveID, &j.ArchiveSize,
		zeroableHashCol{&j.ArchiveTreeHash}, &j.ArchiveDescription, &j.RangeStart, &j.RangeEnd,
		optHashCol{&j.RangeTreeHash}, &j.Format, timeCol{&j.StartDate}, timeCol{&j.EndDate}, &limit, &j.Marker,
		&j.NextMarker, &j.OutputKey, &j.OutputSize, timeCol{&j.InventoryDate}, &sel}, extra...)...)
	j.Action, j.Status, j.Limit = glacier.JobAction(action), glacier.JobStatus(status), int(limit)
	if err == nil {
		j.Select, err = glacier.DecodeSelectJob(sel)
	}
	return err
}

// CreateJob inserts an in-progress job; KindNotFound if no vault.
func (db *DB) CreateJob(ctx context.Context, j glacier.Job) error {
	return db.update(ctx, "create job", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, j.AccountID, j.VaultName, keepVault)
		if err != nil {
			return err
		}
		return insertJob(ctx, tx, vaultID, j)
	})
}

// insertJob inserts j into the vault of row id vaultID.
func insertJob(ctx context.Context, tx pgx.Tx, vaultID int64, j glacier.Job) error {
	var treeHash any
	if j.Action == glacier.ArchiveRetrieval {
		treeHash = j.ArchiveTreeHash[:]
	}
	_, err := tx.Exec(ctx, `INSERT INTO jobs (vault_id, `+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
			$21, $22, $23, $24, $25, $26, $27, $28, $29)`,
		vaultID, j.ID, j.AccountID, string(j.Action), j.Description, j.SNSTopic, j.Tier, millis(j.CreatedAt),
		millis(j.DueAt), millis(j.CompletedAt), string(j.Status), j.StatusMessage, j.ArchiveID, j.ArchiveSize,
		treeHash, j.ArchiveDescription, j.RangeStart, j.RangeEnd, optHash(j.RangeTreeHash), j.Format,
		millis(j.StartDate), millis(j.EndDate), int64(j.Limit), j.Marker, j.NextMarker, j.OutputKey, j.OutputSize,
		millis(j.InventoryDate), glacier.EncodeSelectJob(j.Select))
	return err
}

// GetJob returns a job of the vault with its pinned segments.
func (db *DB) GetJob(ctx context.Context, accountID, vault, id string) (glacier.Job, error) {
	var j glacier.Job
	err := db.view(ctx, "get job", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 AND vault_id = $2`, id, vaultID), &j)
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "job %s not found", id)
		}
		if err != nil {
			return err
		}
		j.VaultName = vault
		j.Segments, err = querySegments(ctx, tx, `SELECT blob_key, size, tree_hash FROM job_segments WHERE job_id = $1 ORDER BY seq`, id)
		return err
	})
	return j, err
}

// JobLeaves returns the leaf hashes of the job's pinned segments in order.
func (db *DB) JobLeaves(ctx context.Context, id string) ([]treehash.Hash, error) {
	var leaves []treehash.Hash
	err := db.view(ctx, "job leaves", func(tx pgx.Tx) (err error) {
		leaves, err = queryLeaves(ctx, tx, `SELECT leaves FROM job_segments WHERE job_id = $1 ORDER BY seq`, id)
		return err
	})
	return leaves, err
}

// ListJobs returns at most limit jobs of the vault matching f, in order of
// creation then id, from job from on.
func (db *DB) ListJobs(ctx context.Context, accountID, vault string, f glacier.JobFilter, from string, limit int) ([]glacier.Job, error) {
	var list []glacier.Job
	err := db.view(ctx, "list jobs", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		var fromCreated int64 = -1 << 62
		if from != "" {
			err := tx.QueryRow(ctx, `SELECT created_at FROM jobs WHERE id = $1 AND vault_id = $2`, from, vaultID).Scan(&fromCreated)
			if errNotFound(err) {
				return glacier.Errorf(glacier.KindNotFound, "job %s not found", from)
			}
			if err != nil {
				return err
			}
		}
		var completed any // NULL: either
		if f.Completed != nil {
			completed = *f.Completed
		}
		return scanAll(ctx, tx, func(s scanner) error {
			var j glacier.Job
			if err := scanJob(s, &j); err != nil {
				return err
			}
			j.VaultName = vault
			list = append(list, j)
			return nil
		}, `SELECT `+jobColumns+` FROM jobs
			WHERE vault_id = $1 AND (created_at > $2 OR (created_at = $2 AND id >= $3))
			AND ($4::text = '' OR status = $4)
			AND ($5::boolean IS NULL OR (status <> 'InProgress') = $5)
			ORDER BY created_at, id LIMIT $6`,
			vaultID, fromCreated, from, string(f.Status), completed, limitArg(limit))
	})
	return list, err
}

// DueJobs returns up to limit in-progress jobs due at or before now. It
// claims nothing: several nodes may get the same job, and FinishJob ends it
// once.
func (db *DB) DueJobs(ctx context.Context, now time.Time, limit int) ([]glacier.Job, error) {
	var list []glacier.Job
	err := db.view(ctx, "due jobs", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var j glacier.Job
			if err := scanJob(s, &j, &j.VaultName); err != nil {
				return err
			}
			list = append(list, j)
			return nil
		}, `SELECT `+qualifiedJobColumns+`, v.name FROM jobs j JOIN vaults v ON v.id = j.vault_id
			WHERE j.status = 'InProgress' AND j.due_at <= $1 ORDER BY j.due_at, j.id LIMIT $2`,
			now.UnixMilli(), limitArg(limit))
	})
	return list, err
}

// FinishJob ends an in-progress job and queues its notifications. The
// UPDATE … WHERE status = 'InProgress' is the compare-and-set that makes
// one node's FinishJob win; the others wait for its row lock, then find the
// job finished (KindConflict). A succeeded archive retrieval pins the
// archive's segments under a KEY SHARE lock on the archive row, which keeps
// a concurrent DeleteArchive from removing the archive before the pins are
// committed.
func (db *DB) FinishJob(ctx context.Context, j glacier.Job, notes []glacier.Notification) error {
	return db.update(ctx, "finish job", func(tx pgx.Tx) error {
		// Lock order: the vault row first, as DeleteVault does.
		var vaultID int64
		err := tx.QueryRow(ctx, `SELECT vault_id FROM jobs WHERE id = $1`, j.ID).Scan(&vaultID)
		if err == nil {
			err = lockVaultRow(ctx, tx, vaultID, keepVault)
		}
		if errNotFound(err) || glacier.IsNotFound(err) {
			return glacier.Errorf(glacier.KindConflict, "job %s no longer exists", j.ID)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE jobs SET completed_at = $1, status = $2, status_message = $3,
			next_marker = $4, output_key = $5, output_size = $6, inventory_date = $7
			WHERE id = $8 AND status = 'InProgress'`,
			millis(j.CompletedAt), string(j.Status), j.StatusMessage, j.NextMarker, j.OutputKey, j.OutputSize,
			millis(j.InventoryDate), j.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)`, j.ID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return glacier.Errorf(glacier.KindConflict, "job %s no longer exists", j.ID)
			}
			return glacier.Errorf(glacier.KindConflict, "job %s already finished", j.ID)
		}
		if j.Action == glacier.ArchiveRetrieval && j.Status == glacier.JobSucceeded {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM archives WHERE id = $1 FOR KEY SHARE`, j.ArchiveID).Scan(&one)
			if errNotFound(err) {
				return glacier.Errorf(glacier.KindNotFound, "archive %s not found", j.ArchiveID)
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO job_segments (job_id, seq, blob_key, size, tree_hash, leaves)
				SELECT $1, seq, blob_key, size, tree_hash, leaves FROM archive_segments WHERE archive_id = $2`,
				j.ID, j.ArchiveID); err != nil {
				return err
			}
		}
		if len(notes) > 0 {
			n := len(notes)
			ids, topics, subjects, messages := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			created, next := make([]*int64, n), make([]int64, n)
			for i, note := range notes {
				ids[i], topics[i], subjects[i], messages[i] = note.ID, note.TopicARN, note.Subject, note.Message
				if !note.CreatedAt.IsZero() {
					ms := note.CreatedAt.UnixMilli()
					created[i] = &ms
				}
				next[i] = note.NextAttemptAt.UnixMilli()
			}
			if _, err := tx.Exec(ctx, `INSERT INTO outbox (id, topic_arn, subject, message, created_at, attempts, next_attempt_at, last_error)
				SELECT id, topic_arn, subject, message, created_at, 0, next_attempt_at, ''
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
					AS n (id, topic_arn, subject, message, created_at, next_attempt_at)`,
				ids, topics, subjects, messages, created, next); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeJobs removes jobs completed before the given time and returns the
// blob keys that nothing references any more. Each job's keys are judged by
// the transaction that deleted it (DELETE … RETURNING), so two nodes
// purging at once do not both report them; a job another transaction holds
// at that moment (SKIP LOCKED) is left for the next purge rather than
// waited for.
func (db *DB) PurgeJobs(ctx context.Context, before time.Time) ([]string, error) {
	var orphans []string
	err := db.update(ctx, "purge jobs", func(tx pgx.Tx) error {
		candidates, err := queryStrings(ctx, tx, `
			WITH gone AS (
				DELETE FROM jobs WHERE id IN (
					SELECT id FROM jobs WHERE status <> 'InProgress' AND completed_at < $1 FOR UPDATE SKIP LOCKED
				) RETURNING id, output_key
			)
			SELECT output_key FROM gone WHERE output_key <> ''
			UNION
			SELECT js.blob_key FROM job_segments js JOIN gone g ON g.id = js.job_id`, before.UnixMilli())
		if err != nil {
			return err
		}
		if len(candidates) == 0 {
			orphans = nil
			return nil
		}
		// A new statement: it sees the deletions (and their cascades).
		orphans, err = queryStrings(ctx, tx, `SELECT k FROM unnest($1::text[]) AS c (k)
			WHERE NOT EXISTS (SELECT 1 FROM archive_segments WHERE blob_key = c.k)
			AND NOT EXISTS (SELECT 1 FROM upload_parts WHERE blob_key = c.k)
			AND NOT EXISTS (SELECT 1 FROM job_segments WHERE blob_key = c.k)
			AND NOT EXISTS (SELECT 1 FROM jobs WHERE output_key = c.k)
			AND NOT EXISTS (SELECT 1 FROM vaults WHERE inventory_key = c.k)
			ORDER BY k`, candidates)
		return err
	})
	return orphans, err
}

// JobsSince counts the account's archive and select jobs of a tier
// created at or after since and sums their bytes.
func (db *DB) JobsSince(ctx context.Context, accountID, tier string, since time.Time, inProgress bool) (int, int64, error) {
	var n int
	var bytes int64
	err := db.view(ctx, "jobs since", func(tx pgx.Tx) (err error) {
		n, bytes, err = jobsSince(ctx, tx, accountID, tier, since, inProgress)
		return err
	})
	return n, bytes, err
}

// jobsSince is JobsSince in tx.
func jobsSince(ctx context.Context, tx pgx.Tx, accountID, tier string, since time.Time, inProgress bool) (n int, bytes int64, err error) {
	err = tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(range_end - range_start + 1), 0)::bigint FROM jobs
		WHERE account_id = $1 AND action IN ('ArchiveRetrieval', 'Select') AND tier = $2 AND created_at >= $3
		AND (NOT $4::boolean OR status = 'InProgress')`, accountID, tier, since.UnixMilli(), inProgress).Scan(&n, &bytes)
	return n, bytes, err
}
