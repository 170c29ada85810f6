package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestFastRequestLine: the request line written by fastTextHandler is the
// very bytes slog's TextHandler (with the server's options) writes, for
// awkward values too; other records go through slog.
func TestFastRequestLine(t *testing.T) {
	registerSecret("fast-log-secret-123")
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: redactAttr}
	var want, got bytes.Buffer
	ref := slog.New(slog.NewTextHandler(&want, opts))
	lw := &lockedWriter{w: &got}
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
	if got.String() != want.String() {
		t.Errorf("fast request lines differ from slog's:\nslog:\n%s\nfast:\n%s", want.String(), got.String())
	}
	if bytes.Contains(got.Bytes(), []byte("fast-log-secret-123")) {
		t.Error("a registered secret was written")
	}
}

// TestLockedWriterGroups: concurrent lines all arrive whole, each once, and
// a Write returns only after its own line was written.
func TestLockedWriterGroups(t *testing.T) {
	var out syncBuffer
	lw := &lockedWriter{w: &out}
	const n = 200
	done := make(chan struct{})
	for i := range n {
		go func() {
			line := []byte(strings.Repeat(string(rune('a'+i%26)), 10+i%7) + "\n")
			lw.Write(line)
			if !strings.Contains(out.String(), string(line)) {
				t.Errorf("Write %d returned before its line was written", i)
			}
			done <- struct{}{}
		}()
	}
	for range n {
		<-done
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines written, want %d", len(lines), n)
	}
	for _, l := range lines {
		if len(l) < 10 || strings.Trim(l, l[:1]) != "" {
			t.Errorf("torn line %q", l)
		}
	}
}
