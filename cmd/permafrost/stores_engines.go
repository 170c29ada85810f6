package main

import (
	"context"
	"fmt"

	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/postgres"
)

// openPostgres opens the PostgreSQL metadata store; several nodes may share
// it.
func openPostgres(ctx context.Context, dsn string) (metaStore, bool, error) {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, false, redactedError{fmt.Errorf("metadata store %s: %w", redact(dsn), err)}
	}
	return db, true, nil
}

// openS3 opens the S3-compatible blob store.
func openS3(ctx context.Context, rawURL string) (glacier.BlobStore, error) {
	st, err := s3.Open(ctx, rawURL)
	if err != nil {
		return nil, redactedError{fmt.Errorf("archive store: %w", err)}
	}
	return st, nil
}
