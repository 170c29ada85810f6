package disk

import (
	"context"
	"fmt"
	"os"
)

// Ping checks that the store's directories are there (the health check).
func (s *Store) Ping(ctx context.Context) error {
	for _, d := range []string{s.blobs, s.tmp} {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("disk: %s is not a directory", d)
		}
	}
	return ctx.Err()
}
