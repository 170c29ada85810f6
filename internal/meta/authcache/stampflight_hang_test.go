package authcache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// hangingStamper hangs its first read (ignoring its context, as a read
// stuck in a dead connection may) until released; later reads answer at
// once with the number of reads started so far.
type hangingStamper struct {
	started atomic.Int64
	release chan struct{}
}

func (s *hangingStamper) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	n := s.started.Add(1)
	if n == 1 {
		<-s.release
	}
	return n, nil
}

// within runs read and fails t unless it returns within d.
func within(t *testing.T, d time.Duration, what string, read func() (int64, error)) (int64, error) {
	t.Helper()
	type res struct {
		v   int64
		err error
	}
	ch := make(chan res, 1)
	go func() { v, err := read(); ch <- res{v, err} }()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
		return 0, nil
	}
}

// A caller whose context ends stops waiting for a hung read, whether it
// started the read or queued behind it.
func TestStampFlightsWaitEndsWithTheCallersContext(t *testing.T) {
	st := &hangingStamper{release: make(chan struct{})}
	defer close(st.release)
	f := stampFlights{timeout: time.Hour}
	for _, who := range []string{"the caller that started the read", "a caller queued behind it"} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := within(t, 2*time.Second, who, func() (int64, error) { return f.read(ctx, st, "a") })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: err %v, want context.Canceled", who, err)
		}
	}
}

// A read that takes longer than the bound fails its callers (and those
// queued behind it get a new read, started after they asked); the next
// request starts a new read instead of waiting behind the hung one.
func TestStampFlightsHungReadTimesOut(t *testing.T) {
	st := &hangingStamper{release: make(chan struct{})}
	defer close(st.release)
	f := stampFlights{timeout: 50 * time.Millisecond}
	ctx := context.Background()
	queued := make(chan error, 1)
	var queuedV int64
	first := make(chan error, 1)
	go func() { _, err := f.read(ctx, st, "a"); first <- err }()
	for st.started.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		var err error
		queuedV, err = f.read(ctx, st, "a")
		queued <- err
	}()
	select {
	case err := <-first:
		if glacier.KindOf(err) != glacier.KindUnavailable {
			t.Fatalf("the hung read's caller got %v, want a KindUnavailable error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the hung read's caller still waits after 2s")
	}
	select {
	case err := <-queued:
		if err != nil || queuedV != 2 {
			t.Fatalf("the caller queued behind the hung read got %d, %v; want read 2 (started after it asked)", queuedV, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the caller queued behind the hung read still waits after 2s")
	}
	// A new request starts a new read at once.
	v, err := within(t, time.Second, "a later request", func() (int64, error) { return f.read(ctx, st, "a") })
	if err != nil || v != 3 {
		t.Fatalf("a later request got %d, %v; want read 3", v, err)
	}
	f.mu.Lock()
	left := len(f.m)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d accounts left in flight", left)
	}
}
