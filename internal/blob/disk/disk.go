// Package disk is a glacier.BlobStore on a local directory.
//
// Layout: blob key k lives in the file <dir>/blobs/<k>, its '/'-separated
// segments becoming directories; uploads in progress are temporary files in
// <dir>/tmp, on the same filesystem so that they can be linked into place.
// One process owns a directory at a time: Open empties tmp, and the owner
// (permafrost serve) holds a lock on the directory that contains the store
// (internal/dirlock) so that no second owner appears. Other processes —
// the operator commands, a scrub beside a running server — use OpenShared,
// which reads and never sweeps: it leaves tmp alone.
//
// Durability. Put returns nil only once the blob survives a power loss:
//
//  1. the bytes are streamed into a fresh temporary file through a pooled
//     1 MiB buffer (constant memory, large writes): an unnamed file in the
//     blob's directory where the file system offers them (unnamed.go),
//     else a named one in tmp;
//  2. every directory on the way to the blob is created if missing, and the
//     parent of each is fsynced so its entry is durable. Which directories
//     are known durable is remembered in memory (forgotten at restart, so
//     directories left by an earlier process are fsynced again once);
//  3. the temporary file is hard-linked under the final name, then the file
//     and the blob's directory are fsynced, at once (two flushes that
//     overlap; the directory's fsync is shared by the Puts that linked into
//     it meanwhile, dirsync.go), and the file closed; Put returns only
//     after both;
//  4. a temporary name in tmp is removed (not fsynced: a crash leaves at
//     worst a second name in tmp, which the next Open removes).
//
// A Put that fails removes the directories it made when they are left
// empty.
//
// Step 3 uses link(2) rather than rename(2) because link refuses to replace
// an existing name, atomically: Put never overwrites a blob, even when two
// Puts race for one key (one wins, the other gets KindConflict). A read
// error or cancellation happens before step 3 and leaves nothing under the
// final name. A crash during step 3 can leave a linked blob whose bytes are
// not all durable, under a key no metadata references: the service records
// an intent for every key before the blob can exist (glacier.IntentStore),
// and housekeeping removes such blobs; a failed fsync removes the name at
// once. Otherwise the only partial state a crash can leave is in tmp, and
// Open clears tmp. This is litestream's write, fsync, rename,
// fsync-the-directory (its file replica client), with link for rename, the
// two fsyncs overlapped, and the directories fsynced too.
//
// Delete unlinks the blob, fsyncs its directory (a deleted archive stays
// deleted after a crash), then removes the directories the removal left
// empty, up to but not including <dir>/blobs, so that short-lived key
// prefixes (per upload, per archive) do not accumulate. Directory creation
// in Put and directory removal in Delete happen under one mutex together
// with the link, so a Put never links into a directory that is being
// removed, nor into one whose entry is not yet durable.
//
// Keys are checked before any path is built: segments of [a-z0-9-]
// separated by single '/', no leading or trailing '/'. That excludes ".",
// "..", empty segments and absolute paths, so no key reaches outside
// <dir>/blobs. A key cannot be both a blob and a prefix of another blob
// ("a" and "a/b"): the second Put fails.
//
// Open seeks to the offset (it never reads and discards) and limits the
// reader to the requested length. An offset equal to the blob's size gives
// an empty reader; an offset beyond it is an error of KindInvalidParameter,
// because it means the caller's idea of the blob disagrees with the blob.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.BlobStore = (*Store)(nil)

// ErrInvalidKey is wrapped by the error every method returns for a key
// outside the key syntax. It is a bug in the caller, hence unclassified
// (KindInternal).
var ErrInvalidKey = errors.New("disk: invalid blob key")

const (
	dirPerm = 0o700
	// bufSize is the copy buffer of Put: large writes are what make
	// streaming to disk fast.
	bufSize = 1 << 20
	// maxKnownDirs bounds the memory of known-durable directories; past
	// it the set is forgotten, which only costs fsyncs.
	maxKnownDirs = 1 << 16
	// maxKeyLen bounds keys well below PATH_MAX.
	maxKeyLen = 1024
)

