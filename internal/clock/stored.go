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
}

// Waker is told that the clock jumped forward, so that whatever became
// due is done now rather than at its next poll (internal/jobs.Scheduler).
type Waker interface {
	Wake()
}

// Stored is the server's test clock: a Test clock whose offset is saved
// in Settings whenever it advances, so that a restarted server resumes
// where the clock was. Nodes that share one database (shared) share one
// test clock through it: every reading first catches up with the offset
// whichever node stored last, so all nodes agree on the time.
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

	// saving orders Advance's move and its save, so that of two
	// concurrent advances the later offset is the one stored.
	saving sync.Mutex
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
// offset and tells the wakers. The clock has moved even when saving fails;
// the error says the move may not survive a restart.
func (c *Stored) Advance(ctx context.Context, d time.Duration) (time.Time, time.Duration, error) {
	c.sync(ctx)
	c.saving.Lock()
	now, off := c.t.Advance(d)
	var err error
	if c.settings != nil {
		err = c.settings.PutSetting(ctx, OffsetSetting, strconv.FormatInt(int64(off), 10))
	}
	c.saving.Unlock()
	c.mu.Lock()
	wakers := c.wakers
	c.mu.Unlock()
	for _, w := range wakers {
		w.Wake() // whatever became due completes now
	}
	return now, off, err
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
	if err != nil || v == "" {
		return 0, err
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
