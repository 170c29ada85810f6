package jobs

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type countingWorker struct {
	passes atomic.Int64
	fail   bool
}

func (w *countingWorker) RunDueWork(context.Context) (int, error) {
	w.passes.Add(1)
	if w.fail {
		return 0, errors.New("store down")
	}
	return 0, nil
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWakeRunsAPass: with an hour-long tick only Wake can explain a
// prompt second pass.
func TestWakeRunsAPass(t *testing.T) {
	w := &countingWorker{}
	s := New(w, time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, "the first pass", func() bool { return w.passes.Load() >= 1 })
	s.Wake()
	waitFor(t, "the woken pass", func() bool { return w.passes.Load() >= 2 })
	cancel()
	<-done
}

// TestTickRunsPassesDespiteErrors: a failing pass is retried on the tick.
func TestTickRunsPassesDespiteErrors(t *testing.T) {
	w := &countingWorker{fail: true}
	s := New(w, 10*time.Millisecond, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, "three passes", func() bool { return w.passes.Load() >= 3 })
	cancel()
	<-done
}

func TestWakeNeverBlocks(t *testing.T) {
	s := New(&countingWorker{}, time.Hour, nil)
	for range 10 {
		s.Wake() // nobody is running: must not block
	}
}
