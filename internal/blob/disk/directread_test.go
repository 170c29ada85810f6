package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/permafrost/permafrost/internal/glacier"
)

// directTestDirs are a directory on the data disk and one on tmpfs
// (/dev/shm), with whether O_DIRECT opens there (tmpfs takes it since
// Linux 6.6), and a third, on the data disk, where the test makes
// O_DIRECT refused (EINVAL, as older tmpfs and some network file systems
// answer).
func directTestDirs(t *testing.T) map[string]bool {
	t.Helper()
	refusing := t.TempDir()
	saved := openDirect
	openDirect = func(name string) (*os.File, error) {
		if target, err := os.Readlink(name); err == nil && strings.HasPrefix(target, refusing) {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EINVAL}
		}
		return saved(name)
	}
	t.Cleanup(func() { openDirect = saved })
	dirs := map[string]bool{refusing: false}
	for _, d := range []string{t.TempDir(), "/dev/shm"} { // as the file system says
		if d == "/dev/shm" {
			var err error
			if d, err = os.MkdirTemp("/dev/shm", "permafrost-directread-"); err != nil {
				t.Fatalf("tmpfs for the fallback: %v", err)
			}
			t.Cleanup(func() { os.RemoveAll(d) })
		}
		probe, err := os.OpenFile(filepath.Join(d, "probe"), os.O_CREATE|os.O_RDWR|syscall.O_DIRECT, 0o600)
		if err == nil {
			probe.Close()
		}
		dirs[d] = err == nil
	}
	return dirs
}

