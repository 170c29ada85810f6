package glacier

import (
	"context"
	"time"
)

// JobAdmitter is the store ability behind retrieval admission: a job is
// created only when the account's retrieval limits allow it, the check and
// the insert made in one transaction, so two concurrent InitiateJob
// requests can never both pass a limit only one of them fits (the data
// retrieval policy's BytesPerHour and FreeTier, Expedited capacity).
type JobAdmitter interface {
	// CreateJobIf stores j as CreateJob does, after calling admit with a
	// view of the store inside the same transaction. When admit returns an
	// error nothing is stored and CreateJobIf returns that error unchanged.
	// Calls for one account are serialized from admit to commit, also
	// between processes sharing the store, so every admit sees the jobs
	// of every admission committed before it. KindNotFound when the vault
	// does not exist (admit is then not called).
	CreateJobIf(ctx context.Context, j Job, admit func(AdmissionView) error) error
}

// AdmissionView reads, inside CreateJobIf's transaction, what the job's
// account uses of its retrieval limits.
type AdmissionView interface {
	// JobsSince is JobStore.JobsSince of the job's account, read in the
	// admission transaction.
	JobsSince(tier string, since time.Time, inProgress bool) (count int, bytes int64, err error)
	// CapacityUnits counts the account's provisioned capacity units
	// unexpired at now.
	CapacityUnits(now time.Time) (int, error)
}

// metaView is an AdmissionView over separate JobStore reads: a
// non-atomic early look (select jobs check before writing job.txt; the
// atomic check follows in CreateJobIf).
type metaView struct {
	ctx       context.Context
	m         JobStore
	accountID string
}

func (v metaView) JobsSince(tier string, since time.Time, inProgress bool) (int, int64, error) {
	return v.m.JobsSince(v.ctx, v.accountID, tier, since, inProgress)
}

func (v metaView) CapacityUnits(now time.Time) (int, error) {
	units, err := v.m.ListCapacity(v.ctx, v.accountID, now)
	return len(units), err
}

// createJobIf stores j if admit (nil: always) lets it, the check and the
// insert in one transaction.
func (s *Service) createJobIf(ctx context.Context, j Job, admit func(AdmissionView) error) error {
	if admit == nil {
		return s.Jobs.CreateJob(ctx, j)
	}
	return s.Jobs.CreateJobIf(ctx, j, admit)
}
