package api

import (
	"context"
	"testing"
	"time"
)

func TestByteBudget(t *testing.T) {
	b := newByteBudget(10)
	if !b.tryAcquire(6) || b.tryAcquire(5) || !b.tryAcquire(4) {
		t.Fatal("tryAcquire does not respect the limit")
	}
	ctx := context.Background()
	if b.acquire(ctx, 11, time.Now().Add(time.Hour)) {
		t.Fatal("acquired more than the limit")
	}
	start := time.Now()
	if b.acquire(ctx, 1, start.Add(50*time.Millisecond)) {
		t.Fatal("acquired from a full budget")
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v for a 50 ms deadline", d)
	}
	got := make(chan bool)
	go func() { got <- b.acquire(ctx, 5, time.Now().Add(5*time.Second)) }()
	time.Sleep(20 * time.Millisecond)
	b.release(6)
	if !<-got {
		t.Fatal("a waiter did not get room that was released")
	}
	if n := b.inUse(); n != 9 {
		t.Errorf("in use %d, want 9", n)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if b.acquire(cctx, 5, time.Now().Add(5*time.Second)) {
		t.Fatal("acquired after the context ended")
	}
}
