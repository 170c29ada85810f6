package main

import (
	"context"

	"github.com/permafrost/permafrost/internal/glacier"
)

// openPostgres and openS3 are the scale-out engines (issue 6); until their
// packages land they refuse clearly.
func openPostgres(ctx context.Context, dsn string) (glacier.MetaStore, bool, error) {
	return nil, false, usageError{"--meta postgres://… is not available in this build"}
}

func openS3(ctx context.Context, rawURL string) (glacier.BlobStore, error) {
	return nil, usageError{"--blobs s3://… is not available in this build"}
}
