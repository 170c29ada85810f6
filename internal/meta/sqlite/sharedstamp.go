package sqlite

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// sharedStamp is a pair of change counters in a small file beside the
// database (PATH-stamp), mapped into every process that opens the store:
// the server and the operator commands (keys, users, policy…) that write
// the same file beside it.
//
//   - The data counter (gen, pending) moves with every write transaction.
//   - The authorization counter (authGen, authPending) moves with every
//     write transaction except those that change only what authorization
//     never reads: archives created and deleted, with their vault's
//     counters and last write, and blob intents (the group-committed writes,
//     groupcommit.go). Keys, users, vaults created or deleted, access
//     policies, locks, tags — every other write — move it.
//
// A write, in any process, raises pending (and authPending) and the
// generation(s) before it begins and, once it committed (or failed),
// raises the generation(s) again and lowers pending. A reader that sees
// pending = 0 and the generation it read before it read a value knows that
// no write of that kind began since, and none was in flight then: the
// value is still what the database holds. Reading it costs two atomic
// loads — no statement, no lock, no system call — which is what lets the
// server keep authorization data in memory (AuthStamp, DataStamp,
// internal/meta/authcache). So an upload does not invalidate a cached
// access key, user or vault policy; it does invalidate a vault's counters.
//
// A writer that dies between raising and lowering pending leaves it
// raised: the stamps then report "in flight" and the cache reads the
// database every time — slower, never wrong. Every process holds a shared
// flock on the file while it has the store open; one that opens the store
// and finds no other holder (an exclusive flock succeeds) knows that no
// writer is alive, and clears pending. So a server restarted after a
// crash, with no operator command running beside it, caches again.
type sharedStamp struct {
	f           *os.File // holds the shared flock
	mem         []byte
	gen         *atomic.Int64
	pending     *atomic.Int64
	authGen     *atomic.Int64
	authPending *atomic.Int64
}

const sharedStampSize = 4096

// openSharedStamp maps PATH-stamp, creating it; nil when that fails (a
// read-only directory): AuthStamp then reads the stamps table instead.
func openSharedStamp(dbPath string) *sharedStamp {
	f, err := os.OpenFile(dbPath+"-stamp", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
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
	s := &sharedStamp{
		f:           f,
		mem:         mem,
		gen:         (*atomic.Int64)(unsafe.Pointer(&mem[0])),
		pending:     (*atomic.Int64)(unsafe.Pointer(&mem[8])),
		authGen:     (*atomic.Int64)(unsafe.Pointer(&mem[16])),
		authPending: (*atomic.Int64)(unsafe.Pointer(&mem[24])),
	}
	fd := int(f.Fd())
	if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		// Nobody else has the store open, so nobody is writing: a raised
		// pending is a dead writer's. Clear it, and move both generations
		// so that no value tagged before the crash can match.
		s.pending.Store(0)
		s.authPending.Store(0)
		s.gen.Add(2)
		s.authGen.Add(2)
	}
	// Converting the lock releases it first; a process that opens the
	// store in between sees the cleared stamp, which is what it is.
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		syscall.Munmap(mem)
		return nil
	}
	ok = true
	return s
}

// begin marks a write in flight, an authorization write when auth is
// true; the returned func ends it.
func (s *sharedStamp) begin(auth bool) func() {
	if s == nil {
		return func() {}
	}
	if auth {
		s.authPending.Add(1)
		s.authGen.Add(1)
	}
	s.pending.Add(1)
	s.gen.Add(1)
	return func() {
		s.gen.Add(1)
		s.pending.Add(-1)
		if auth {
			s.authGen.Add(1)
			s.authPending.Add(-1)
		}
	}
}

// read returns the data generation, or -1 while a write is in flight.
func (s *sharedStamp) read() int64 { return readStamp(s.gen, s.pending) }

// readAuth returns the authorization generation, or -1 while a write that
// moves it is in flight.
func (s *sharedStamp) readAuth() int64 { return readStamp(s.authGen, s.authPending) }

func readStamp(gen, pending *atomic.Int64) int64 {
	if pending.Load() != 0 {
		return -1
	}
	g := gen.Load()
	if pending.Load() != 0 {
		return -1
	}
	return g
}

func (s *sharedStamp) close() {
	if s != nil {
		syscall.Munmap(s.mem)
		s.f.Close() // releases the flock
	}
}
