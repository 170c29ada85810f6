package main

import "github.com/permafrost/permafrost/internal/glacier"

// UnwrapBlobStore lets the service find the wrapped store's capabilities
// (archive-class restores) through the metrics wrapper.
func (c countingBlobs) UnwrapBlobStore() glacier.BlobStore { return c.BlobStore }

// baseBlobs is the blob store under every wrapper (the metrics wrapper,
// the inline router): what serve's own wiring asks about the store's kind
// and abilities (a local directory's reserve, S3 Object Lock and audit
// anchors, the S3 endpoint of select output). Asking the wrapper instead
// would silently turn those off whenever --metrics-listen is set.
func (st stores) baseBlobs() glacier.BlobStore {
	b := st.blobs
	for {
		w, ok := b.(glacier.BlobStoreWrapper)
		if !ok {
			return b
		}
		b = w.UnwrapBlobStore()
	}
}
