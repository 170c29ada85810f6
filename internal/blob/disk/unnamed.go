package disk

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// Unnamed files. Where the kernel and the file system offer O_TMPFILE
// (ext4, xfs, btrfs, tmpfs), a Put writes its bytes into an unnamed file
// opened in the blob's own directory and gives it its name with one
// linkat(2) once the bytes are written: no temporary name is created in
// tmp nor removed afterwards, and the new inode is allocated beside its
// directory (spread over the key prefixes) rather than always in tmp's
// part of the file system, where searching for a free inode had become
// the costliest step of a small upload on a busy disk. What is visible
// under the final name is unchanged: nothing before the link, which still
// refuses an existing name; a crash before the link leaves nothing at all
// (the file system frees an unnamed inode). Elsewhere Put uses a named
// temporary file in tmp, as before.

// unnamedOK reports whether this process can link unnamed files: the
// link goes through /proc/self/fd.
var unnamedOK = func() bool {
	_, err := os.Stat("/proc/self/fd")
	return oTmpfile != 0 && err == nil
}()

// openUnnamed opens a new unnamed file in dir, with O_DIRECT where the
// file system takes it. ok is false when dir's file system offers no
// unnamed files (remembered: Put then uses named temporary files).
func (s *Store) openUnnamed(dir string) (f *os.File, direct, ok bool) {
	if !unnamedOK || s.noUnnamed.Load() {
		return nil, false, false
	}
	flags := syscall.O_RDWR | syscall.O_CLOEXEC | oTmpfile
	_, refused := noDirect.Load(s.tmp) // the same file system as tmp
	for _, d := range []bool{!refused, false} {
		fl := flags
		if d {
			fl |= syscall.O_DIRECT
		}
		fd, err := syscall.Open(dir, fl, 0o600)
		if err == nil {
			return os.NewFile(uintptr(fd), dir+"/(unnamed)"), d, true
		}
		if d && errors.Is(err, syscall.EINVAL) {
			continue // perhaps O_DIRECT: try without
		}
		if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EINVAL) {
			s.noUnnamed.Store(true) // no O_TMPFILE here (EISDIR: a kernel without it)
		}
		return nil, false, false // ENOENT (the directory just went) and the rest: a named file this time
	}
	return nil, false, false
}

// linkUnnamed gives the unnamed file f the name final (which must not
// exist).
func linkUnnamed(f *os.File, final string) error {
	old, err := syscall.BytePtrFromString("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return err
	}
	nw, err := syscall.BytePtrFromString(final)
	if err != nil {
		return err
	}
	const atFDCWD = ^uintptr(99) // -100
	const atSymlinkFollow = 0x400
	_, _, e := syscall.Syscall6(syscall.SYS_LINKAT, atFDCWD, uintptr(unsafe.Pointer(old)), atFDCWD, uintptr(unsafe.Pointer(nw)), atSymlinkFollow, 0)
	if e != 0 {
		return &os.LinkError{Op: "link", Old: f.Name(), New: final, Err: e}
	}
	return nil
}