var bufPool = sync.Pool{New: func() any { b := alignedBuffer(bufSize); return &b }} // aligned for O_DIRECT (direct.go)

// Store keeps blobs as files under a directory. It is safe for concurrent
// use; only one Store (one process) may use a directory at a time.
type Store struct {
	dir   string
	blobs string
	tmp   string

	// mu serializes directory creation, linking into a directory and
	// directory removal; known holds directories under blobs whose entries
	// are durable.
	mu    sync.Mutex
	known map[string]struct{}

	// dirs groups the directory fsyncs of concurrent Puts (dirsync.go).
	dirs dirSyncer
	// noUnnamed: the file system offers no unnamed files (unnamed.go).
	noUnnamed atomic.Bool
	// noDirectRead: the file system refused an O_DIRECT read (directread.go).
	noDirectRead atomic.Bool

	// resMu guards the reserve (reserve.go): its size and whether it is
	// released.
	resMu    sync.Mutex
	reserve  int64
	released bool
}

// Open opens the store in dir as its owner, creating dir, dir/blobs and
// dir/tmp as needed, and removes everything in dir/tmp: temporary files of
// uploads a crash interrupted. Only the process that owns the directory
// may call it; see OpenShared.
func Open(dir string) (*Store, error) { return open(dir, true) }

// OpenShared opens the store like Open but leaves dir/tmp alone: the
// directory may have an owner (a running server) whose uploads in progress
// live there. For readers such as the operator commands and scrub.
func OpenShared(dir string) (*Store, error) { return open(dir, false) }

func open(dir string, owner bool) (*Store, error) {
	if dir == "" {
		return nil, errors.New("disk: no directory")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	s := &Store{
		dir:   dir,
		blobs: filepath.Join(dir, "blobs"),
		tmp:   filepath.Join(dir, "tmp"),
		known: make(map[string]struct{}),
	}
	_, err = os.Stat(dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	for _, d := range []string{s.blobs, s.tmp} {
		if err := os.Mkdir(d, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("disk: %w", err)
		}
		if fi, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("disk: %s is not a directory", d)
		}
	}
	// Make the entries of blobs and tmp durable, whoever created them: Put
	// relies on blobs being durable. dir's own entry is ours to sync only
	// if we created it.
	if created {
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	if !owner {
		return s, nil
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("disk: clearing tmp: %w", err)
		}
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Put stores everything read from r under key; see the package comment for
// the steps that make it durable. A read error of r, or the context's
// error, is returned as is. A key that exists gives KindConflict.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.admit(); err != nil {
		return 0, err
	}
	n, err = s.put(ctx, key, r)
	if err != nil && isNoSpace(err) {
		// Out of space: give the reserve back so that the deletes that
		// free space can commit, and refuse uploads until they have.
		s.releaseReserve()
		return n, diskFull(err)
	}
	return n, err
}

func (s *Store) put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	final := s.path(key)
	parent := filepath.Dir(final)

	// An unnamed file in the blob's directory where the file system offers
	// one (unnamed.go), else a named temporary file in tmp; O_DIRECT where
	// the file system takes it (direct.go).
	var f *os.File
	var direct, unnamed bool
	s.mu.Lock()
	err = s.ensureDirLocked(parent)
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}
	f, direct, unnamed = s.openUnnamed(parent)
	tmp := ""
	if !unnamed {
		if f, direct, err = createTemp(s.tmp); err != nil {
			return 0, fmt.Errorf("disk: put %s: %w", key, err)
		}
		tmp = f.Name()
	}
	linked := false
	defer func() {
		// The temporary name goes, whether or not it was linked.
		if f != nil {
			f.Close()
		}
		if tmp != "" {
			os.Remove(tmp)
		}
		if !linked {
			// A failed Put leaves nothing: not even the directories made
			// for it, when they are empty.
			s.mu.Lock()
			s.pruneLocked(parent)
			s.mu.Unlock()
		}
	}()

	n, err = copyFile(ctx, f, r, key, direct)
	if err != nil {
		return n, err
	}
	// Last chance to honour a cancellation: after the link the blob exists.
	if err := ctx.Err(); err != nil {
		return n, err
	}

	// The file is linked under its final name first, then the file and
	// the directory are fsynced at once: both are done before Put returns,
	// each after every change it must make durable, and the two flushes
	// overlap (on a journaling file system they usually share one journal
	// commit) instead of following each other.
	if err := s.link(f, tmp, final, parent); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return n, &glacier.Error{Kind: glacier.KindConflict, Message: "blob " + key + " already exists", Err: err}
		}
		return n, fmt.Errorf("disk: put %s: %w", key, err)
	}
	linked = true
	dirSynced := make(chan error, 1)
	go func() { dirSynced <- s.dirs.syncDir(parent) }()
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	f = nil
	if derr := <-dirSynced; err == nil {
		err = derr
	}
	if err != nil {
		// The blob is in place but not known durable: take it back rather
		// than leave a blob the caller believes was never stored.
		os.Remove(final)
		return n, fmt.Errorf("disk: put %s: %w", key, err)
	}
	return n, nil
}

