package glacier

import (
	"context"
	"github.com/permafrost/permafrost/internal/audit"
	"time"
)

// IntentStore keeps the blob intents: the blob keys that may be referenced
// by nothing. The service records one (at its own wall-clock time) before
// it writes a blob; the store clears it in the transaction that commits
// metadata referencing the blob, and records one in every transaction that
// drops a reference (a deleted archive, an aborted upload, a replaced
// part, a purged job or inventory snapshot). A crash anywhere therefore
// leaves a row, and housekeeping examines only the rows, never the whole
// blob store.
type IntentStore interface {
	// AddBlobIntents: see BlobIntentBatcher (intentpool.go).
	BlobIntentBatcher
	// AddBlobIntent records key at time at (keeping an existing, older
	// record).
	AddBlobIntent(ctx context.Context, key string, at time.Time) error
	// BlobIntents returns up to limit recorded keys recorded before the
	// given time, oldest first.
	BlobIntents(ctx context.Context, before time.Time, limit int) ([]string, error)
	// ClearBlobIntents forgets the records of keys recorded before the
	// given time (none is not an error), in one transaction; a record
	// refreshed since stays.
	ClearBlobIntents(ctx context.Context, keys []string, before time.Time) error
	// CountBlobIntents returns how many records there are.
	CountBlobIntents(ctx context.Context) (int64, error)
	// SpaceUsage sums the bytes the metadata accounts for (see SpaceUsage).
	SpaceUsage(ctx context.Context, jobsBefore, idleBefore time.Time) (SpaceUsage, error)
}

// SpaceUsage is what the stored bytes are held for.
type SpaceUsage struct {
	// LiveArchives is the bytes of archives not deleted.
	LiveArchives int64 `json:"live_archive_bytes"`
	// InFlightUploads is the bytes of parts of open multipart uploads
	// active within the idle timeout.
	InFlightUploads int64 `json:"in_flight_upload_bytes"`
	// RetainedJobOutputs is the bytes kept only because a finished job
	// still inside its retention (--job-retention, 24 h by default) may be
	// downloaded: segments of deleted archives that a succeeded retrieval
	// pinned, and inventory outputs.
	RetainedJobOutputs int64 `json:"retained_job_output_bytes"`
	// ExpiredUnpurged is the bytes whose retention is over but which the
	// next purge has not removed yet: outputs of jobs past their retention
	// and parts of uploads idle beyond the idle timeout.
	ExpiredUnpurged int64 `json:"expired_unpurged_bytes"`
}

// SpaceUsage reports what the stored bytes are held for, on the service
// clock.
func (s *Service) SpaceUsage(ctx context.Context) (SpaceUsage, error) {
	if s.Intents == nil {
		return SpaceUsage{}, Errorf(KindInternal, "the metadata store does not account for space")
	}
	now := s.Clock.Now()
	return s.Intents.SpaceUsage(ctx, now.Add(-s.jobRetention()), now.Add(-s.uploadIdleTimeout()))
}

// intentBatch is how many intents one housekeeping query examines.
const intentBatch = 500

// ProcessIntents examines the blob intents recorded before olderThan (at
// most now - SweepGrace while any process may be uploading into the
// store, since a younger intent may belong to an upload in flight, on this
// node or another sharing the stores; a server that owns its data
// directory may pass its start time): a blob that nothing references is
// removed, and the record is forgotten. Its cost is proportional to what
// changed, not to what is stored. It returns the number of
// unreferenced keys it removed (most of them already gone).
func (s *Service) ProcessIntents(ctx context.Context, olderThan time.Time) (removed int, err error) {
	is := s.Intents
	if is == nil {
		return 0, nil
	}
	for {
		keys, err := is.BlobIntents(ctx, olderThan, intentBatch)
		if err != nil {
			return removed, err
		}
		settled := keys[:0:0]
		for _, k := range keys {
			ref, err := s.Housekeeping.BlobReferenced(ctx, k)
			if err != nil {
				return removed, err
			}
			if !ref {
				// Usually already gone (a delete removes its blobs at
				// once); removing a missing blob is not an error. A blob
				// the store refuses to remove (an S3 object under a
				// retention date not yet passed) keeps its record for a
				// later pass.
				if err := s.Blobs.Delete(ctx, k); err != nil {
					s.logger().Warn("blob delete failed; a later housekeeping pass will retry", "key", k, "err", err)
					continue
				}
				removed++
			}
			settled = append(settled, k)
		}
		if err := is.ClearBlobIntents(ctx, settled, olderThan); err != nil {
			return removed, err
		}
		if len(keys) < intentBatch || len(settled) == 0 || ctx.Err() != nil {
			return removed, ctx.Err()
		}
	}
}

// recordIntent records key before its blob is written.
func (s *Service) recordIntent(ctx context.Context, key string) error {
	if is := s.Intents; is != nil {
		// Housekeeping, not the request's change: the request's audit
		// record commits with its metadata, never with the intent.
		return is.AddBlobIntent(audit.Detach(ctx), key, time.Now())
	}
	return nil
}
