package metatest

import (
	"fmt"
	"strconv"
	"testing"
)

// testSwapSetting: SwapSetting replaces a setting only when it holds the
// expected value ("" matching an unset key); of racers swapping from one
// value exactly one wins, and racers that read again and retry lose no
// increment (the test clock's advances, the scheduler's claims).
func testSwapSetting(t *testing.T, s Store) {
	ctx := t.Context()
	swap := func(key, old, value string, want bool) {
		t.Helper()
		ok, err := s.SwapSetting(ctx, key, old, value)
		if err != nil || ok != want {
			t.Fatalf("SwapSetting(%q, %q, %q) = %v, %v; want %v, nil", key, old, value, ok, err, want)
		}
	}
	get := func(key, want string) {
		t.Helper()
		if v, err := s.GetSetting(ctx, key); err != nil || v != want {
			t.Fatalf("GetSetting(%q) = %q, %v; want %q", key, v, err, want)
		}
	}
	swap("k", "x", "y", false) // unset: only "" matches
	get("k", "")
	swap("k", "", "a", true) // unset matches ""
	get("k", "a")
	swap("k", "", "b", false) // set: "" no longer matches
	swap("k", "z", "b", false)
	get("k", "a")
	swap("k", "a", "b", true)
	get("k", "b")
	swap("k", "b", "", true) // stored as ""
	swap("k", "", "c", true) // and "" matches it
	get("k", "c")
	must(t, "PutSetting", s.PutSetting(ctx, "other", "o"))
	swap("other", "o", "p", true)
	get("k", "c") // other keys untouched

	// Racers swapping from one value: exactly one wins.
	for _, from := range []string{"", "c"} {
		key := "race-from-" + from
		if from != "" {
			must(t, "PutSetting", s.PutSetting(ctx, key, from))
		}
		won := make([]bool, racers)
		errs := Race(racers, func(i int) error {
			ok, err := s.SwapSetting(ctx, key, from, fmt.Sprint("racer-", i))
			won[i] = ok
			return err
		})
		winner := -1
		for i := range racers {
			if errs[i] != nil {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			if won[i] {
				if winner >= 0 {
					t.Fatalf("swapping from %q: racers %d and %d both won", from, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("swapping from %q: no racer won", from)
		}
		get(key, fmt.Sprint("racer-", winner))
	}

	// Read, add one, swap, retry on a loss: no increment is lost.
	const each = 5
	errs := Race(racers, func(int) error {
		for range each {
			for {
				v, err := s.GetSetting(ctx, "counter")
				if err != nil {
					return err
				}
				n, _ := strconv.Atoi(v)
				ok, err := s.SwapSetting(ctx, "counter", v, strconv.Itoa(n+1))
				if err != nil {
					return err
				}
				if ok {
					break
				}
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("incrementer %d: %v", i, err)
		}
	}
	get("counter", strconv.Itoa(racers*each))
}
