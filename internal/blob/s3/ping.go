package s3

import "context"

// Ping checks that the bucket answers HeadBucket (the health check).
func (s *Store) Ping(ctx context.Context) error { return s.checkBucket(ctx) }
