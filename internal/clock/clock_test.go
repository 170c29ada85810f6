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
