package disk

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// Direct reads. A large reader also reads at offsets (ReadBlobAt, the
// glacier.BlobReaderAt ability): the verified download keeps several MiB
// reads in flight that way, each going from the device straight into the
// download's aligned buffer with O_DIRECT — no page-cache pages to fill,
// copy out of and later reclaim, which on a small machine is CPU the
// download's hashing and socket need. The bytes are the file's all the
// same: the kernel writes back any dirty cached pages of a range before
// reading it directly. What is not aligned (the buffer, the offset, the
// last partial block) is read through the page cache, as is everything on
// a file system that refuses O_DIRECT (tmpfs: the store then stops
// offering the ability). Sequential Read and WriteTo (sendfile) are as
// before.

// directReadMin is the smallest opened range offered direct reads.
const directReadMin = 1 << 20

// ReadsAt says that large readers read at offsets (glacier.BlobStoreReadsAt),
// until the file system refused O_DIRECT.
func (s *Store) ReadsAt() bool { return !s.noDirectRead.Load() }

// directReader is a reader of a large range that also reads at offsets.
type directReader struct {
	*reader
	s    *Store
	base int64 // the blob offset Open was given
	n    int64 // the range's length, < 0: to the end

	once sync.Once
	df   *os.File // the same file opened with O_DIRECT; nil if refused
}

// ReadBlobAt reads len(p) bytes at off, counted from the range's start,
// without moving the reader; safe for concurrent use.
func (r *directReader) ReadBlobAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("disk: negative offset")
	}
	short := false
	if r.n >= 0 {
		if off >= r.n {
			return 0, io.EOF
		}
		if rest := r.n - off; int64(len(p)) > rest {
			p, short = p[:rest], true
		}
	}
	abs := r.base + off
	done := 0
	// What the page cache holds already (a blob read recently) is
	// copied from there, as before.
	if k := len(p) &^ (directAlign - 1); k > 0 && abs%directAlign == 0 && uintptr(unsafe.Pointer(&p[0]))%directAlign == 0 && !cached(r.f, abs, int64(k)) {
		if df := r.direct(); df != nil && !r.s.noDirectRead.Load() {
			m, err := df.ReadAt(p[:k], abs)
			switch {
			case err == nil:
				done = m
			case m == 0 && (errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP)):
				// Accepted at open, refused at read: through the cache.
				r.s.noDirectRead.Store(true)
			default:
				return m, err // io.EOF: the file is shorter
			}
		}
	}
	m, err := r.f.ReadAt(p[done:], abs+int64(done))
	done += m
	if err == nil && short {
		err = io.EOF
	}
	return done, err
}

// direct returns the file opened again with O_DIRECT (through /proc, so
// it is the same file even if the blob was removed since), or nil when the
// file system refuses it.
func (r *directReader) direct() *os.File {
	r.once.Do(func() {
		if r.s.noDirectRead.Load() {
			return
		}
		df, err := openDirect("/proc/self/fd/" + strconv.Itoa(int(r.f.Fd())))
		if err != nil {
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP) {
				r.s.noDirectRead.Store(true)
			}
			return
		}
		r.df = df
	})
	return r.df
}

// openDirect opens name for reading with O_DIRECT (a variable: tests
// make it refuse, as tmpfs did before Linux 6.6 and some network file
// systems still do).
var openDirect = func(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECT, 0)
}

func (r *directReader) Close() error {
	if r.df != nil {
		r.df.Close()
	}
	return r.reader.Close()
}
