// Package clock provides the server's sources of "now": the real clock, and
// a test clock that can be moved forward (never back) so that lock expiry,
// archive ages and job tiers can be exercised without waiting.
//
// The test clock keeps running with real time and adds an offset; the offset
// is what gets persisted, so a restarted server resumes where the clock was
// (plus the real time that passed) and time never runs backwards. Stored is
// the server's test clock: it keeps the offset in a small Settings store
// (the metadata store's settings) and, on a database several nodes share,
// catches up with the offset any node stored, so all nodes agree on the
// time; an advance wakes the scheduler (Waker).
package clock

import (
	"sync"
	"time"
)

// Real reads the system clock.
type Real struct{}

// Now returns the current UTC time.
func (Real) Now() time.Time { return time.Now().UTC() }

// MaxOffset is the furthest the test clock may run ahead of real time: two
// hundred years, far beyond any retention period, and far from the ±292
// years a time.Duration can hold, so the offset never overflows.
const MaxOffset = 200 * 365 * 24 * time.Hour

// clampOffset keeps an offset within 0…MaxOffset.
func clampOffset(d time.Duration) time.Duration {
	return min(max(d, 0), MaxOffset)
}

// Test is a clock that runs with real time plus an offset that only grows.
type Test struct {
	mu     sync.Mutex
	offset time.Duration
	last   time.Time
	now    func() time.Time
}

// NewTest returns a test clock starting at real time plus offset.
func NewTest(offset time.Duration) *Test {
	return &Test{offset: clampOffset(offset), now: time.Now}
}

// Now returns real time plus the offset. It never returns a time before one
// it returned earlier, even if the system clock steps back.
func (c *Test) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Test) nowLocked() time.Time {
	t := c.now().UTC().Add(c.offset)
	if t.Before(c.last) {
		t = c.last
	}
	c.last = t
	return t
}

// Advance moves the clock forward by d (negative d is treated as zero, and
// the offset never passes MaxOffset) and returns the new time and the new offset.
func (c *Test) Advance(d time.Duration) (time.Time, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		// Saturating: the offset stops at MaxOffset instead of wrapping.
		c.offset += min(d, MaxOffset-c.offset)
	}
	return c.nowLocked(), c.offset
}

// Offset returns how far the clock is ahead of real time.
func (c *Test) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// AtLeast raises the offset to off if it is smaller. Nodes that share one
// test clock (kept in the database) call it with the stored offset, so
// whichever node advanced the clock, every node agrees on the time.
func (c *Test) AtLeast(off time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off = clampOffset(off); off > c.offset {
		c.offset = off
	}
}
