package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/permafrost/permafrost/internal/glacier"
)

// A full disk must never trap the operator: deleting an archive, aborting
// an upload or deleting a vault writes to the metadata database, which
// needs a little space. The owner of a store therefore keeps a reserve
// file of n bytes in the store's directory (SetReserve). When a Put runs
// out of space the reserve is released, so the space is there for the
// metadata writes that free space; while it is released, Puts are refused
// unless the disk has room for the reserve three times over, and the first
// Put that finds that room takes the reserve back and proceeds. Uploads on
// a full disk fail with KindUnavailable (a 5xx) and leave nothing behind:
// the temporary file goes, nothing is linked.

// reserveName is the reserve file in the store's directory.
const reserveName = "reserve"

// SetReserve keeps n bytes in reserve (0 turns the reserve off and
// releases it). It is for the store's owner only.
func (s *Store) SetReserve(n int64) error {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	s.reserve = n
	if n <= 0 {
		os.Remove(s.reservePath())
		return nil
	}
	return s.takeReserveLocked()
}

func (s *Store) reservePath() string { return filepath.Join(s.dir, reserveName) }

// takeReserveLocked (re)creates the reserve file at its full size if it is
// missing or short; on a full disk it leaves it released.
func (s *Store) takeReserveLocked() error {
	p := s.reservePath()
	if fi, err := os.Stat(p); err == nil && fi.Size() >= s.reserve {
		s.released = false
		return nil
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("disk: reserve: %w", err)
	}
	// Real blocks, not a sparse file: allocated (or, where fallocate is
	// not supported, written).
	werr := syscall.Fallocate(int(f.Fd()), 0, 0, s.reserve)
	if werr != nil && !isNoSpace(werr) {
		buf := make([]byte, 1<<20)
		werr = nil
		for off := int64(0); off < s.reserve && werr == nil; off += int64(len(buf)) {
			_, werr = f.WriteAt(buf[:min(int64(len(buf)), s.reserve-off)], off)
		}
	}
	if werr == nil {
		werr = f.Sync()
	}
	f.Close()
	if werr != nil {
		os.Remove(p)
		s.released = true
		if isNoSpace(werr) {
			return nil // taken back once space is freed
		}
		return fmt.Errorf("disk: reserve: %w", werr)
	}
	s.released = false
	return nil
}

// releaseReserve gives the reserve's space back to the filesystem.
func (s *Store) releaseReserve() {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if s.reserve <= 0 || s.released {
		return
	}
	os.Remove(s.reservePath())
	s.released = true
}

// admit decides whether a Put may start: always, unless the reserve is
// released and the disk has not yet room for three reserves, in which
// case the disk is (still) full.
func (s *Store) admit() error {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if s.reserve <= 0 || !s.released {
		return nil
	}
	if free, err := freeBytes(s.dir); err == nil && free >= 3*s.reserve {
		if err := s.takeReserveLocked(); err == nil && !s.released {
			return nil
		}
	}
	return diskFull(nil)
}

func diskFull(err error) error {
	return &glacier.Error{Kind: glacier.KindUnavailable, Message: "The server's data disk is full: uploads are refused until space is freed (deleting archives, aborting multipart uploads and deleting vaults still work)", Err: err}
}

// isNoSpace reports whether err is the filesystem running out of space
// (or of the user's quota).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// CheckSpace releases the reserve when the disk is nearly full (less free
// space than the reserve's size), whatever filled it, and takes it back
// once there is room for three reserves. The owner calls it periodically.
func (s *Store) CheckSpace() {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if s.reserve <= 0 {
		return
	}
	free, err := freeBytes(s.dir)
	if err != nil {
		return
	}
	switch {
	case !s.released && free < s.reserve:
		os.Remove(s.reservePath())
		s.released = true
	case s.released && free >= 3*s.reserve:
		s.takeReserveLocked()
	}
}