// TestReadBlobAt: a large reader reads at offsets byte for byte — aligned
// and unaligned buffers and offsets, the last partial block, past the end
// of the range, from several goroutines at once, mixed with sequential
// reads — with O_DIRECT on the data disk and through the page cache on
// tmpfs, where the store stops offering the ability. A blob just stored
// reads back exactly through the direct path.
func TestReadBlobAt(t *testing.T) {
	const mib = 1 << 20
	rng := rand.New(rand.NewPCG(13, 13))
	data := make([]byte, 9*mib+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for dir, directOK := range directTestDirs(t) {
		s, err := Open(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		key := "directread/blob"
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		type rng2 struct{ off, n int64 }
		for _, o := range []rng2{{0, -1}, {0, int64(len(data))}, {mib, 5 * mib}, {4096, -1}, {mib + 1, 3 * mib}, {5, 2*mib + 7}} {
			rc, err := s.Open(context.Background(), key, o.off, o.n)
			if err != nil {
				t.Fatal(err)
			}
			at, ok := rc.(glacier.BlobReaderAt)
			if !ok {
				if !directOK && s.noDirectRead.Load() {
					rc.Close()
					continue // refused before: the ability is no longer offered
				}
				t.Fatalf("%s: a %d-byte reader lacks ReadBlobAt", dir, o.n)
			}
			want := data[o.off:]
			if o.n >= 0 {
				want = want[:o.n]
			}
			label := fmt.Sprintf("%s (O_DIRECT %v), range %d+%d", dir, directOK, o.off, o.n)
			// Sequential reads first: ReadBlobAt must not move them.
			head := make([]byte, 100)
			if _, err := io.ReadFull(rc, head); err != nil || !bytes.Equal(head, want[:100]) {
				t.Fatalf("%s: sequential head: %v", label, err)
			}
			// Drop the blob's cached pages (written, then read ahead by
			// the head read) so that ReadBlobAt reads from the disk; on
			// tmpfs they stay (they are the storage) and are copied.
			uncache(t, s.path(key))
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						off := int64(i*4+g) * mib
						if off > int64(len(want))+mib {
							return
						}
						buf := alignedBuffer(mib + directAlign)
						p := buf[:mib]
						if i%3 == 2 {
							p = buf[1 : mib+1] // unaligned buffer
						}
						q := off + int64(i%2)*513 // unaligned offset
						n, err := at.ReadBlobAt(p, q)
						var exp []byte
						if q < int64(len(want)) {
							exp = want[q:min(int64(len(want)), q+mib)]
						}
						if !bytes.Equal(p[:n], exp) {
							errs <- fmt.Errorf("ReadBlobAt at %d: %d bytes differ from the blob's %d", q, n, len(exp))
							return
						}
						if n < len(p) && !errors.Is(err, io.EOF) || n == len(p) && err != nil {
							errs <- fmt.Errorf("ReadBlobAt at %d: %d bytes, err %v", q, n, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("%s: %v", label, err)
			}
			if directOK && !onTmpfs(dir) && o.off%directAlign == 0 {
				// Now cached (the sequential reads around): copied from
				// the page cache, not read directly again.
				f, _ := os.Open(s.path(key))
				io.Copy(io.Discard, f)
				f.Close()
				used := 0
				drc, _ := s.Open(context.Background(), key, o.off, o.n)
				buf := alignedBuffer(mib)
				if n, _ := drc.(glacier.BlobReaderAt).ReadBlobAt(buf, 0); !bytes.Equal(buf[:n], want[:min(len(want), mib)]) {
					t.Fatalf("%s: cached ReadBlobAt differs", label)
				}
				if drc.(*directReader).df != nil {
					used++
				}
				drc.Close()
				if used > 0 && !noCachestat.Load() {
					t.Errorf("%s: a cached MiB was read with O_DIRECT", label)
				}
			}
			var rest bytes.Buffer
			if _, err := io.Copy(&rest, rc); err != nil || !bytes.Equal(rest.Bytes(), want[100:]) {
				t.Fatalf("%s: sequential rest after ReadBlobAt: %d bytes, %v", label, rest.Len(), err)
			}
			dr := rc.(*directReader)
			if directOK && !onTmpfs(dir) && o.off%directAlign == 0 && dr.df == nil {
				t.Errorf("%s: aligned MiB reads did not use O_DIRECT", label)
			}
			rc.Close()
		}
		if !directOK {
			if !s.noDirectRead.Load() {
				t.Errorf("%s refuses O_DIRECT, yet the store did not notice", dir)
			}
			rc, _ := s.Open(context.Background(), key, 0, -1)
			if _, ok := rc.(glacier.BlobReaderAt); ok {
				t.Errorf("%s refuses O_DIRECT, yet readers still offer ReadBlobAt", dir)
			}
			rc.Close()
		}
		// Small readers keep the plain path.
		rc, _ := s.Open(context.Background(), key, 0, 4096)
		if _, ok := rc.(glacier.BlobReaderAt); ok {
			t.Errorf("%s: a 4 KiB reader offers ReadBlobAt", dir)
		}
		rc.Close()
	}
}

// TestReadBlobAtFreshWrite: bytes written through the page cache and not
// yet written back (a file changed in place, unlike stored blobs, but the
// worst case) read back exactly with O_DIRECT: the kernel flushes the
// dirty range first.
func TestReadBlobAtFreshWrite(t *testing.T) {
	for dir, directOK := range directTestDirs(t) {
		s, err := Open(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		key := "fresh/blob"
		data := bytes.Repeat([]byte("permafrost"), 300000)
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		rc, err := s.Open(context.Background(), key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		// Dirty the page cache without syncing.
		f, err := os.OpenFile(s.path(key), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		patch := bytes.Repeat([]byte{0xa5}, 3*4096+11)
		if _, err := f.WriteAt(patch, 8192); err != nil {
			t.Fatal(err)
		}
		f.Close()
		copy(data[8192:], patch)
		if at, ok := rc.(glacier.BlobReaderAt); ok {
			buf := alignedBuffer(len(data) + directAlign)
			n, err := at.ReadBlobAt(buf, 0)
			if n != len(data) || !errors.Is(err, io.EOF) || !bytes.Equal(buf[:n], data) {
				t.Errorf("%s (O_DIRECT %v): read back %d bytes (%v), want the %d just written", dir, directOK, n, err, len(data))
			}
		} else if directOK {
			t.Errorf("%s: a large reader lacks ReadBlobAt", dir)
		}
		rc.Close()
	}
}

func uncache(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

func onTmpfs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.TMPFS_MAGIC
}
