package disk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/permafrost/permafrost/internal/blob/blobtest"
	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/glacier"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) glacier.BlobStore { return MustOpen(t, t.TempDir()) })
}

// MustOpen opens a store in dir and fails the test if it cannot.
func MustOpen(tb testing.TB, dir string) *disk.Store {
	tb.Helper()
	s, err := disk.Open(dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

// tree returns the slash paths of everything under dir, sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "store")
	MustOpen(t, dir)
	if got, want := tree(t, dir), []string{"blobs", "tmp"}; !slices.Equal(got, want) {
		t.Errorf("layout = %q, want %q", got, want)
	}
}

func TestOpenRemovesTmpLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir)
	blobtest.Put(t, s, "kept/blob", []byte("kept"))
	if err := os.WriteFile(filepath.Join(dir, "tmp", "put-123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp", "sub", "deeper"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tmp", "sub", "deeper", "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, dir)
	if got := tree(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Errorf("tmp after Open = %q, want empty", got)
	}
	if got := blobtest.Read(t, s, "kept/blob", 0, -1); string(got) != "kept" {
		t.Errorf("kept/blob after reopening = %q, want %q", got, "kept")
	}
}

func TestOpenRefusesFileAsDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blobs"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.Open(dir); err == nil {
		t.Errorf("Open with a file named blobs: no error")
	}
}

func TestFilesInPlace(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir)
	data := blobtest.RandomBytes(7, 123_457)
	blobtest.Put(t, s, "a/b/c", data)
	got, err := os.ReadFile(filepath.Join(dir, "blobs", "a", "b", "c"))
	if err != nil {
		t.Fatalf("blob file: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("blob file holds %d bytes, want the %d put", len(got), len(data))
	}
	fi, err := os.Stat(filepath.Join(dir, "blobs", "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("blob file mode %v, want 0600", perm)
	}
	if got := tree(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Errorf("tmp after Put = %q, want empty", got)
	}
}

func TestFailedPutLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir)
	fail := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), errReader{fail})
	if _, err := s.Put(context.Background(), "x/y", r); !errors.Is(err, fail) {
		t.Fatalf("Put: err %v, want %v", err, fail)
	}
	if got := tree(t, dir); !slices.Equal(got, []string{"blobs", "tmp"}) {
		t.Errorf("after a failed Put the store holds %q, want only blobs and tmp", got)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestPutExistingIsConflict(t *testing.T) {
	s := MustOpen(t, t.TempDir())
	blobtest.Put(t, s, "k", []byte("one"))
	_, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("two")))
	if k := glacier.KindOf(err); k != glacier.KindConflict {
		t.Errorf("Put of an existing key: err %v of kind %v, want %v", err, k, glacier.KindConflict)
	}
}

// TestHostileKeys checks that refused keys touch nothing, inside the store
// or beside it.
func TestHostileKeys(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s := MustOpen(t, dir)
	if err := os.WriteFile(filepath.Join(parent, "victim"), []byte("safe"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{
		"../victim", "../../victim", "a/../../victim", "/victim", "//victim",
		filepath.Join(parent, "victim")[1:] + "/..", "..", ".", "a/.", "tmp/../../victim",
		"../tmp/x", "a\x00", "a/b/", "~", "$HOME", "a:b", "a%2f..",
	} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte("evil"))); !errors.Is(err, disk.ErrInvalidKey) {
			t.Errorf("Put(%q): err %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, disk.ErrInvalidKey) {
			t.Errorf("Delete(%q): err %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Open(ctx, key, 0, -1); !errors.Is(err, disk.ErrInvalidKey) {
			t.Errorf("Open(%q): err %v, want ErrInvalidKey", key, err)
		}
	}
	if got, want := tree(t, parent), []string{"store", "store/blobs", "store/tmp", "victim"}; !slices.Equal(got, want) {
		t.Errorf("after hostile keys the tree is %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(parent, "victim")); err != nil || string(b) != "safe" {
		t.Errorf("victim = %q, %v; want it untouched", b, err)
	}
}

func TestDeletePrunesEmptyDirs(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir)
	ctx := context.Background()
	blobtest.Put(t, s, "a/b/c", []byte("c"))
	blobtest.Put(t, s, "a/b/d", []byte("d"))
	blobtest.Put(t, s, "a/e", []byte("e"))
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, filepath.Join(dir, "blobs")), []string{"a", "a/b", "a/b/d", "a/e"}; !slices.Equal(got, want) {
		t.Errorf("after deleting a/b/c: %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "a/b/d"); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, filepath.Join(dir, "blobs")), []string{"a", "a/e"}; !slices.Equal(got, want) {
		t.Errorf("after deleting a/b/d: %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "a/e"); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, filepath.Join(dir, "blobs")); len(got) != 0 {
		t.Errorf("after deleting everything: %q, want an empty blobs directory", got)
	}
	// Pruned directories come back for the next Put.
	blobtest.Put(t, s, "a/b/c", []byte("again"))
	if got := blobtest.Read(t, s, "a/b/c", 0, -1); string(got) != "again" {
		t.Errorf("a/b/c = %q, want %q", got, "again")
	}
}

// A key cannot be both a blob and a prefix: the file system has one name
// for both.
func TestBlobAndPrefix(t *testing.T) {
	s := MustOpen(t, t.TempDir())
	ctx := context.Background()
	blobtest.Put(t, s, "a", []byte("a"))
	if _, err := s.Put(ctx, "a/b", bytes.NewReader([]byte("b"))); err == nil {
		t.Errorf("Put(a/b) with blob a: no error")
	}
	blobtest.Put(t, s, "c/d", []byte("d"))
	if _, err := s.Put(ctx, "c", bytes.NewReader([]byte("c"))); err == nil {
		t.Errorf("Put(c) with blob c/d: no error")
	}
	if got, want := blobtest.Keys(t, s), []string{"a", "c/d"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	blobtest.NotVisible(t, s, "a/b")
	blobtest.NotVisible(t, s, "c")
}

func TestListSkipsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir)
	blobtest.Put(t, s, "ok", []byte("x"))
	if err := os.WriteFile(filepath.Join(dir, "blobs", "README.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := blobtest.Keys(t, s); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("List = %q, want [ok]", got)
	}
}

const benchSize = 64 << 20

// BenchmarkPut stores 64 MiB per iteration; compare with
// BenchmarkRawWrite, the same bytes written and fsynced by hand.
func BenchmarkPut(b *testing.B) {
	s := MustOpen(b, b.TempDir())
	ctx := context.Background()
	b.SetBytes(benchSize)
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/%d", i)
		i++
		if _, err := s.Put(ctx, key, blobtest.NewPatternReader(benchSize)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkRawWrite is the baseline: create, write in 1 MiB chunks from the
// same generator, fsync, close.
func BenchmarkRawWrite(b *testing.B) {
	dir := b.TempDir()
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	for b.Loop() {
		name := filepath.Join(dir, "raw")
		f, err := os.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		r := blobtest.NewPatternReader(benchSize)
		for {
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				if _, werr := f.Write(buf[:n]); werr != nil {
					b.Fatal(werr)
				}
			}
			if err != nil {
				break
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(name)
		b.StartTimer()
	}
}
