package glacier

import "context"

// Reset returns a test installation to empty: every vault with its
// archives, uploads, jobs, policies, lock (Locked or not), tags and
// notification configuration, all provisioned capacity, queued
// notifications and the accounts' data retrieval policies are removed, and
// so are the blobs they referenced. Accounts, users and access keys stay.
// It is not a Glacier operation and makes no authorization decision: only
// test installations (permafrost serve --dev or --test-clock) expose it.
// It returns how many blobs it removed.
func (s *Service) Reset(ctx context.Context) (int, error) {
	orphans, err := s.Housekeeping.ResetData(ctx, []string{retrievalPolicyKey})
	if err != nil {
		return 0, err
	}
	s.deleteBlobs(ctx, orphans)
	s.logger().Info("installation reset", "blobs_removed", len(orphans))
	return len(orphans), nil
}
