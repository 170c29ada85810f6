package authcache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowStamper returns, for each read, the number of reads started so far,
// and blocks each read until released.
type slowStamper struct {
	started atomic.Int64
	release chan struct{}
}

func (s *slowStamper) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	n := s.started.Add(1)
	<-s.release
	return n, nil
}

// TestStampFlightsStartAfterAsking: a caller that asks while a read is in
// flight gets the answer of a read started after it asked, never the one
// in flight; callers waiting together share one read.
func TestStampFlightsStartAfterAsking(t *testing.T) {
	st := &slowStamper{release: make(chan struct{})}
	var f stampFlights
	ctx := context.Background()
	first := make(chan int64, 1)
	go func() { v, _ := f.read(ctx, st, "a"); first <- v }()
	for st.started.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	// Read 1 is in flight: these three ask now and must get read 2.
	var wg sync.WaitGroup
	got := make([]int64, 3)
	for i := range got {
		wg.Go(func() { got[i], _ = f.read(ctx, st, "a") })
	}
	for {
		f.mu.Lock()
		n := len(f.m["a"].next)
		f.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(st.release) // every read returns at once from now on
	if v := <-first; v != 1 {
		t.Errorf("first caller got read %d, want 1", v)
	}
	wg.Wait()
	for i, v := range got {
		if v != 2 {
			t.Errorf("caller %d, who asked while read 1 was in flight, got read %d, want 2 (shared, started after it asked)", i, v)
		}
	}
	if n := st.started.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
	f.mu.Lock()
	left := len(f.m)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d accounts left in flight", left)
	}
}
