package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.JobAdmitter = (*DB)(nil)

// lockJobAdmission is the advisory lock class serializing one account's
// job admissions (CreateJobIf) across connections and nodes.
const lockJobAdmission int32 = 3

// CreateJobIf stores j if admit, called in the same transaction, lets it.
// The account's transaction advisory lock, taken first, serializes it with
// the account's other admissions; the transaction is READ COMMITTED, so
// the reads after the lock see every admission committed before it.
func (db *DB) CreateJobIf(ctx context.Context, j glacier.Job, admit func(glacier.AdmissionView) error) error {
	return db.update(ctx, "create job", func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, lockJobAdmission, j.AccountID); err != nil {
			return err
		}
		vaultID, err := findVaultID(ctx, tx, j.AccountID, j.VaultName, keepVault)
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
// classifies and may retry, from the admit function's verdict, which it
// returns as is.
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
	tx        pgx.Tx
	accountID string
}

func (v admissionView) JobsSince(tier string, since time.Time, inProgress bool) (int, int64, error) {
	n, bytes, err := jobsSince(v.ctx, v.tx, v.accountID, tier, since, inProgress)
	return n, bytes, storeErr(err)
}

func (v admissionView) CapacityUnits(now time.Time) (int, error) {
	var n int
	err := v.tx.QueryRow(v.ctx, `SELECT count(*) FROM provisioned_capacity WHERE account_id = $1 AND expires_at > $2`,
		v.accountID, now.UnixMilli()).Scan(&n)
	return n, storeErr(err)
}
