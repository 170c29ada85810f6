package clock

import (
	"testing"
	"time"
)

func TestTestClockAdvancesAndNeverGoesBack(t *testing.T) {
	real := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewTest(time.Hour)
	c.now = func() time.Time { return real }
	if got, want := c.Now(), real.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	got, off := c.Advance(24 * time.Hour)
	if want := real.Add(25 * time.Hour); !got.Equal(want) || off != 25*time.Hour {
		t.Fatalf("Advance = %v, %v; want %v, 25h", got, off, want)
	}
	// Negative advances are ignored.
	if _, off := c.Advance(-48 * time.Hour); off != 25*time.Hour {
		t.Fatalf("offset after negative advance = %v, want 25h", off)
	}
	// The system clock stepping back does not move the test clock back.
	before := c.Now()
	real = real.Add(-time.Hour)
	if after := c.Now(); after.Before(before) {
		t.Fatalf("clock went back: %v then %v", before, after)
	}
}

func TestRealIsUTC(t *testing.T) {
	if loc := (Real{}).Now().Location(); loc != time.UTC {
		t.Fatalf("location = %v, want UTC", loc)
	}
}

func TestAtLeastOnlyRaises(t *testing.T) {
	c := NewTest(time.Hour)
	c.AtLeast(30 * time.Minute)
	if got := c.Offset(); got != time.Hour {
		t.Fatalf("AtLeast(30m) lowered the offset to %v", got)
	}
	c.AtLeast(3 * time.Hour)
	if got := c.Offset(); got != 3*time.Hour {
		t.Fatalf("AtLeast(3h): offset %v, want 3h", got)
	}
}

func TestTestClockSaturates(t *testing.T) {
	c := NewTest(MaxOffset - time.Hour)
	if _, off := c.Advance(100 * 365 * 24 * time.Hour); off != MaxOffset {
		t.Fatalf("offset %v after advancing past the bound, want MaxOffset", off)
	}
	if _, off := c.Advance(1<<63 - 1); off != MaxOffset {
		t.Fatalf("offset %v after the largest advance, want MaxOffset", off)
	}
	if off := NewTest(-time.Hour).Offset(); off != 0 {
		t.Errorf("NewTest(-1h) offset %v, want 0", off)
	}
	c = NewTest(0)
	c.AtLeast(1<<63 - 1)
	if off := c.Offset(); off != MaxOffset {
		t.Errorf("AtLeast(max int64) offset %v, want MaxOffset", off)
	}
	if now := c.Now(); now.Before(time.Now()) {
		t.Errorf("Now %v is before real time", now)
	}
}
