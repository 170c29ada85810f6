package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

const uploadColumns = `u.id, v.account_id, v.name, u.description, u.part_size, u.created_at, u.state, u.archive_id, u.closed_at`

func scanUpload(s scanner, u *glacier.Upload, extra ...any) error {
	var state int16
	err := s.Scan(append([]any{&u.ID, &u.AccountID, &u.VaultName, &u.Description, &u.PartSize, timeCol{&u.CreatedAt},
		&state, &u.ArchiveID, timeCol{&u.ClosedAt}}, extra...)...)
	u.State = glacier.UploadState(state)
	return err
}

// Upload row lock modes.
const (
	ownUpload = " FOR NO KEY UPDATE OF u" // the upload's state and parts are ours to change
)

// findUpload returns the upload in any state and its vault's row id,
// locking the upload row in mode; KindNotFound if there is none.
func findUpload(ctx context.Context, tx pgx.Tx, id, mode string) (glacier.Upload, int64, error) {
	var u glacier.Upload
	var vaultID int64
	err := scanUpload(tx.QueryRow(ctx, `SELECT `+uploadColumns+`, v.id
		FROM uploads u JOIN vaults v ON v.id = u.vault_id WHERE u.id = $1`+mode, id), &u, &vaultID)
	if errNotFound(err) {
		return glacier.Upload{}, 0, glacier.Errorf(glacier.KindNotFound, "upload %s not found", id)
	}
	return u, vaultID, err
}

// lockUploadVault locks, in mode, the row of the vault the upload belongs
// to; KindNotFound if there is no such upload (or it went with its vault).
// Writes to an upload lock its vault first, as DeleteVault does, so that a
// deletion either waits for them or they find the upload gone: a part
// recorded while the vault is deleted cannot escape the deletion's list of
// orphans.
func lockUploadVault(ctx context.Context, tx pgx.Tx, uploadID, mode string) (vaultID int64, err error) {
	err = tx.QueryRow(ctx, `SELECT v.id FROM uploads u JOIN vaults v ON v.id = u.vault_id WHERE u.id = $1`+mode+` OF v`,
		uploadID).Scan(&vaultID)
	if errNotFound(err) {
		return 0, glacier.Errorf(glacier.KindNotFound, "upload %s not found", uploadID)
	}
	return vaultID, err
}

// notOpen is the KindConflict error for an upload that is no longer open.
func notOpen(u glacier.Upload) error {
	state := "completed"
	if u.State == glacier.UploadAborted {
		state = "aborted"
	}
	return glacier.Errorf(glacier.KindConflict, "upload %s is %s", u.ID, state)
}

// CreateUpload inserts an open upload; KindNotFound if there is no vault.
// The state, archive id and close time of u are ignored.
func (db *DB) CreateUpload(ctx context.Context, u glacier.Upload) error {
	return db.update(ctx, "create upload", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, u.AccountID, u.VaultName, keepVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO uploads (id, vault_id, description, part_size, created_at, state, last_activity_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			u.ID, vaultID, u.Description, u.PartSize, millis(u.CreatedAt), int16(glacier.UploadOpen), millis(u.CreatedAt))
		return err
	})
}

