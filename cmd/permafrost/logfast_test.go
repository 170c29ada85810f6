package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/api"
)

// TestFastRequestLine: the request line written by fastTextHandler is the
// very bytes slog's TextHandler (with the server's options) writes, for
// awkward values too; other records go through slog.
func TestFastRequestLine(t *testing.T) {
	registerSecret("fast-log-secret-123")
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: redactAttr}
	var want, got bytes.Buffer
	ref := slog.New(slog.NewTextHandler(&want, opts))
	lw := newLogWriter(&got)
	fast := slog.New(&fastTextHandler{Handler: slog.NewTextHandler(lw, opts), w: lw})
	at := time.Date(2026, 12, 7, 15, 4, 5, 120_000_000, time.UTC)
	values := []string{"plain", "", "with space", "a=b", `q"uote`, "back\\slash", "tab\there", "ünïcode", "\u00a0nbsp", "x\x7fdel",
		"/-/vaults/fast-log-secret-123", "bad\xffutf8"}
	for _, lvl := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		for _, v := range values {
			attrs := []slog.Attr{slog.String("request_id", v), slog.Int("status", 200), slog.Float64("latency_ms", 0.123),
				slog.Int64("bytes_in", -1), slog.String("path", v)}
			for _, l := range []*slog.Logger{ref, fast} {
				r := slog.NewRecord(at, lvl, "request", 0)
				r.AddAttrs(attrs...)
				if err := l.Handler().Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	other := slog.NewRecord(at, slog.LevelWarn, "something else", 0)
	other.AddAttrs(slog.Any("err", context.Canceled))
	ref.Handler().Handle(context.Background(), other)
	fast.Handler().Handle(context.Background(), other)
	// The request lines handed over without a record (api.RequestLogHandler).
	lines := []api.RequestLine{
		{RequestID: "id", Op: "DescribeVault", Method: "GET", Path: "/-/vaults/v", Status: 200, LatencyMS: 0.042, BytesIn: 0, BytesOut: 180, Remote: "127.0.0.1:5"},
		{RequestID: "id2", Op: "Unknown", Method: "PUT", Path: "/a b/fast-log-secret-123", Status: 400, LatencyMS: 12.5, BytesIn: -1, BytesOut: 0,
			Remote: "[::1]:9", Principal: "arn:aws:iam::123456789012:root", Error: "MissingAuthenticationTokenException", Fault: "fault-1 error=Throttling"},
		{RequestID: "", Op: "Health", Method: "GET", Path: `/"q"`, Status: 0, LatencyMS: 1e-3, Remote: "", Principal: "p"},
	}
	for _, lvl := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		for _, v := range values {
			l := lines[len(v)%len(lines)]
			l.Time, l.Level, l.Path = at, lvl, v
			lines = append(lines, l)
		}
	}
	for _, l := range lines {
		if l.Time.IsZero() {
			l.Time, l.Level = at, slog.LevelInfo
		}
		if err := ref.Handler().Handle(context.Background(), l.Record()); err != nil {
			t.Fatal(err)
		}
		if err := fast.Handler().(api.RequestLogHandler).HandleRequest(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	lw.Close()
	if got.String() != want.String() {
		t.Errorf("fast request lines differ from slog's:\nslog:\n%s\nfast:\n%s", want.String(), got.String())
	}
	if bytes.Contains(got.Bytes(), []byte("fast-log-secret-123")) {
		t.Error("a registered secret was written")
	}
}

// TestLogWriterOrder: request lines buffered and other lines written by
// many goroutines all arrive whole, each once, each goroutine's in its
// order; a Write goes out at once, after every line buffered before it.
func TestLogWriterOrder(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out)
	lw.limit = 512 // flushes on a full buffer too
	const workers, perWorker = 16, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				line := []byte(fmt.Sprintf("w%02d %05d %s\n", w, i, strings.Repeat("x", i%13)))
				if i%50 == 49 {
					lw.Write(line)
					if !strings.Contains(out.String(), fmt.Sprintf("w%02d %05d ", w, i-1)) {
						t.Errorf("worker %d: a Write returned before the line buffered before it was written", w)
					}
				} else {
					lw.buffer(line)
				}
			}
		}()
	}
	wg.Wait()
	lw.Close()
	next := make([]int, workers)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != workers*perWorker {
		t.Fatalf("%d lines written, want %d", len(lines), workers*perWorker)
	}
	for _, l := range lines {
		var w, i int
		if _, err := fmt.Sscanf(l, "w%02d %05d", &w, &i); err != nil || w < 0 || w >= workers {
			t.Fatalf("torn line %q", l)
		}
		if i != next[w] || l != fmt.Sprintf("w%02d %05d %s", w, i, strings.Repeat("x", i%13)) {
			t.Fatalf("line %q out of order or torn (want worker %d's line %d)", l, w, next[w])
		}
		next[w]++
	}
	// After Close, lines go out at once.
	lw.buffer([]byte("late\n"))
	if !strings.HasSuffix(out.String(), "late\n") {
		t.Error("a line buffered after Close was not written at once")
	}
}

// TestLogWriterInterval: a buffered request line is written within the
// flush interval, without any other line or a Close.
func TestLogWriterInterval(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out)
	defer lw.Close()
	start := time.Now()
	lw.buffer([]byte("one\n"))
	for out.String() != "one\n" {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("a buffered line was not written within 2 s (interval %v)", logFlushInterval)
		}
		time.Sleep(time.Millisecond)
	}
	if el := time.Since(start); el > logFlushInterval+500*time.Millisecond {
		t.Errorf("written after %v, want about %v", el, logFlushInterval)
	}
	lw.buffer([]byte("two\n")) // the timer is armed again
	time.Sleep(logFlushInterval + 200*time.Millisecond)
	if out.String() != "one\ntwo\n" {
		t.Errorf("got %q", out.String())
	}
}

// TestRFC3339Millis: the hand-written time of the request line is slog's,
// in UTC, the local zone and odd offsets.
func TestRFC3339Millis(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("a", 5*3600+30*60), time.FixedZone("b", -9*3600-15*60),
		time.FixedZone("c", 17), time.FixedZone("d", -14*3600)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var at time.Time
		switch i % 4 {
		case 0:
			at = time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9))
		case 1:
			at = time.Date(rng.IntN(10000), time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e9), time.UTC)
		case 2:
			at = time.Date(1-rng.IntN(100), time.Month(1+rng.IntN(12)), 1, 0, 0, 0, rng.IntN(1e9), time.UTC)
		default:
			at = time.Now().Add(time.Duration(rng.Int64N(1 << 50)))
		}
		at = at.In(zones[rng.IntN(len(zones))])
		if got, want := string(appendRFC3339Millis([]byte("x"), at)), "x"+string(appendRFC3339MillisSlow(nil, at)); got != want {
			t.Fatalf("%v: %q, want %q", at, got, want)
		}
	}
}
