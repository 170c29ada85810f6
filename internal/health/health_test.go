package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_permafrost/v1/health", nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestHealthyAndFailing(t *testing.T) {
	c := &Checker{CacheFor: -1, Redact: func(s string) string { return "redacted:" + s }}
	var down atomic.Bool
	c.AddCheck("metadata", func(context.Context) error { return nil })
	c.AddCheck("blobs", func(context.Context) error {
		if down.Load() {
			return errors.New("bucket gone")
		}
		return nil
	})
	c.AddInfo("damaged_archives", func(context.Context) (any, error) { return map[string]int{"count": 2}, nil })
	code, body := get(t, c)
	if code != 200 || body["status"] != "ok" || body["failing"] != nil {
		t.Fatalf("healthy: %d %v", code, body)
	}
	if info := body["info"].(map[string]any)["damaged_archives"].(map[string]any); info["count"] != 2.0 {
		t.Fatalf("info %v", body["info"])
	}
	down.Store(true)
	code, body = get(t, c)
	checks := body["checks"].(map[string]any)
	if code != 503 || body["status"] != "unavailable" || len(body["failing"].([]any)) != 1 || body["failing"].([]any)[0] != "blobs" ||
		checks["blobs"].(map[string]any)["error"] != "redacted:bucket gone" || checks["metadata"].(map[string]any)["status"] != "ok" {
		t.Fatalf("failing: %d %v", code, body)
	}
}

// A check that hangs fails at the timeout; the answer does not wait for it.
func TestHangingCheckTimesOut(t *testing.T) {
	c := &Checker{Timeout: 100 * time.Millisecond, CacheFor: -1}
	block := make(chan struct{})
	defer close(block)
	c.AddCheck("metadata", func(context.Context) error { <-block; return nil })
	start := time.Now()
	code, body := get(t, c)
	if took := time.Since(start); code != 503 || took > 2*time.Second {
		t.Fatalf("hanging check: %d after %v: %v", code, took, body)
	}
}

// Reports are reused for CacheFor: probes do not multiply store load.
func TestCached(t *testing.T) {
	c := &Checker{CacheFor: time.Minute}
	var n atomic.Int32
	c.AddCheck("metadata", func(context.Context) error { n.Add(1); return nil })
	for range 5 {
		get(t, c)
	}
	if n.Load() != 1 {
		t.Fatalf("check ran %d times for 5 probes within CacheFor", n.Load())
	}
}
