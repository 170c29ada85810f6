package glacier

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/permafrost/permafrost/internal/treehash"
)

// fileBlobs is a one-blob BlobStore on a file, read like the disk store
// reads (seek, then a limited reader of the *os.File).
type fileBlobs struct{ path string }

func (b fileBlobs) Put(context.Context, string, io.Reader) (int64, error) { panic("unused") }
func (b fileBlobs) Delete(context.Context, string) error                  { panic("unused") }
func (b fileBlobs) List(context.Context, func(string, time.Time) error) error {
	panic("unused")
}

type fileReader struct {
	*os.File
	r io.Reader
}

func (f fileReader) Read(p []byte) (int, error)         { return f.r.Read(p) }
func (f fileReader) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, f.r) }

func (b fileBlobs) Open(_ context.Context, _ string, off, n int64) (io.ReadCloser, error) {
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	f.Seek(off, io.SeekStart)
	return fileReader{f, io.LimitReader(f, n)}, nil
}

// directFileBlobs is fileBlobs whose readers also read at offsets with
// O_DIRECT, as the disk store's large readers do (BlobReaderAt).
type directFileBlobs struct{ fileBlobs }

type directFileReader struct {
	fileReader
	df  *os.File
	off int64
}

func (r directFileReader) ReadBlobAt(p []byte, off int64) (int, error) {
	k := len(p) &^ (chunkAlign - 1)
	m, err := r.df.ReadAt(p[:k], r.off+off)
	if err != nil {
		return m, err
	}
	n, err := r.File.ReadAt(p[k:], r.off+off+int64(k))
	return m + n, err
}

func (directFileBlobs) ReadsAt() bool { return true }

func (r directFileReader) Close() error { r.df.Close(); return r.File.Close() }

func (b directFileBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := b.fileBlobs.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	df, err := os.OpenFile(b.path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return rc, nil // refused: a plain reader
	}
	return directFileReader{rc.(fileReader), df, off}, nil
}

// BenchmarkRetrieval compares serving a 64 MiB archive from a file
// without verification — the sequential read GetJobOutput did before —
// and with every MiB checked against its leaf, with the page cache warm
// and (-cold) with the file's cached pages dropped before each run, so
// that the read-ahead must keep the disk busy while MiBs are hashed.
func BenchmarkRetrieval(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(b.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	s := &Service{Blobs: fileBlobs{path}}
	a := Archive{ID: "a", Size: size, Segments: []Segment{{BlobKey: "k", Size: size}}}
	leaves := treehash.Leaves(data)
	drop := func(b *testing.B, cold bool) {
		if !cold {
			return
		}
		b.StopTimer()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StartTimer()
	}
	for _, cold := range []bool{false, true} {
		suffix := ""
		if cold {
			suffix = "-cold"
		}
		b.Run("sequential-read"+suffix, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				drop(b, cold)
				r := &segmentReader{ctx: context.Background(), blobs: s.Blobs, segs: a.Segments, pos: 0, end: size}
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatal(n, err)
				}
			}
		})
		for _, direct := range []bool{false, true} {
			name, s := "verified", s
			if direct {
				name, s = "verified-direct", &Service{Blobs: directFileBlobs{fileBlobs{path}}}
			}
			b.Run(name+suffix, func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					drop(b, cold)
					r, err := s.newVerifiedReader(context.Background(), a, leaves, 0, size-1, "")
					if err != nil {
						b.Fatal(err)
					}
					if n, err := io.Copy(io.Discard, r); err != nil || n != size {
						b.Fatal(n, err)
					}
					r.Close()
				}
			})
		}
	}
}