// copyFile streams r into f through two pooled buffers: while one is being
// written to the file on a second goroutine, the next is filled from r —
// whose reads hash the bytes — so hashing and writing overlap instead of
// taking turns. Each buffer is filled before it is written and ctx is
// checked before each read. Errors of r and ctx are returned unchanged;
// write errors are wrapped. copyFile returns only after the last write has
// finished.
func copyFile(ctx context.Context, f *os.File, r io.Reader, key string, direct bool) (int64, error) {
	var bufs [2][]byte
	for i := range bufs {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		bufs[i] = *bp
	}
	writes := make(chan []byte)
	written := make(chan error, 1)
	go func() {
		for b := range writes {
			written <- writeBuffer(f, b, &direct)
		}
	}()
	defer close(writes)

	var total int64
	pending := false // a write is in flight
	wait := func() error {
		if !pending {
			return nil
		}
		pending = false
		if err := <-written; err != nil {
			return fmt.Errorf("disk: put %s: %w", key, err)
		}
		return nil
	}
	for i := 0; ; i ^= 1 {
		buf, n := bufs[i], 0
		var rerr error
		for n < len(buf) && rerr == nil {
			if err := ctx.Err(); err != nil {
				rerr = err
				break
			}
			var m int
			m, rerr = r.Read(buf[n:])
			n += m
		}
		// The other buffer's write must be done before this one is sent,
		// and before the next fill reuses it.
		if err := wait(); err != nil {
			return total, err
		}
		if rerr != nil && rerr != io.EOF {
			return total, rerr
		}
		if n > 0 {
			total += int64(n)
			writes <- buf[:n]
			pending = true
		}
		if rerr == io.EOF {
			return total, wait()
		}
	}
}

// link makes sure parent exists durably and links the temporary file —
// named tmp, or f itself when tmp is "" (unnamed.go) — to final in it,
// under s.mu so that no Delete removes parent in between.
func (s *Store) link(f *os.File, tmp, final, parent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureDirLocked(parent); err != nil {
		return err
	}
	if tmp == "" {
		return linkUnnamed(f, final)
	}
	return os.Link(tmp, final)
}

// ensureDirLocked creates dir and its missing ancestors below s.blobs and
// fsyncs the parent of each one not yet known durable. s.mu is held.
func (s *Store) ensureDirLocked(dir string) error {
	if dir == s.blobs {
		return nil
	}
	if _, ok := s.known[dir]; ok {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := s.ensureDirLocked(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirPerm); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is a blob, not a key prefix", strings.TrimPrefix(filepath.ToSlash(dir), filepath.ToSlash(s.blobs)+"/"))
		}
	}
	// Also when the directory existed: it may have been created by an
	// earlier process that crashed before making it durable.
	if err := syncDir(parent); err != nil {
		return err
	}
	if len(s.known) >= maxKnownDirs {
		clear(s.known)
	}
	s.known[dir] = struct{}{}
	return nil
}

