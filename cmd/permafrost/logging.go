package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/glacier"
)

// newLogger is the server's logger: text or JSON, every string and error
// attribute (and the message) redacted of registered secrets, and
// store-outage warnings rate-limited.
func newLogger(c Config, w io.Writer) *slog.Logger {
	l, _ := newServerLogger(c, w)
	return l
}

// newServerLogger is newLogger that also returns the text format's
// buffered output (nil for JSON), for the server to Close when it stops.
func newServerLogger(c Config, w io.Writer) (*slog.Logger, *logWriter) {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: redactAttr}
	var h slog.Handler
	var lw *logWriter
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		// One writer for every line, whichever path formats it.
		lw = newLogWriter(w)
		h = &fastTextHandler{Handler: slog.NewTextHandler(lw, opts), w: lw}
	}
	return slog.New(&throttleHandler{Handler: h, st: &throttleState{every: outageLogInterval, seen: map[string]*throttled{}}}), lw
}

// redactAttr removes registered secrets from an attribute's value.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); s != "" {
			a.Value = slog.StringValue(redactString(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(redactString(v.Error()))
		case interface{ String() string }:
			a.Value = slog.StringValue(redactString(v.String()))
		}
	}
	return a
}

// outageLogInterval is how often one message about an unavailable store
// is logged: during a database outage every request and every background
// pass fails, and one line per message per interval (with the number
// suppressed) says as much as thousands.
const outageLogInterval = 30 * time.Second

// throttleHandler passes every record through except repeated warnings
// and errors caused by an unavailable store (glacier.KindUnavailable):
// of those, one per message per interval, carrying "suppressed", the
// number dropped since the last one.
type throttleHandler struct {
	slog.Handler
	st *throttleState
}

type throttleState struct {
	every time.Duration
	mu    sync.Mutex
	seen  map[string]*throttled
}

type throttled struct {
	last       time.Time
	suppressed int
}

func (h *throttleHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && outageRecord(r) {
		key := r.Level.String() + "\x00" + r.Message
		h.st.mu.Lock()
		t := h.st.seen[key]
		if t == nil {
			t = &throttled{}
			h.st.seen[key] = t
		}
		if !t.last.IsZero() && r.Time.Sub(t.last) < h.st.every {
			t.suppressed++
			h.st.mu.Unlock()
			return nil
		}
		n := t.suppressed
		t.last, t.suppressed = r.Time, 0
		h.st.mu.Unlock()
		if n > 0 {
			r = r.Clone()
			r.AddAttrs(slog.Int("suppressed", n))
		}
	}
	return h.Handler.Handle(ctx, r)
}

// HandleRequest passes a request line on (api.RequestLogHandler): it
// carries no error, so it is never throttled.
func (h *throttleHandler) HandleRequest(ctx context.Context, l api.RequestLine) error {
	if rh, ok := h.Handler.(api.RequestLogHandler); ok {
		return rh.HandleRequest(ctx, l)
	}
	return h.Handle(ctx, l.Record())
}

func (h *throttleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &throttleHandler{Handler: h.Handler.WithAttrs(attrs), st: h.st}
}

func (h *throttleHandler) WithGroup(name string) slog.Handler {
	return &throttleHandler{Handler: h.Handler.WithGroup(name), st: h.st}
}

// outageRecord reports whether a record carries an error saying a store
// is unavailable.
func outageRecord(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Value.Kind() == slog.KindAny && glacier.KindOf(err) == glacier.KindUnavailable {
			found = true
			return false
		}
		return true
	})
	return found
}
