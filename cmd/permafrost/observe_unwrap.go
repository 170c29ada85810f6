package main

import "github.com/permafrost/permafrost/internal/glacier"

// UnwrapBlobStore lets the service find the wrapped store's capabilities
// (archive-class restores) through the metrics wrapper.
func (c countingBlobs) UnwrapBlobStore() glacier.BlobStore { return c.BlobStore }
