package glacier

import (
	"context"
	"time"
)

// ClosedUploadRetention is how long completed and aborted uploads are
// remembered so that a repeated Complete or Abort answers as AWS does
// (limits.md §2, [CHOICE] 24 h).
const ClosedUploadRetention = 24 * time.Hour

// Sweep removes blobs that no metadata references and that were last
// modified before olderThan: leftovers of uploads interrupted between the
// blob write and the metadata commit, or of deletes interrupted between the
// commit and the blob removal. It also forgets long-closed uploads. It
// returns the number of blobs removed.
func (s *Service) Sweep(ctx context.Context, olderThan time.Time) (int, error) {
	if _, err := s.Meta.PurgeClosedUploads(ctx, s.Clock.Now().Add(-ClosedUploadRetention)); err != nil {
		return 0, err
	}
	var orphans []string
	err := s.Blobs.List(ctx, func(key string, mod time.Time) error {
		if !mod.Before(olderThan) {
			return nil // may belong to an upload in flight
		}
		ok, err := s.Meta.BlobReferenced(ctx, key)
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
