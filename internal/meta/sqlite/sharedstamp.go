package sqlite

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// sharedStamp is a change counter in a small file beside the database
// (PATH-stamp), mapped into every process that opens the store: the
// server and the operator commands (keys, users, policy…) that write the
// same file beside it. Every write transaction, in any of them, raises
// pending and the generation before it begins and, once it committed (or
// failed), raises the generation again and lowers pending. A reader that
// sees pending = 0 and the generation it read before it read a value knows
// that no write began since, and none was in flight then: the value is
// still what the database holds. Reading it costs two atomic loads — no
// statement, no lock, no system call — which is what lets the server keep
// authorization data in memory (AuthStamp, internal/meta/authcache).
//
// A writer that dies between raising and lowering pending leaves it
// raised: every AuthStamp then reports "in flight" and the cache reads the
// database every time — slower, never wrong — until the file is removed
// while no process has the store open.
type sharedStamp struct {
	mem     []byte
	gen     *atomic.Int64
	pending *atomic.Int64
}

const sharedStampSize = 4096

// openSharedStamp maps PATH-stamp, creating it; nil when that fails (a
// read-only directory): AuthStamp then reads the stamps table instead.
func openSharedStamp(dbPath string) *sharedStamp {
	f, err := os.OpenFile(dbPath+"-stamp", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil
	} else if fi.Size() < sharedStampSize {
		if err := f.Truncate(sharedStampSize); err != nil {
			return nil
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, sharedStampSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return &sharedStamp{
		mem:     mem,
		gen:     (*atomic.Int64)(unsafe.Pointer(&mem[0])),
		pending: (*atomic.Int64)(unsafe.Pointer(&mem[8])),
	}
}

// begin marks a write in flight; the returned func ends it.
func (s *sharedStamp) begin() func() {
	if s == nil {
		return func() {}
	}
	s.pending.Add(1)
	s.gen.Add(1)
	return func() {
		s.gen.Add(1)
		s.pending.Add(-1)
	}
}

// read returns the generation, or -1 while a write is in flight.
func (s *sharedStamp) read() int64 {
	if s.pending.Load() != 0 {
		return -1
	}
	g := s.gen.Load()
	if s.pending.Load() != 0 {
		return -1
	}
	return g
}

func (s *sharedStamp) close() {
	if s != nil {
		syscall.Munmap(s.mem)
	}
}