// Open returns the blob's bytes [offset, offset+length), or to the end when
// length < 0. An offset equal to the size gives an empty reader, an offset
// beyond it (or negative) KindInvalidParameter. A missing blob is
// KindNotFound.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "negative offset %d", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if isNotExist(err) {
			return nil, notFound(key, err)
		}
		return nil, fmt.Errorf("disk: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk: open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notFound(key, nil)
	}
	if offset > fi.Size() {
		f.Close()
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "offset %d beyond the end of blob %s (%d bytes)", offset, key, fi.Size())
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("disk: open %s: %w", key, err)
		}
	}
	if length < 0 || length >= adviseMin {
		adviseSequential(f, offset, length)
	}
	rc := &reader{f: f, r: f}
	if length >= 0 {
		rc.r = &io.LimitedReader{R: f, N: length}
	}
	if (length < 0 || length >= directReadMin) && !s.noDirectRead.Load() {
		return &directReader{reader: rc, s: s, base: offset, n: length}, nil
	}
	return rc, nil
}

// adviseMin is the smallest read for which Open tells the kernel that the
// file will be read sequentially (a syscall not worth it for small blobs).
const adviseMin = 4 << 20

// reader reads a blob file. WriteTo leaves the file (or an
// *io.LimitedReader of it) visible to io.Copy, so that copying to a socket
// can use sendfile.
type reader struct {
	f *os.File
	r io.Reader
}

func (r *reader) Read(p []byte) (int, error)         { return r.r.Read(p) }
func (r *reader) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, r.r) }
func (r *reader) Close() error                       { return r.f.Close() }

// Delete removes the blob, durably, and the directories left empty; a
// missing blob is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a key prefix, not a blob
	}
	if err := os.Remove(p); err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	parent := filepath.Dir(p)
	if err := syncDir(parent); err != nil && !isNotExist(err) {
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(parent)
	return nil
}

// pruneLocked removes dir and its ancestors below blobs while they are
// empty. s.mu is held.
func (s *Store) pruneLocked(dir string) {
	for d := dir; d != s.blobs && strings.HasPrefix(d, s.blobs); d = filepath.Dir(d) {
		// Fails, and stops the climb, on the first non-empty directory.
		if err := os.Remove(d); err != nil {
			break
		}
		delete(s.known, d)
	}
}

// List calls fn for every blob under blobs with its key and modification
// time. Blobs deleted during the walk may or may not be reported; files
// whose names are not keys (placed by hand) are skipped.
func (s *Store) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	return filepath.WalkDir(s.blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != s.blobs && isNotExist(err) {
				return nil // removed by a concurrent Delete
			}
			return fmt.Errorf("disk: list: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.blobs, p)
		if err != nil {
			return fmt.Errorf("disk: list: %w", err)
		}
		key := filepath.ToSlash(rel)
		if checkKey(key) != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return fmt.Errorf("disk: list: %w", err)
		}
		return fn(key, fi.ModTime())
	})
}

// path returns the file of a checked key.
func (s *Store) path(key string) string {
	return filepath.Join(s.blobs, filepath.FromSlash(key))
}

// checkKey accepts segments of [a-z0-9-] separated by single slashes.
func checkKey(key string) error {
	if !validKey(key) {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	return nil
}

func validKey(key string) bool {
	return len(key) <= maxKeyLen && glacier.ValidBlobKey(key)
}

func notFound(key string, err error) error {
	return &glacier.Error{Kind: glacier.KindNotFound, Message: "blob " + key + " not found", Err: err}
}

// isNotExist also counts ENOTDIR: a key below a blob ("a/b" when "a" is a
// blob) does not exist either.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// syncDir fsyncs a directory, making the entries created or removed in it
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
