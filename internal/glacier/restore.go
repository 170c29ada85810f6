package glacier

import (
	"context"
	"io"
	"time"
)

// Archive storage classes: a BlobStore whose blobs must be restored before
// they can be read (S3's GLACIER and DEEP_ARCHIVE classes) implements
// Restorer. Archive-retrieval and select jobs on such a store then restore
// the blobs behind their range before they complete: the first scheduler
// pass after InitiateJob asks for the restores, later passes (one node at
// a time, every RestorePollInterval) check them, and the job succeeds when
// every blob is readable and its tier's delay has passed. Stores without
// the capability (the disk store) are untouched.

// RestoreState is where a blob's restore stands.
type RestoreState int

const (
	// RestorePending: a restore is in progress (requested by this call or
	// earlier, by any job).
	RestorePending RestoreState = iota
	// RestoreReady: the blob can be read now (restored, or not archived).
	RestoreReady
)

// Restorer is the optional BlobStore capability of archive classes, found
// by type assertion.
type Restorer interface {
	// Archival reports whether blobs need restores at all (a store of an
	// immediate class answers false and is treated as any other).
	Archival() bool
	// Restore makes key readable for at least days days: it reports Ready
	// when it is, and otherwise asks for a restore at tier (Expedited,
	// Standard or Bulk; the store maps it to what its class offers) unless
	// one is in progress, and reports Pending. It is safe to repeat. An
	// error of KindUnavailable is transient; any other error means the
	// restore failed for good.
	Restore(ctx context.Context, key, tier string, days int) (RestoreState, error)
	// PutReadable stores a blob that must stay readable at once
	// (inventory snapshots and outputs), outside the archive class.
	PutReadable(ctx context.Context, key string, r io.Reader) (int64, error)
}

// Defaults of the restore settings.
const (
	DefaultRestorePollInterval = 5 * time.Minute
	DefaultRestoreTimeout      = 7 * 24 * time.Hour
)

// BlobStoreWrapper is implemented by blob stores that wrap another (the
// metrics' counting wrapper), so capabilities are found through them.
type BlobStoreWrapper interface {
	UnwrapBlobStore() BlobStore
}

func (s *Service) restorer() Restorer {
	b := s.Blobs
	for {
		if r, ok := b.(Restorer); ok && r.Archival() {
			return r
		}
		w, ok := b.(BlobStoreWrapper)
		if !ok {
			return nil
		}
		b = w.UnwrapBlobStore()
	}
}

func (s *Service) restorePollInterval() time.Duration {
	if s.RestorePollInterval > 0 {
		return s.RestorePollInterval
	}
	return DefaultRestorePollInterval
}

func (s *Service) restoreTimeout() time.Duration {
	if s.RestoreTimeout > 0 {
		return s.RestoreTimeout
	}
	return DefaultRestoreTimeout
}

// putReadable stores metadata-like blobs (inventories) where they can be
// read at once.
func (s *Service) putReadable(ctx context.Context, key string, r io.Reader) (int64, error) {
	rs := s.restorer()
	if rs == nil {
		return s.putBlob(ctx, key, r)
	}
	start := time.Now()
	// As putBlob: the intent first, so a crash before the commit leaves a
	// record for housekeeping.
	if err := s.recordIntent(ctx, key); err != nil {
		return 0, err
	}
	n, err := rs.PutReadable(ctx, key, r)
	if err == nil && time.Since(start) > MaxUploadDuration {
		// As putBlob: a blob written over longer than the sweep's grace
		// may already have been swept as unreferenced.
		s.deleteBlobs(ctx, []string{key})
		return n, Errorf(KindRequestTimeout, "The write took longer than %v; try again", MaxUploadDuration)
	}
	return n, err
}

// restoreDue is the due time of a new job on a restoring store: at once,
// so that the first scheduler pass asks for the restores; the tier's delay
// is enforced by awaitRestores.
func (s *Service) restoreDue(j Job) time.Time {
	if s.restoring(j) {
		return j.CreatedAt
	}
	return j.DueAt
}

// restoring reports whether j reads archive bytes from an archive class:
// its restores are asked for by the scheduler, never inside the
// InitiateJob request (a multipart archive may be thousands of objects).
func (s *Service) restoring(j Job) bool {
	return s.restorer() != nil && (j.Action == ArchiveRetrieval || j.Action == SelectJobAction)
}

// RestoreDays is how many days a restored copy must last: the job's output
// stays available for the retention after the job completes.
func RestoreDays(retention time.Duration) int {
	return int((retention+24*time.Hour-1)/(24*time.Hour)) + 1
}

// awaitRestores is the restore step of a due archive or select job. It
// reports true when the job may finish now (every blob readable and the
// tier's delay passed, or the job failed: j.Status says so). Otherwise the
// job stays in progress with its due time moved to the next check, which
// also leases the check to this node.
func (s *Service) awaitRestores(ctx context.Context, j *Job) (bool, error) {
	rs := s.restorer()
	if rs == nil {
		return true, nil
	}
	now := s.Clock.Now()
	next := now.Add(s.restorePollInterval())
	claimed, err := s.Jobs.ClaimJob(ctx, j.ID, j.DueAt, next)
	if err != nil {
		return false, err
	}
	if !claimed {
		return false, nil // another node checks it
	}
	j.DueAt = next
	a, err := s.Archives.GetArchive(ctx, j.ArchiveID)
	if IsNotFound(err) {
		return true, nil // FinishJob fails the job: the archive is gone
	}
	if err != nil {
		return false, err
	}
	first, last := j.RangeStart, j.RangeEnd
	if j.Action == SelectJobAction {
		first, last = 0, a.Size-1
	}
	days := RestoreDays(s.jobRetention())
	pending := 0
	var base int64
	for _, seg := range a.Segments {
		segFirst, segLast := base, base+seg.Size-1
		base += seg.Size
		if seg.Size == 0 || segLast < first || segFirst > last || IsInlineKey(seg.BlobKey) {
			continue // an inline segment is a row of the metadata store: always readable
		}
		st, err := rs.Restore(ctx, seg.BlobKey, j.Tier, days)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if KindOf(err) == KindUnavailable {
				s.logger().Warn("checking an archive restore failed; will retry", "job_id", j.ID, "err", err)
				return false, nil
			}
			j.Status, j.StatusMessage = JobFailed, "Restoring the archive from its storage class failed: "+err.Error()
			return true, nil
		}
		if st == RestorePending {
			pending++
		}
	}
	tierDue := j.CreatedAt.Add(s.jobDelay(j.Tier))
	if pending > 0 {
		if now.Sub(tierDue) > s.restoreTimeout() {
			j.Status, j.StatusMessage = JobFailed, "The archive's restore from its storage class did not complete within "+s.restoreTimeout().String()
			return true, nil
		}
		s.logger().Debug("waiting for archive restores", "job_id", j.ID, "pending", pending)
		return false, nil
	}
	if now.Before(tierDue) {
		// Restored early: finish at the tier's time, no more polls.
		if ok, err := s.Jobs.ClaimJob(ctx, j.ID, j.DueAt, tierDue); err == nil && ok {
			j.DueAt = tierDue
		}
		return false, nil
	}
	return true, nil
}
