package authcache

import (
	"context"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Shared stamp reads. On PostgreSQL each use of a cached value reads the
// account's stamp (one round trip); concurrent requests of one account
// would each make their own. Instead, a request that needs the stamp
// while a read of it is in flight waits for the *next* read — one that
// starts after the request asked — and every request waiting then gets
// that read's answer. A read sees every change committed before it
// starts, so each request still sees every change committed before it
// asked: exactness is kept, and under load one round trip serves many
// requests. Each read runs on a goroutine of its own, so no request
// keeps serving others.
//
// A read cannot hold its account's requests forever: a caller stops
// waiting when its own context ends, and a read that takes longer than
// the bound (stampReadTimeout) fails its callers with KindUnavailable;
// the callers queued behind it get a new read (started after they asked,
// so still exact), and so does the next request. A hung read's late
// answer is dropped.

// stampReadTimeout bounds one shared stamp read: a read still going after
// it fails (the store's round trip is milliseconds; this is a dead
// connection or a stuck database).
const stampReadTimeout = 10 * time.Second

// memoryStamper is a store whose stamps are read from memory (the
// embedded store's mapped counters): nothing to share.
type memoryStamper interface {
	StampsInMemory() bool
}

type stampFlights struct {
	timeout time.Duration // 0: stampReadTimeout

	mu sync.Mutex
	m  map[string]*stampRound // the account's read in flight
}

// stampRound is one read in flight: its callers, and those of the next
// round (who asked while it was in flight).
type stampRound struct {
	base    context.Context // values only: never canceled
	st      Stamper
	account string
	waiters []chan stampResult
	next    []chan stampResult
	done    bool // answered (or timed out); guarded by stampFlights.mu
}

// stampResult is one read's answer: the authorization stamp and, when
// the store is a PairStamper, the data stamp read by the same statement
// (else data is auth).
type stampResult struct {
	auth, data int64
	err        error
}

// read returns the account's authorization stamp from a read that started
// after the call, or ctx's error when ctx ends first.
func (f *stampFlights) read(ctx context.Context, st Stamper, accountID string) (int64, error) {
	res := f.readBoth(ctx, st, accountID)
	return res.auth, res.err
}

// readBoth is read with the data stamp of the same read (a PairStamper's
// single statement): a request that needs both stamps costs one shared
// read.
func (f *stampFlights) readBoth(ctx context.Context, st Stamper, accountID string) stampResult {
	done := make(chan stampResult, 1)
	f.mu.Lock()
	if r, ok := f.m[accountID]; ok {
		r.next = append(r.next, done)
	} else {
		f.startLocked(context.WithoutCancel(ctx), st, accountID, []chan stampResult{done})
	}
	f.mu.Unlock()
	select {
	case res := <-done:
		return res
	case <-ctx.Done():
		return stampResult{err: ctx.Err()}
	}
}

// readStamps is one read of the store: both stamps in one statement when
// it offers that, else the authorization stamp standing for both.
func readStamps(ctx context.Context, st Stamper, accountID string) stampResult {
	if p, ok := st.(PairStamper); ok {
		a, d, err := p.Stamps(ctx, accountID)
		return stampResult{a, d, err}
	}
	v, err := st.AuthStamp(ctx, accountID)
	return stampResult{v, v, err}
}

// startLocked starts a read for waiters; f.mu is held. base, never
// canceled, only lends its values (the first caller's; later rounds reuse
// it, so contexts do not nest round after round): the read is bounded by
// the timeout, not by any one caller.
func (f *stampFlights) startLocked(base context.Context, st Stamper, accountID string, waiters []chan stampResult) {
	if f.m == nil {
		f.m = make(map[string]*stampRound)
	}
	r := &stampRound{base: base, st: st, account: accountID, waiters: waiters}
	f.m[accountID] = r
	timeout := f.timeout
	if timeout <= 0 {
		timeout = stampReadTimeout
	}
	rctx, cancel := context.WithTimeout(base, timeout)
	// The timer answers even if the store ignores the context.
	timer := time.AfterFunc(timeout, func() {
		f.finish(r, stampResult{err: glacier.Errorf(glacier.KindUnavailable,
			"reading the account's authorization stamp from the metadata store took longer than %v", timeout)})
	})
	go func() {
		defer cancel()
		res := readStamps(rctx, st, accountID)
		timer.Stop()
		f.finish(r, res)
	}()
}

// finish answers r's callers with res, unless r was answered already (a
// timeout, or a late answer after one), and starts the next round for
// the callers that queued meanwhile.
func (f *stampFlights) finish(r *stampRound, res stampResult) {
	f.mu.Lock()
	if r.done {
		f.mu.Unlock()
		return
	}
	r.done = true
	waiters, next := r.waiters, r.next
	r.waiters, r.next = nil, nil
	if len(next) > 0 {
		f.startLocked(r.base, r.st, r.account, next)
	} else if f.m[r.account] == r {
		delete(f.m, r.account)
	}
	f.mu.Unlock()
	for _, w := range waiters {
		w <- res // buffered: a caller that left does not block this
	}
}
