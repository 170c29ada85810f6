package glacier

import (
	"context"
	"errors"
	"io"
	"sync"
	"unsafe"

	"github.com/permafrost/permafrost/internal/treehash"
)

// BlobReaderAt is an optional ability of the reader a BlobStore's Open
// returns: ReadBlobAt reads len(p) bytes at off, counted from the offset
// Open was given, without moving the reader, and may be called from
// several goroutines at once. It returns fewer than len(p) bytes only with
// an error (io.EOF past the end of the opened range). The disk store
// offers it for large reads of files that take O_DIRECT: the verified
// download then keeps several MiB reads in flight straight into its
// aligned buffers, instead of one sequential read through the page cache.
// A reader that wraps another must not hide it (countingBlobs returns the
// store's reader as it is).
type BlobReaderAt interface {
	ReadBlobAt(p []byte, off int64) (int, error)
}

// BlobStoreReadsAt is implemented by blob stores whose readers may offer
// BlobReaderAt (the disk store, while its file system takes O_DIRECT);
// it is found through wrappers (BlobStoreWrapper). Only for them does
// writeAhead open a segment to ask its reader, so a stream store (S3) is
// not sent a request it would not use.
type BlobStoreReadsAt interface {
	ReadsAt() bool
}

// readsAt says whether s.Blobs, or a store it wraps, may read at offsets.
func (s *Service) readsAt() bool {
	b := s.Blobs
	for {
		if r, ok := b.(BlobStoreReadsAt); ok {
			return r.ReadsAt()
		}
		w, ok := b.(BlobStoreWrapper)
		if !ok {
			return false
		}
		b = w.UnwrapBlobStore()
	}
}

// chunkAlign is the alignment of chunkPool's buffers, so that a blob store
// may read into them with direct I/O (4 KiB: the block size of the file
// systems permafrost meets).
const chunkAlign = 4096

// chunkPool holds MiB buffers starting on a chunkAlign boundary.
var chunkPool = sync.Pool{New: func() any {
	raw := make([]byte, treehash.ChunkSize+chunkAlign)
	off := (chunkAlign - int(uintptr(unsafe.Pointer(&raw[0]))%chunkAlign)) % chunkAlign
	b := raw[off : off+treehash.ChunkSize : off+treehash.ChunkSize]
	return &b
}}

// segmentsAt reads archive bytes at any offset across the archive's
// segments, from several goroutines at once, for writeAhead. Segments are
// opened when first read (over their whole size, so offsets are the
// segment's own) and closed once the writer is past them; a segment whose
// reader lacks BlobReaderAt (an inline blob, a stream) is read by opening
// it at the needed range each time.
type segmentsAt struct {
	ctx   context.Context
	blobs BlobStore
	segs  []Segment
	bases []int64 // archive offset of each segment

	mu   sync.Mutex
	open map[int]io.ReadCloser // BlobReaderAt or not
}

// newSegmentsAt returns the reader for the span starting at pos, or nil
// when the segment holding pos does not read at offsets (the sequential
// read-ahead then serves, as for streams).
func newSegmentsAt(ctx context.Context, blobs BlobStore, segs []Segment, pos int64) (*segmentsAt, error) {
	r := &segmentsAt{ctx: ctx, blobs: blobs, segs: segs, bases: make([]int64, len(segs)), open: map[int]io.ReadCloser{}}
	var base int64
	for i, s := range segs {
		r.bases[i] = base
		base += s.Size
	}
	i := r.segment(pos)
	if i < 0 {
		return nil, nil
	}
	rc, err := r.reader(i)
	if err != nil {
		return nil, err
	}
	if _, ok := rc.(BlobReaderAt); !ok {
		r.Close()
		return nil, nil
	}
	return r, nil
}

// segment is the index of the segment holding archive offset pos, -1 past
// the end.
func (r *segmentsAt) segment(pos int64) int {
	for i, s := range r.segs {
		if pos < r.bases[i]+s.Size {
			return i
		}
	}
	return -1
}

func (r *segmentsAt) reader(i int) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rc, ok := r.open[i]; ok {
		return rc, nil
	}
	rc, err := r.blobs.Open(r.ctx, r.segs[i].BlobKey, 0, r.segs[i].Size)
	if err != nil {
		return nil, err
	}
	r.open[i] = rc
	return rc, nil
}

// ReadFullAt fills p with the archive's bytes at pos. A short blob is
// io.ErrUnexpectedEOF (or io.EOF when nothing was read).
func (r *segmentsAt) ReadFullAt(p []byte, pos int64) (int, error) {
	done := 0
	for done < len(p) {
		i := r.segment(pos + int64(done))
		if i < 0 {
			return done, Errorf(KindInternal, "archive offset %d is beyond its segments", pos+int64(done))
		}
		in := pos + int64(done) - r.bases[i]
		q := p[done:min(len(p), done+int(r.segs[i].Size-in))]
		rc, err := r.reader(i)
		if err != nil {
			return done, err
		}
		var n int
		if at, ok := rc.(BlobReaderAt); ok {
			n, err = at.ReadBlobAt(q, in)
		} else {
			n, err = r.readOpened(i, q, in)
		}
		done += n
		if n < len(q) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			if done == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return done, err
		}
	}
	return done, nil
}

// readOpened reads q at in of segment i through a reader opened for it.
func (r *segmentsAt) readOpened(i int, q []byte, in int64) (int, error) {
	rc, err := r.blobs.Open(r.ctx, r.segs[i].BlobKey, in, int64(len(q)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.ReadFull(rc, q)
}

// release closes the segments that end at or before pos.
func (r *segmentsAt) release(pos int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rc := range r.open {
		if r.bases[i]+r.segs[i].Size <= pos {
			rc.Close()
			delete(r.open, i)
		}
	}
}

func (r *segmentsAt) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rc := range r.open {
		rc.Close()
		delete(r.open, i)
	}
	return nil
}
