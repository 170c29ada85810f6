package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

const uploadColumns = `u.id, v.account_id, v.name, u.description, u.part_size, u.created_at, u.state, u.archive_id, u.closed_at`

func scanUpload(s interface{ Scan(...any) error }, u *glacier.Upload) error {
	return s.Scan(&u.ID, &u.AccountID, &u.VaultName, &u.Description, &u.PartSize, timeCol{&u.CreatedAt},
		&u.State, &u.ArchiveID, timeCol{&u.ClosedAt})
}

// findUpload returns the upload in any state and its vault's row id;
// KindNotFound if there is none.
func findUpload(ctx context.Context, tx *txn, id string) (glacier.Upload, int64, error) {
	var u glacier.Upload
	var vaultID int64
	err := tx.QueryRowContext(ctx, `SELECT `+uploadColumns+`, v.id
		FROM uploads u JOIN vaults v ON v.id = u.vault_id WHERE u.id = ?`, id).
		Scan(&u.ID, &u.AccountID, &u.VaultName, &u.Description, &u.PartSize, timeCol{&u.CreatedAt},
			&u.State, &u.ArchiveID, timeCol{&u.ClosedAt}, &vaultID)
	if errors.Is(err, sql.ErrNoRows) {
		return glacier.Upload{}, 0, glacier.Errorf(glacier.KindNotFound, "upload %s not found", id)
	}
	return u, vaultID, err
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
	return db.update(ctx, "create upload", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, u.AccountID, u.VaultName)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO uploads (id, vault_id, description, part_size, created_at, state, last_activity_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, vaultID, u.Description, u.PartSize, millis(u.CreatedAt), glacier.UploadOpen, millis(u.CreatedAt))
		return err
	})
}

// GetUpload returns the upload in any state; KindNotFound if it is not an
// upload of that vault.
func (db *DB) GetUpload(ctx context.Context, accountID, vault, id string) (glacier.Upload, error) {
	var u glacier.Upload
	err := db.view(ctx, "get upload", func(tx *txn) error {
		err := scanUpload(tx.QueryRowContext(ctx, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.id = ? AND v.account_id = ? AND v.name = ?`, id, accountID, vault), &u)
		if errors.Is(err, sql.ErrNoRows) {
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
	err := db.view(ctx, "list uploads", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+uploadColumns+`
			FROM uploads u JOIN vaults v ON v.id = u.vault_id
			WHERE u.vault_id = ? AND u.state = 0 AND u.id >= ? ORDER BY u.id LIMIT ?`,
			vaultID, from, limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u glacier.Upload
			if err := scanUpload(rows, &u); err != nil {
				return err
			}
			list = append(list, u)
		}
		return rows.Err()
	})
	return list, err
}

// PutPart records p, replacing any part with the same Start, and returns
// the blob key of the replaced part ("" if none). KindConflict if the
// upload is not open, KindNotFound if it does not exist.
func (db *DB) PutPart(ctx context.Context, p glacier.Part) (replaced string, err error) {
	err = db.update(ctx, "put part", func(tx *txn) error {
		u, _, err := findUpload(ctx, tx, p.UploadID)
		if err != nil {
			return err
		}
		if u.State != glacier.UploadOpen {
			return notOpen(u)
		}
		err = tx.QueryRowContext(ctx, `SELECT blob_key FROM upload_parts WHERE upload_id = ? AND start = ?`,
			p.UploadID, p.Start).Scan(&replaced)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO upload_parts (upload_id, start, size, tree_hash, leaves, blob_key)
			VALUES (?, ?, ?, ?, ?, ?)
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
	err := db.view(ctx, "list parts", func(tx *txn) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM uploads WHERE id = ?)`, uploadID).Scan(&exists); err != nil {
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
func queryParts(ctx context.Context, tx *txn, uploadID string, from int64, limit int) ([]glacier.Part, error) {
	rows, err := tx.QueryContext(ctx, `SELECT start, size, tree_hash, blob_key FROM upload_parts
		WHERE upload_id = ? AND start >= ? ORDER BY start LIMIT ?`, uploadID, from, limitArg(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []glacier.Part
	for rows.Next() {
		p := glacier.Part{UploadID: uploadID}
		if err := rows.Scan(&p.Start, &p.Size, hashCol{&p.TreeHash}, &p.BlobKey); err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

// CompleteUpload turns an open upload into archive a in one transaction:
// the parts become a's segments in Start order (blob keys and leaves move
// with INSERT … SELECT), the part rows go, the upload is marked completed
// and the vault counts the write. check sees the upload and its parts first
// and may refuse. If the upload is not open it returns the upload as stored
// and KindConflict.
func (db *DB) CompleteUpload(ctx context.Context, uploadID string, a glacier.Archive, check func(glacier.Upload, []glacier.Part) error) (glacier.Upload, error) {
	var u glacier.Upload
	closed := false // the upload was not open: return it with the conflict
	err := db.update(ctx, "complete upload", func(tx *txn) error {
		var vaultID int64
		var err error
		if u, vaultID, err = findUpload(ctx, tx, uploadID); err != nil {
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
			if glacier.KindOf(classify("", err)) == glacier.KindConflict {
				// Not the conflict of the contract (the upload is open):
				// archive ids are unique by construction, so this is a bug.
				return glacier.Wrap(glacier.KindInternal, err, "complete upload: archive id "+a.ID+" exists")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves)
			SELECT ?1, row_number() OVER (ORDER BY start) - 1, blob_key, size, tree_hash, leaves
			FROM upload_parts WHERE upload_id = ?2`, a.ID, uploadID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM upload_parts WHERE upload_id = ?`, uploadID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET state = ?, archive_id = ?, closed_at = ? WHERE id = ?`,
			glacier.UploadCompleted, a.ID, millis(a.CreatedAt), uploadID); err != nil {
			return err
		}
		if err := countWrite(ctx, tx, vaultID, 1, a.Size, a.CreatedAt); err != nil {
			return err
		}
		u, _, err = findUpload(ctx, tx, uploadID)
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
	err = db.update(ctx, "abort upload", func(tx *txn) error {
		u, _, err := findUpload(ctx, tx, uploadID)
		if err != nil {
			return err
		}
		switch u.State {
		case glacier.UploadAborted:
			return nil
		case glacier.UploadCompleted:
			return notOpen(u)
		}
		orphans, err = queryStrings(ctx, tx, `SELECT blob_key FROM upload_parts WHERE upload_id = ? ORDER BY start`, uploadID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM upload_parts WHERE upload_id = ?`, uploadID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE uploads SET state = ?, closed_at = ? WHERE id = ?`,
			glacier.UploadAborted, millis(now), uploadID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// PurgeClosedUploads forgets completed and aborted uploads closed before the
// given time and returns how many it removed. A closed upload without a
// close time counts as closed at the zero time, before any other.
func (db *DB) PurgeClosedUploads(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, nil
	}
	var n int64
	err := db.update(ctx, "purge closed uploads", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM uploads
			WHERE state <> 0 AND (closed_at IS NULL OR closed_at < ?)`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
