package main

import (
	"flag"
	"fmt"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Small archives in the metadata database (internal/glacier/inline.go):
// an UploadArchive of at most --inline-archive-max bytes keeps its bytes
// in the metadata database, committed with the archive's row, instead of
// a file of its own.

// serviceBlobs is the blob store a service of this installation uses: the
// opened one, with inline keys routed to the metadata store's inline
// blobs. Every service gets it, whether or not it inlines new uploads,
// so archives stored inline by an earlier run stay readable.
func (s *stores) serviceBlobs() glacier.BlobStore {
	return glacier.InlineBlobs(s.blobs, s.meta.Roles().Inline)
}

// bindInlineFlag binds --inline-archive-max.
func bindInlineFlag(fs *flag.FlagSet, cfg *Config) {
	int64Flag(fs, &cfg.InlineArchiveMax, "inline-archive-max", cfg.InlineArchiveMax,
		fmt.Sprintf("archives uploaded in one request of at most this many bytes are kept in the metadata database, committed with their row (one durable write per upload, no file); 0 keeps every archive in the archive store; at most %d", glacier.MaxInlineArchiveMax))
}

// checkInlineArchiveMax validates --inline-archive-max.
func checkInlineArchiveMax(n int64) error {
	if n < 0 || n > glacier.MaxInlineArchiveMax {
		return usageError{fmt.Sprintf("--inline-archive-max (PERMAFROST_INLINE_ARCHIVE_MAX) must be between 0 (off) and %d bytes, not %d", glacier.MaxInlineArchiveMax, n)}
	}
	return nil
}
