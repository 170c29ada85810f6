//go:build linux

package disk

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// sysCachestat is cachestat(2) (Linux 6.5), the same number on every
// architecture.
const sysCachestat = 451

// noCachestat: the kernel has no cachestat; every direct read is done.
var noCachestat atomic.Bool

// cached says whether the page cache holds all of f's n bytes at off now
// (cachestat(2): a count of cached pages, no I/O, no read-ahead), so that
// a blob read recently is copied from memory rather than read again from
// the disk. False when the kernel cannot tell.
func cached(f *os.File, off, n int64) bool {
	if noCachestat.Load() || n <= 0 {
		return false
	}
	rng := struct{ off, len uint64 }{uint64(off), uint64(n)}
	var cs struct{ cache, dirty, writeback, evicted, recentlyEvicted uint64 }
	_, _, e := syscall.Syscall6(sysCachestat, f.Fd(), uintptr(unsafe.Pointer(&rng)), uintptr(unsafe.Pointer(&cs)), 0, 0, 0)
	if e != 0 {
		if e == syscall.ENOSYS {
			noCachestat.Store(true)
		}
		return false
	}
	pages := (off+n+int64(os.Getpagesize())-1)/int64(os.Getpagesize()) - off/int64(os.Getpagesize())
	return int64(cs.cache) >= pages
}
