package glacier

import (
	"context"
	"time"
)

// DefaultUploadIdleTimeout is how long a multipart upload may go without
// activity (initiation or a part) before it is discarded with its parts,
// as AWS does.
const DefaultUploadIdleTimeout = 24 * time.Hour

// UploadExpiryEvery is how often (service clock) the scheduler looks for
// idle uploads.
const UploadExpiryEvery = time.Minute

func (s *Service) uploadIdleTimeout() time.Duration {
	if s.UploadIdleTimeout > 0 {
		return s.UploadIdleTimeout
	}
	return DefaultUploadIdleTimeout
}

// ExpireIdleUploads discards open multipart uploads idle for longer than
// the idle timeout on the service clock: the upload is closed as if long
// ago, so it is forgotten at once (later calls on it get
// ResourceNotFoundException), and its parts' bytes are removed. It returns
// how many it discarded. Safe on several nodes at once: AbortUpload closes
// an upload once.
func (s *Service) ExpireIdleUploads(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	closedAt := now.Add(-ClosedUploadRetention - time.Millisecond)
	n := 0
	for {
		us, err := s.Housekeeping.IdleUploads(ctx, now.Add(-s.uploadIdleTimeout()), 100)
		if err != nil {
			return n, err
		}
		for _, u := range us {
			orphans, err := s.Uploads.AbortUpload(ctx, u.ID, closedAt)
			if err != nil {
				if k := KindOf(err); k == KindConflict || k == KindNotFound {
					continue // completed or gone meanwhile
				}
				return n, err
			}
			s.deleteBlobs(ctx, orphans)
			s.logger().Info("discarded an idle multipart upload", "upload_id", u.ID, "vault", s.VaultARN(u.AccountID, u.VaultName), "parts", len(orphans))
			n++
		}
		if len(us) < 100 || ctx.Err() != nil {
			break
		}
	}
	if n > 0 {
		if _, err := s.Housekeeping.PurgeClosedUploads(ctx, now.Add(-ClosedUploadRetention)); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ClosedUploadRetention is how long completed and aborted uploads are
// remembered so that a repeated Complete or Abort answers as AWS does
// (limits.md §2, [CHOICE] 24 h).
const ClosedUploadRetention = 24 * time.Hour

// MaxUploadDuration bounds the time from an upload's first byte to its
// metadata commit: a body still arriving after it is refused
// (RequestTimeoutException) and its blob removed, never committed. It is
// what makes SweepGrace safe.
const MaxUploadDuration = 12 * time.Hour

// SweepGrace is how old (by modification time, which is never before the
// upload's first byte) an unreferenced blob must be before a sweep may
// remove it. It is longer than any upload may take to reach its commit
// (MaxUploadDuration, plus an hour for the commit itself), so a sweep — on
// this node or any node sharing the stores, however often it runs — never
// removes a blob that an upload may still commit. It does not depend on
// how often sweeps run.
const SweepGrace = MaxUploadDuration + time.Hour

// MinSweepInterval is the shortest sweep interval a server accepts.
const MinSweepInterval = time.Second

// DefaultReconcileInterval is how often a server lists every blob to
// check it against the metadata (Sweep) in the background: the intents
// find what interrupted writes and deletes leave, so the full listing is
// only a safety net (and finds leftovers of versions before intents).
const DefaultReconcileInterval = 7 * 24 * time.Hour

// DefaultReconcileRate is how many blobs a second the background
// reconciliation checks at most.
const DefaultReconcileRate = 2000

// Sweep removes blobs that no metadata references and that were last
// modified before olderThan (at most now - SweepGrace while any process
// may be uploading into the store; a server that owns its data directory
// may pass its start time at start-up, before it accepts uploads): leftovers of uploads interrupted between the
// blob write and the metadata commit, or of deletes interrupted between the
// commit and the blob removal. It also forgets long-closed uploads. It
// returns the number of blobs removed.
func (s *Service) Sweep(ctx context.Context, olderThan time.Time) (int, error) {
	return s.Reconcile(ctx, olderThan, 0)
}

// Reconcile is Sweep checking at most rate blobs a second (0: no bound),
// so that a background pass over millions of blobs does not compete with
// requests.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Time, rate int) (int, error) {
	if _, err := s.Housekeeping.PurgeClosedUploads(ctx, s.Clock.Now().Add(-ClosedUploadRetention)); err != nil {
		return 0, err
	}
	var orphans []string
	seen, window := 0, time.Now()
	err := s.Blobs.List(ctx, func(key string, mod time.Time) error {
		if seen++; rate > 0 && seen%rate == 0 {
			if d := time.Second - time.Since(window); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
			window = time.Now()
		}
		if !mod.Before(olderThan) {
			return nil // may belong to an upload in flight
		}
		ok, err := s.Housekeeping.BlobReferenced(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			orphans = append(orphans, key)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range orphans {
		if err := s.Blobs.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	return len(orphans), nil
}
