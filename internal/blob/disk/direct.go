package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Direct I/O. Archive bytes are written to their temporary file with
// O_DIRECT where the file system accepts it: they go from the (aligned,
// pooled) buffer to the device without a copy into the page cache, which
// on a small machine costs more CPU than hashing them. Every buffer but an
// upload's last is full (bufSize, a multiple of the block size) and
// written directly; the last one's unaligned tail is written after
// O_DIRECT is switched off on the file. Where O_DIRECT is refused (tmpfs,
// some network file systems) the file is opened as before. Durability is
// unchanged: the file is still fsynced (O_DIRECT alone does not flush the
// device's cache nor the file's metadata), then linked, then its directory
// fsynced.

// directAlign is the alignment O_DIRECT needs of buffers, offsets and
// lengths on the file systems permafrost meets (4 KiB logical blocks or
// smaller).
const directAlign = 4096

// noDirect remembers the temporary directories that refused O_DIRECT,
// so that later uploads do not try again.
var noDirect sync.Map // dir → true

// alignedBuffer returns a size-byte slice starting on a directAlign
// boundary.
func alignedBuffer(size int) []byte {
	raw := make([]byte, size+directAlign)
	off := int(uintptr(unsafe.Pointer(&raw[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	return raw[off : off+size : off+size]
}

var tempSeq atomic.Uint64

// createTemp creates a new temporary file in dir, like os.CreateTemp(dir,
// "put-*"), opened with O_DIRECT when the file system takes it; direct
// says whether it was.
func createTemp(dir string) (f *os.File, direct bool, err error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, "put-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.FormatUint(tempSeq.Add(1), 36))
		flags := os.O_RDWR | os.O_CREATE | os.O_EXCL
		if _, refused := noDirect.Load(dir); !refused {
			f, err = os.OpenFile(name, flags|syscall.O_DIRECT, 0o600)
			if err == nil {
				return f, true, nil
			}
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP) {
				noDirect.Store(dir, true)
			}
		}
		f, err = os.OpenFile(name, flags, 0o600)
		if err == nil || !errors.Is(err, os.ErrExist) || try > 100 {
			return f, false, err
		}
	}
}

// writeBuffer writes b to f; on a file opened with O_DIRECT (*direct), an
// unaligned length (the last buffer) is written as its aligned part, then
// the rest after O_DIRECT is switched off, and *direct becomes false.
func writeBuffer(f *os.File, b []byte, direct *bool) error {
	if *direct && len(b)%directAlign != 0 {
		aligned := len(b) &^ (directAlign - 1)
		if aligned > 0 {
			if _, err := f.Write(b[:aligned]); err != nil {
				return err
			}
		}
		if err := setDirect(f, false); err != nil {
			return err
		}
		*direct = false
		b = b[aligned:]
	}
	_, err := f.Write(b)
	return err
}

// setDirect turns O_DIRECT on or off on an open file.
func setDirect(f *os.File, on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e != 0 {
			serr = e
			return
		}
		if on {
			fl |= syscall.O_DIRECT
		} else {
			fl &^= syscall.O_DIRECT
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, fl); e != 0 {
			serr = e
		}
	})
	if err != nil {
		return err
	}
	return serr
}
