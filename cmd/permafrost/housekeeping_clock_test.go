package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestHousekeepingFollowsTheServerClock: the blob sweep, the
// reconciliation and the scrubber are scheduled on the server clock, so
// advancing the test clock past their intervals runs them within moments
// of real time.
func TestHousekeepingFollowsTheServerClock(t *testing.T) {
	ts := jobServe(t, func(c *Config) {
		c.SweepInterval = time.Hour
		c.ReconcileInterval = 24 * time.Hour
		c.ScrubInterval = 48 * time.Hour
	})
	waitHousekeeping(t, ts.URL())
	type hk struct {
		LastPass      *time.Time `json:"last_pass_at"`
		LastReconcile *time.Time `json:"last_reconcile_at"`
	}
	read := func() hk {
		var h struct {
			Info struct {
				HK hk `json:"housekeeping"`
			}
		}
		resp, err := http.Get(ts.URL() + "/_permafrost/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h.Info.HK
	}
	scrubStart := func() string {
		v, err := ts.stores.meta.GetSetting(context.Background(), glacier.ScrubPassSetting)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15 s of real time", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	advance := func(d time.Duration) {
		t.Helper()
		if status, body := postClock(t, ts.URL(), fmt.Sprintf(`{"advance_seconds": %d}`, int64(d/time.Second))); status != 200 {
			t.Fatalf("advance: %d %s", status, body)
		}
	}

	first := read()
	if first.LastPass == nil || first.LastReconcile != nil {
		t.Fatalf("after start: %+v, want the start-up pass and no reconciliation", first)
	}
	waitUntil("the start-up scrub pass", func() bool { return scrubStart() != "" })
	scrub := scrubStart()

	advance(time.Hour + time.Second)
	waitUntil("the hourly sweep after a one-hour advance", func() bool {
		h := read()
		return h.LastPass != nil && h.LastPass.After(*first.LastPass)
	})
	if h := read(); h.LastReconcile != nil {
		t.Fatalf("reconciled after an hour: %+v", h)
	}
	if s := scrubStart(); s != scrub {
		t.Fatalf("scrubbed again after an hour (%s, then %s)", scrub, s)
	}

	advance(24 * time.Hour)
	waitUntil("the daily reconciliation after a one-day advance", func() bool { return read().LastReconcile != nil })

	advance(24 * time.Hour)
	waitUntil("the scrub pass after two days", func() bool { return scrubStart() != scrub })
	at, err := time.Parse(time.RFC3339Nano, scrubStart())
	if err != nil || at.Before(time.Now().Add(49*time.Hour)) {
		t.Fatalf("the scrub pass started at %q (%v): not on the server clock", scrubStart(), err)
	}
}
