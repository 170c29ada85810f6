package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a service clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) GetSetting(_ context.Context, k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k], nil
}

func (s *memSettings) PutSetting(_ context.Context, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

func (s *memSettings) SwapSetting(_ context.Context, k, old, v string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[k] != old {
		return false, nil
	}
	s.m[k] = v
	return true, nil
}

// start runs s until the test ends or the returned stop is called.
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// Tasks are due on the service clock: moving it (and waking the scheduler,
// as a test-clock advance does) runs them, however little real time passed.
func TestTasksRunOnTheServiceClock(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(&countingWorker{}, time.Hour, nil)
	s.Clock = clk
	var atStart, later atomic.Int64
	s.Add(Task{Name: "sweep", Every: time.Hour, AtStart: true, Run: func(context.Context) error { atStart.Add(1); return nil }})
	s.Add(Task{Name: "reconcile", Every: 24 * time.Hour, Run: func(context.Context) error { later.Add(1); return nil }})
	start(t, s)
	waitFor(t, "the start-up run", func() bool { return atStart.Load() == 1 })
	clk.advance(time.Hour)
	s.Wake()
	waitFor(t, "the second run", func() bool { return atStart.Load() == 2 })
	if later.Load() != 0 {
		t.Fatal("a task without AtStart ran at start")
	}
	clk.advance(24 * time.Hour)
	s.Wake()
	waitFor(t, "the daily run", func() bool { return later.Load() == 1 })
}

// A failed run is repeated after Retry, not after Every.
func TestFailedTaskIsRetried(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(&countingWorker{}, 5*time.Millisecond, nil)
	s.Clock = clk
	var runs atomic.Int64
	s.Add(Task{Name: "sweep", Every: time.Hour, AtStart: true, Retry: time.Second, Run: func(context.Context) error {
		if runs.Add(1) == 1 {
			return errors.New("store down")
		}
		return nil
	}})
	start(t, s)
	waitFor(t, "the failed run", func() bool { return runs.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != 1 {
		t.Fatal("retried before Retry passed on the service clock")
	}
	clk.advance(time.Second)
	waitFor(t, "the retry", func() bool { return runs.Load() == 2 })
}

// A long run neither blocks the due work nor overlaps itself; the kept
// last start survives a restart.
func TestLongTaskRunsAloneAndKeepsItsStart(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := &memSettings{m: map[string]string{}}
	w := &countingWorker{}
	s := New(w, 5*time.Millisecond, nil)
	s.Clock, s.Settings = clk, st
	release := make(chan struct{})
	var runs, concurrent, maxConcurrent atomic.Int64
	s.Add(Task{Name: "scrub", Every: time.Minute, AtStart: true, StateKey: "scrub.last", Run: func(ctx context.Context) error {
		runs.Add(1)
		if c := concurrent.Add(1); c > maxConcurrent.Load() {
			maxConcurrent.Store(c)
		}
		defer concurrent.Add(-1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}})
	stop := start(t, s)
	waitFor(t, "the first run", func() bool { return runs.Load() == 1 })
	before := w.passes.Load()
	clk.advance(time.Hour) // due again while the first run goes on
	waitFor(t, "due work meanwhile", func() bool { return w.passes.Load() >= before+3 })
	if runs.Load() != 1 {
		t.Fatal("a second run started while the first went on")
	}
	close(release)
	waitFor(t, "the delayed run", func() bool { return runs.Load() >= 2 })
	if maxConcurrent.Load() != 1 {
		t.Fatalf("%d runs at once", maxConcurrent.Load())
	}
	if v, _ := st.GetSetting(context.Background(), "scrub.last"); v != clk.Now().UTC().Format(time.RFC3339Nano) {
		t.Fatalf("kept start %q, want %v", v, clk.Now())
	}

	// A restarted scheduler does not run it before Every has passed.
	stop()
	s2 := New(&countingWorker{}, 5*time.Millisecond, nil)
	s2.Clock, s2.Settings = clk, st
	var runs2 atomic.Int64
	s2.Add(Task{Name: "scrub", Every: time.Minute, AtStart: true, StateKey: "scrub.last", Run: func(context.Context) error { runs2.Add(1); return nil }})
	start(t, s2)
	time.Sleep(30 * time.Millisecond)
	if runs2.Load() != 0 {
		t.Fatal("ran again right after a restart")
	}
	clk.advance(time.Minute)
	waitFor(t, "the run after Every", func() bool { return runs2.Load() == 1 })
}

// Schedulers sharing the settings (nodes on one database) share a kept
// schedule: a node does not start a pass another node started meanwhile.
func TestKeptScheduleIsShared(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := &memSettings{m: map[string]string{}}
	var runs atomic.Int64
	node := func() *Scheduler {
		s := New(&countingWorker{}, 5*time.Millisecond, nil)
		s.Clock, s.Settings = clk, st
		s.Add(Task{Name: "scrub", Every: time.Hour, AtStart: true, StateKey: "scrub.last", Run: func(context.Context) error { runs.Add(1); return nil }})
		return s
	}
	start(t, node())
	waitFor(t, "the first node's run", func() bool { return runs.Load() == 1 })
	clk.advance(30 * time.Minute)
	start(t, node())
	time.Sleep(30 * time.Millisecond)
	if runs.Load() != 1 {
		t.Fatalf("%d runs: the second node ran a pass the first started half an hour ago", runs.Load())
	}
	clk.advance(30 * time.Minute)
	waitFor(t, "the next run", func() bool { return runs.Load() >= 2 })
	time.Sleep(30 * time.Millisecond)
	// Two nodes that look in the same instant claim it by a
	// compare-and-swap of the kept start: one of them runs it.
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs an interval later, want one by either node", n)
	}
}
