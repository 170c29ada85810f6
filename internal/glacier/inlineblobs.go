package glacier

import (
	"bytes"
	"context"
	"io"
	"time"
)

// InlineBlobs returns the blob store the service uses: blobs routes every
// key, except inline keys (inline.go), which go to in. Every reader of
// blobs — job outputs, select, integrity checks, the sweep, deletes,
// migrate — thus reaches inline blobs unchanged. With in nil it returns
// blobs itself. Capabilities of blobs (Restorer, Retainer, a full disk's
// refusal) are found through it (BlobStoreWrapper).
func InlineBlobs(blobs BlobStore, in InlineStore) BlobStore {
	if in == nil || blobs == nil {
		return blobs
	}
	return &inlineBlobs{blobs: blobs, in: in}
}

type inlineBlobs struct {
	blobs BlobStore
	in    InlineStore
}

// UnwrapBlobStore returns the blob store that keeps every other key.
func (b *inlineBlobs) UnwrapBlobStore() BlobStore { return b.blobs }

// Put stores an inline key's bytes as one row (at most
// MaxInlineArchiveMax bytes); other keys go to the blob store.
func (b *inlineBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if !IsInlineKey(key) {
		return b.blobs.Put(ctx, key, r)
	}
	if err := CheckInlineBlob(key, nil); err != nil {
		return 0, err // before reading a body no store would take
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxInlineArchiveMax+1))
	if err != nil {
		return int64(len(data)), err
	}
	if err := CheckInlineBlob(key, data); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := b.in.PutInlineBlob(ctx, key, data, time.Now()); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

// Open returns bytes [offset, offset+length) of the blob (length < 0: to
// the end), as the disk store does.
func (b *inlineBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if !IsInlineKey(key) {
		return b.blobs.Open(ctx, key, offset, length)
	}
	if offset < 0 {
		return nil, Errorf(KindInvalidParameter, "negative offset %d", offset)
	}
	data, err := b.in.GetInlineBlob(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > int64(len(data)) {
		return nil, Errorf(KindInvalidParameter, "offset %d beyond the end of blob %s (%d bytes)", offset, key, len(data))
	}
	data = data[offset:]
	if length >= 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Delete removes the blob; a missing blob is not an error.
func (b *inlineBlobs) Delete(ctx context.Context, key string) error {
	if !IsInlineKey(key) {
		return b.blobs.Delete(ctx, key)
	}
	return b.in.DeleteInlineBlob(ctx, key)
}

// inlineListPage is how many inline blobs one listing query reads.
const inlineListPage = 1000

// List lists the blob store, then the inline blobs (a page at a time, so
// fn never runs inside a store transaction) with the time each was
// stored.
func (b *inlineBlobs) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	if err := b.blobs.List(ctx, fn); err != nil {
		return err
	}
	after := ""
	for {
		page, err := b.in.InlineBlobPage(ctx, after, inlineListPage)
		if err != nil {
			return err
		}
		for _, ib := range page {
			if err := fn(ib.Key, ib.CreatedAt); err != nil {
				return err
			}
		}
		if len(page) < inlineListPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}
