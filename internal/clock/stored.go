package clock

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// OffsetSetting is the settings key under which the test clock's offset
// (nanoseconds ahead of real time) is kept.
const OffsetSetting = "test_clock_offset_ns"

// Settings is where a test clock keeps its offset: a small key/value store
// (the metadata store's settings). The clock needs nothing else of it.
type Settings interface {
	// GetSetting returns the value stored under key, or "" and no error
	// when nothing is stored.
	GetSetting(ctx context.Context, key string) (string, error)
	// PutSetting stores value under key, replacing any earlier value.
	PutSetting(ctx context.Context, key, value string) error
	// SwapSetting stores value under key only if the key holds old (""
	// also matching an unset key), atomically also across nodes sharing
	// the store, and reports whether it did.
	SwapSetting(ctx context.Context, key, old, value string) (bool, error)
}

// Waker is told that the clock jumped forward, so that whatever became
// due is done now rather than at its next poll (internal/jobs.Scheduler).
type Waker interface {
	Wake()
}

// Stored is the server's test clock: a Test clock whose offset is saved
// in Settings whenever it advances, so that a restarted server resumes
// where the clock was. Nodes that share one database (shared) share one
// test clock through it: every reading first catches up with the stored
// offset, so all nodes agree on the time, and an advance is a
// compare-and-swap on the stored offset, so that advances made at the same
// time on several nodes all count.
//
// It implements the service's Clock, and the operations behind the
// test-clock endpoint (Read, Advance).
type Stored struct {
	t        *Test
	settings Settings // nil: the offset is not kept
	shared   bool
	log      *slog.Logger

	mu     sync.Mutex
	wakers []Waker
}

// OpenStored returns the test clock at the offset kept in settings (0 when
// none is kept; nil settings keep nothing). With shared, every reading
// catches up with the offset stored by any node.
func OpenStored(ctx context.Context, settings Settings, shared bool, log *slog.Logger) (*Stored, error) {
	var off time.Duration
	if settings != nil {
		var err error
		if off, err = loadOffset(ctx, settings); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Stored{t: NewTest(off), settings: settings, shared: shared && settings != nil, log: log}, nil
}

// Notify makes w be told of every Advance.
func (c *Stored) Notify(w Waker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wakers = append(c.wakers, w)
}

// Now returns the test clock's time; a shared clock first catches up with
// the stored offset. A failed read is logged and this node's clock used.
func (c *Stored) Now() time.Time {
	c.sync(context.Background())
	return c.t.Now()
}

// Read returns the clock's time and how far it runs ahead of real time.
func (c *Stored) Read(ctx context.Context) (time.Time, time.Duration) {
	c.sync(ctx)
	return c.t.Now(), c.t.Offset()
}

// Advance moves the clock forward by d (as Test.Advance), saves the new
// offset and tells the wakers. The saved offset is the stored one (or this
// node's, if ahead) plus d, swapped in only if no other advance stored one
// meanwhile, else computed again: of advances made at the same time, on
// this node or others sharing the store, none is lost. The clock has moved
// even when saving fails; the error says the move may not survive a
// restart (nor reach the other nodes).
func (c *Stored) Advance(ctx context.Context, d time.Duration) (time.Time, time.Duration, error) {
	err := c.advance(ctx, d)
	c.mu.Lock()
	wakers := c.wakers
	c.mu.Unlock()
	for _, w := range wakers {
		w.Wake() // whatever became due completes now
	}
	return c.t.Now(), c.t.Offset(), err
}

// advance moves the clock and saves the offset (see Advance).
func (c *Stored) advance(ctx context.Context, d time.Duration) error {
	if c.settings == nil {
		c.t.Advance(d)
		return nil
	}
	for {
		v, err := c.settings.GetSetting(ctx, OffsetSetting)
		if err != nil {
			c.t.Advance(d)
			return err
		}
		// A malformed stored offset is replaced by this node's.
		stored, _ := parseOffset(v)
		next := addOffset(max(stored, c.t.Offset()), d)
		swapped, err := c.settings.SwapSetting(ctx, OffsetSetting, v, strconv.FormatInt(int64(next), 10))
		if err != nil {
			c.t.AtLeast(next)
			return err
		}
		if swapped {
			c.t.AtLeast(next)
			return nil
		}
		// Another advance stored its offset first: add d to that one.
		if err := ctx.Err(); err != nil {
			c.t.Advance(d)
			return err
		}
	}
}

// addOffset is off plus d, as Test.Advance adds them (negative d adds
// nothing; the sum stops at MaxOffset).
func addOffset(off, d time.Duration) time.Duration {
	off = clampOffset(off)
	if d > 0 {
		off += min(d, MaxOffset-off)
	}
	return off
}

// sync catches a shared clock up with the stored offset.
func (c *Stored) sync(ctx context.Context) {
	if !c.shared {
		return
	}
	off, err := loadOffset(ctx, c.settings)
	if err != nil {
		c.log.Warn("reading the shared test clock failed; using this node's", "err", err)
		return
	}
	c.t.AtLeast(off)
}

// loadOffset reads the kept offset, so that a restarted server's clock
// does not move back.
func loadOffset(ctx context.Context, s Settings) (time.Duration, error) {
	v, err := s.GetSetting(ctx, OffsetSetting)
	if err != nil {
		return 0, err
	}
	return parseOffset(v)
}

// parseOffset reads a stored offset ("" is none: 0).
func parseOffset(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored test clock offset %q: %w", v, err)
	}
	if n < 0 || n > int64(MaxOffset) {
		// Only an overflow (of a version without bounds) stores this: the
		// clock had run beyond any bound, so it stays at the furthest.
		return MaxOffset, nil
	}
	return time.Duration(n), nil
}
