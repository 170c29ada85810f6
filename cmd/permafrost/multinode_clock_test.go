package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two nodes on one database advanced at the same time through
// POST /_permafrost/v1/clock keep every advance: the shared offset is the
// sum, read the same on both.
func TestMultiNodeClockAdvancesAllCount(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	const each = 10
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() {
			for range each {
				resp, err := http.Post(n.URL()+"/_permafrost/v1/clock", "application/json", strings.NewReader(`{"advance_seconds": 3600}`))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("advance: status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	for i, n := range nodes {
		resp, err := http.Get(n.URL() + "/_permafrost/v1/clock")
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Offset int64 `json:"offset_seconds"`
		}
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(2 * each * time.Hour / time.Second); c.Offset != want {
			t.Errorf("node %d: clock offset %v after %d advances of an hour on two nodes at once, want %v: advances were lost",
				i, time.Duration(c.Offset)*time.Second, 2*each, 2*each*time.Hour)
		}
	}
}
