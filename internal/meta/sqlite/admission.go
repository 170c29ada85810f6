package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.JobAdmitter = (*DB)(nil)

// CreateJobIf stores j if admit, called in the same IMMEDIATE transaction,
// lets it. SQLite's write lock, held from BEGIN to COMMIT, serializes it
// with every other write, also of other processes on the file.
func (db *DB) CreateJobIf(ctx context.Context, j glacier.Job, admit func(glacier.AdmissionView) error) error {
	return db.update(ctx, "create job", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, j.AccountID, j.VaultName)
		if err != nil {
			return err
		}
		if err := admit(admissionView{ctx, tx, j.AccountID}); err != nil {
			var se *storeError
			if errors.As(err, &se) {
				return se.err
			}
			return &callerError{err}
		}
		return insertJob(ctx, tx, vaultID, j)
	})
}

// storeError marks an error of the view's own reads, which update
// classifies, from the admit function's verdict, which it returns as is.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	return &storeError{err}
}

// admissionView reads the account's usage in the admission transaction.
type admissionView struct {
	ctx       context.Context
	tx        *txn
	accountID string
}

func (v admissionView) JobsSince(tier string, since time.Time, inProgress bool) (int, int64, error) {
	n, bytes, err := jobsSince(v.ctx, v.tx, v.accountID, tier, since, inProgress)
	return n, bytes, storeErr(err)
}

func (v admissionView) CapacityUnits(now time.Time) (int, error) {
	var n int
	err := v.tx.QueryRowContext(v.ctx, `SELECT count(*) FROM provisioned_capacity WHERE account_id = ? AND expires_at > ?`,
		v.accountID, now.UnixMilli()).Scan(&n)
	return n, storeErr(err)
}