// GetUpload returns the upload in any state; KindNotFound if it is not an
// upload of that vault.
func (db *DB) GetUpload(ctx context.Context, accountID, vault, id string) (glacier.Upload, error) {
	var u glacier.Upload
	err := db.view(ctx, "get upload", func(tx pgx.Tx) error {
		err := scanUpload(tx.QueryRow(ctx, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.id = $1 AND v.account_id = $2 AND v.name = $3`, id, accountID, vault), &u)
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "upload %s not found in vault %s of account %s", id, vault, accountID)
		}
		return err
	})
	return u, err
}

// ListUploads returns at most limit open uploads of the vault with id >=
// from, ordered by id.
func (db *DB) ListUploads(ctx context.Context, accountID, vault, from string, limit int) ([]glacier.Upload, error) {
	var list []glacier.Upload
	err := db.view(ctx, "list uploads", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		return scanAll(ctx, tx, func(s scanner) error {
			var u glacier.Upload
			if err := scanUpload(s, &u); err != nil {
				return err
			}
			list = append(list, u)
			return nil
		}, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.vault_id = $1 AND u.state = 0 AND u.id >= $2 ORDER BY u.id LIMIT $3`,
			vaultID, from, limitArg(limit))
	})
	return list, err
}

// PutPart records p, replacing any part with the same Start, and returns
// the blob key of the replaced part ("" if none). KindConflict if the
// upload is not open, KindNotFound if it does not exist. The upload row's
// lock (after its vault's) keeps the upload open until the part is in, and
// makes the replaced key exact when the same part is uploaded twice at
// once.
func (db *DB) PutPart(ctx context.Context, p glacier.Part) (replaced string, err error) {
	err = db.update(ctx, "put part", func(tx pgx.Tx) error {
		replaced = ""
		if _, err := lockUploadVault(ctx, tx, p.UploadID, keepVault); err != nil {
			return err
		}
		u, _, err := findUpload(ctx, tx, p.UploadID, ownUpload)
		if err != nil {
			return err
		}
		if u.State != glacier.UploadOpen {
			return notOpen(u)
		}
		err = tx.QueryRow(ctx, `SELECT blob_key FROM upload_parts WHERE upload_id = $1 AND start = $2`,
			p.UploadID, p.Start).Scan(&replaced)
		if err != nil && !errNotFound(err) {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO upload_parts (upload_id, start, size, tree_hash, leaves, blob_key)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (upload_id, start) DO UPDATE SET
				size = excluded.size, tree_hash = excluded.tree_hash,
				leaves = excluded.leaves, blob_key = excluded.blob_key`,
			p.UploadID, p.Start, p.Size, p.TreeHash[:], encodeLeaves(p.Leaves), p.BlobKey)
		if err != nil {
			return err
		}
		return touchUpload(ctx, tx, p.UploadID, p.UploadedAt)
	})
	if err != nil {
		return "", err
	}
	if replaced == p.BlobKey {
		// The same blob recorded again is still in use: nothing to delete.
		replaced = ""
	}
	return replaced, nil
}

// ListParts returns at most limit parts with Start >= from, ordered by
// Start, without leaves. KindNotFound if the upload does not exist.
func (db *DB) ListParts(ctx context.Context, uploadID string, from int64, limit int) ([]glacier.Part, error) {
	var list []glacier.Part
	err := db.view(ctx, "list parts", func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM uploads WHERE id = $1)`, uploadID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return glacier.Errorf(glacier.KindNotFound, "upload %s not found", uploadID)
		}
		var err error
		list, err = queryParts(ctx, tx, uploadID, from, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// queryParts returns the upload's parts with Start >= from in Start order,
// without leaves.
func queryParts(ctx context.Context, tx pgx.Tx, uploadID string, from int64, limit int) ([]glacier.Part, error) {
	var list []glacier.Part
	err := scanAll(ctx, tx, func(s scanner) error {
		p := glacier.Part{UploadID: uploadID}
		if err := s.Scan(&p.Start, &p.Size, hashCol{&p.TreeHash}, &p.BlobKey); err != nil {
			return err
		}
		list = append(list, p)
		return nil
	}, `SELECT start, size, tree_hash, blob_key FROM upload_parts
		WHERE upload_id = $1 AND start >= $2 ORDER BY start LIMIT $3`, uploadID, from, limitArg(limit))
	return list, err
}

// CompleteUpload turns an open upload into archive a in one transaction:
// the parts become a's segments in Start order (blob keys and leaves move
// with INSERT … SELECT), the part rows go, the upload is marked completed
// and the vault counts the write. check sees the upload and its parts first
// and may refuse. If the upload is not open it returns the upload as stored
// and KindConflict. Locks are taken vault first, then upload, the order of
// DeleteVault, so the two cannot deadlock; the upload lock makes exactly
// one of racing completions and aborts win.
func (db *DB) CompleteUpload(ctx context.Context, uploadID string, a glacier.Archive, check func(glacier.Upload, []glacier.Part) error) (glacier.Upload, error) {
	var u glacier.Upload
	closed := false // the upload was not open: return it with the conflict
	err := db.update(ctx, "complete upload", func(tx pgx.Tx) error {
		closed = false
		vaultID, err := lockUploadVault(ctx, tx, uploadID, ownVault)
		if err != nil {
			return err
		}
		if u, _, err = findUpload(ctx, tx, uploadID, ownUpload); err != nil {
			return err
		}
		if u.State != glacier.UploadOpen {
			closed = true
			return notOpen(u)
		}
		parts, err := queryParts(ctx, tx, uploadID, 0, 0)
		if err != nil {
			return err
		}
		if err := check(u, parts); err != nil {
			return &callerError{err}
		}

		// The archive belongs to the upload's vault, whatever a says.
		if err := insertArchive(ctx, tx, vaultID, a); err != nil {
			if sqlState(err) == uniqueViolation {
				// Not the conflict of the contract (the upload is open):
				// archive ids are unique by construction, so this is a bug.
				return glacier.Wrap(glacier.KindInternal, err, "complete upload: archive id "+a.ID+" exists")
			}
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves)
			SELECT $1, row_number() OVER (ORDER BY start) - 1, blob_key, size, tree_hash, leaves
			FROM upload_parts WHERE upload_id = $2`, a.ID, uploadID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM upload_parts WHERE upload_id = $1`, uploadID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE uploads SET state = $1, archive_id = $2, closed_at = $3 WHERE id = $4`,
			int16(glacier.UploadCompleted), a.ID, millis(a.CreatedAt), uploadID); err != nil {
			return err
		}
		if err := countWrite(ctx, tx, vaultID, 1, a.Size, a.CreatedAt); err != nil {
			return err
		}
		u, _, err = findUpload(ctx, tx, uploadID, noLock)
		return err
	})
	if err != nil && !closed {
		return glacier.Upload{}, err
	}
	return u, err
}

// AbortUpload marks an open upload aborted at now, removes its parts and
// returns their blob keys. Aborting an aborted upload returns no keys and
// no error; a completed upload gives KindConflict.
func (db *DB) AbortUpload(ctx context.Context, uploadID string, now time.Time) (orphans []string, err error) {
	err = db.update(ctx, "abort upload", func(tx pgx.Tx) error {
		orphans = nil
		if _, err := lockUploadVault(ctx, tx, uploadID, keepVault); err != nil {
			return err
		}
		u, _, err := findUpload(ctx, tx, uploadID, ownUpload)
		if err != nil {
			return err
		}
		switch u.State {
		case glacier.UploadAborted:
			return nil
		case glacier.UploadCompleted:
			return notOpen(u)
		}
		orphans, err = queryStrings(ctx, tx, `WITH gone AS (DELETE FROM upload_parts WHERE upload_id = $1 RETURNING start, blob_key)
			SELECT blob_key FROM gone ORDER BY start`, uploadID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE uploads SET state = $1, closed_at = $2 WHERE id = $3`,
			int16(glacier.UploadAborted), millis(now), uploadID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// PurgeClosedUploads forgets completed and aborted uploads closed before the
// given time and returns how many it removed. A closed upload without a
// close time counts as closed at the zero time, before any other. Uploads
// another transaction holds at that moment (SKIP LOCKED) are left for the
// next purge, so nodes purging at once do not wait for each other.
func (db *DB) PurgeClosedUploads(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, nil
	}
	var n int64
	err := db.update(ctx, "purge closed uploads", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM uploads WHERE id IN (
			SELECT id FROM uploads WHERE state <> 0 AND (closed_at IS NULL OR closed_at < $1)
			FOR UPDATE SKIP LOCKED)`, before.UnixMilli())
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
