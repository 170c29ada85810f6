package clock

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// memSettings is an in-memory Settings shared by "nodes".
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
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
	return nil
}

type countWaker struct{ n int }

func (w *countWaker) Wake() { w.n++ }

func TestStoredKeepsItsOffsetAndSharesIt(t *testing.T) {
	ctx := context.Background()
	st := &memSettings{}
	a, err := OpenStored(ctx, st, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenStored(ctx, st, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &countWaker{}
	a.Notify(w)
	_, off, err := a.Advance(ctx, time.Hour)
	if err != nil || off != time.Hour || w.n != 1 {
		t.Fatalf("Advance: offset %v, err %v, wakes %d", off, err, w.n)
	}
	if got, _ := st.GetSetting(ctx, OffsetSetting); got != strconv.FormatInt(int64(time.Hour), 10) {
		t.Fatalf("stored offset %q", got)
	}
	// The other node catches up on its next reading.
	if now := b.Now(); now.Before(time.Now().Add(59 * time.Minute)) {
		t.Fatalf("shared node reads %v, an hour ahead expected", now)
	}
	if _, off := b.Read(ctx); off != time.Hour {
		t.Fatalf("shared node offset %v", off)
	}
	// A restart resumes the kept offset.
	c, err := OpenStored(ctx, st, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, off := c.Read(ctx); off != time.Hour {
		t.Fatalf("restarted offset %v", off)
	}
	// A node that does not share the clock does not follow another's advance.
	if _, _, err := a.Advance(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, off := c.Read(ctx); off != time.Hour {
		t.Fatalf("unshared clock followed the store: offset %v", off)
	}
	// A wrapped offset (stored by an older version) stays at the furthest.
	_ = st.PutSetting(ctx, OffsetSetting, "-9000000000000000000")
	d, err := OpenStored(ctx, st, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, off := d.Read(ctx); off != MaxOffset {
		t.Fatalf("wrapped offset read as %v", off)
	}
	_ = st.PutSetting(ctx, OffsetSetting, "soon")
	if _, err := OpenStored(ctx, st, false, nil); err == nil {
		t.Fatal("a malformed offset opened")
	}
}

func TestStoredWithoutSettings(t *testing.T) {
	c, err := OpenStored(context.Background(), nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, off, err := c.Advance(context.Background(), time.Minute); err != nil || off != time.Minute {
		t.Fatalf("Advance: %v %v", off, err)
	}
}

func (s *memSettings) SwapSetting(_ context.Context, k, old, v string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[k] != old {
		return false, nil
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
	return true, nil
}
