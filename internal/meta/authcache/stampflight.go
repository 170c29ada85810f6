package authcache

import (
	"context"
	"sync"
)

// Shared stamp reads. On PostgreSQL each use of a cached value reads the
// account's stamp (one round trip); concurrent requests of one account
// would each make their own. Instead, a request that needs the stamp
// while a read of it is in flight waits for the *next* read — one that
// starts after the request asked — and every request waiting then gets
// that read's answer. A read sees every change committed before it
// starts, so each request still sees every change committed before it
// asked: exactness is kept, and under load one round trip serves many
// requests. The first caller runs the read itself; a following round runs
// on its own goroutine, so that no request keeps serving others.

// memoryStamper is a store whose stamps are read from memory (the
// embedded store's mapped counters): nothing to share.
type memoryStamper interface {
	StampsInMemory() bool
}

type stampFlights struct {
	mu sync.Mutex
	m  map[string]*stampRound
}

// stampRound is an account's read in flight and the callers of its next
// round.
type stampRound struct {
	next []chan stampResult
}

type stampResult struct {
	v   int64
	err error
}

// read returns the account's stamp from a read that started after the
// call.
func (f *stampFlights) read(ctx context.Context, st Stamper, accountID string) (int64, error) {
	done := make(chan stampResult, 1)
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[string]*stampRound)
	}
	if r, ok := f.m[accountID]; ok {
		r.next = append(r.next, done)
		f.mu.Unlock()
	} else {
		f.m[accountID] = &stampRound{}
		f.mu.Unlock()
		f.run(context.WithoutCancel(ctx), st, accountID, []chan stampResult{done})
	}
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run reads the stamp for waiters, then starts the next round if callers
// queued meanwhile.
func (f *stampFlights) run(ctx context.Context, st Stamper, accountID string, waiters []chan stampResult) {
	v, err := st.AuthStamp(ctx, accountID)
	for _, w := range waiters {
		w <- stampResult{v, err}
	}
	f.mu.Lock()
	r := f.m[accountID]
	next := r.next
	r.next = nil
	if len(next) == 0 {
		delete(f.m, accountID)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	go f.run(ctx, st, accountID, next)
}
