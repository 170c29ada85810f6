package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// fastTextHandler is slog's TextHandler with the per-request line
// ("request", info or debug, every attribute a string, int, int64 or
// float64) formatted directly: the same bytes slog writes — time with
// milliseconds, level, msg, then the attributes in order, strings quoted
// where slog quotes them and redacted of registered secrets — at a
// fraction of the cost (it was a quarter of a metadata request's CPU).
// Every other record, and any handler derived with WithAttrs or
// WithGroup, goes through slog's own TextHandler.
type fastTextHandler struct {
	slog.Handler // slog.NewTextHandler(w, opts)
	w            io.Writer
}

// lockedWriter serializes writes — slog's handler and the fast path
// write whole lines through it — and groups them: lines that arrive while
// a write is in progress are appended to a buffer, and the next write
// takes them all in one system call. Every Write returns only once its
// line has been written, so a request's line is out before its response.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // lines waiting for the next write
	spare   []byte
	queued  uint64 // lines appended so far
	written uint64 // lines written so far
	busy    bool
	done    *sync.Cond
	err     error // of the last write
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.done == nil {
		l.done = sync.NewCond(&l.mu)
	}
	l.pending = append(l.pending, p...)
	l.queued++
	mine := l.queued
	for l.busy {
		if l.written >= mine {
			err := l.err
			l.mu.Unlock()
			return len(p), err
		}
		l.done.Wait()
	}
	if l.written >= mine {
		err := l.err
		l.mu.Unlock()
		return len(p), err
	}
	// Leader: write everything pending, then whatever queued meanwhile,
	// as long as there is any.
	l.busy = true
	for len(l.pending) > 0 {
		buf, upto := l.pending, l.queued
		l.pending, l.spare = l.spare[:0], nil
		l.mu.Unlock()
		_, err := l.w.Write(buf)
		l.mu.Lock()
		l.spare = buf[:0]
		l.err, l.written = err, upto
		l.done.Broadcast()
	}
	l.busy = false
	err := l.err
	l.mu.Unlock()
	return len(p), err
}

var fastBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *fastTextHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "request" || (r.Level != slog.LevelInfo && r.Level != slog.LevelDebug) || !fastAttrs(r) {
		return h.Handler.Handle(ctx, r)
	}
	bp := fastBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if !r.Time.IsZero() {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, r.Time)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, r.Level.String()...)
	b = append(b, " msg=request"...)
	r.Attrs(func(a slog.Attr) bool {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch a.Value.Kind() {
		case slog.KindString:
			s := redactString(a.Value.String())
			if textNeedsQuoting(s) {
				b = strconv.AppendQuote(b, s)
			} else {
				b = append(b, s...)
			}
		case slog.KindInt64:
			b = strconv.AppendInt(b, a.Value.Int64(), 10)
		case slog.KindFloat64:
			b = strconv.AppendFloat(b, a.Value.Float64(), 'g', -1, 64)
		}
		return true
	})
	b = append(b, '\n')
	_, err := h.w.Write(b)
	*bp = b
	fastBufs.Put(bp)
	return err
}

// fastAttrs reports whether every attribute is of a kind Handle formats
// itself, with a plain key.
func fastAttrs(r slog.Record) bool {
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		switch a.Value.Kind() {
		case slog.KindString, slog.KindInt64, slog.KindFloat64:
		default:
			ok = false
		}
		if ok && (a.Key == "" || textNeedsQuoting(a.Key)) {
			ok = false
		}
		return ok
	})
	return ok
}

func (h *fastTextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.Handler.WithAttrs(attrs)
}

func (h *fastTextHandler) WithGroup(name string) slog.Handler {
	return h.Handler.WithGroup(name)
}

// appendRFC3339Millis is slog's time format: RFC 3339 with exactly three
// digits of milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// textNeedsQuoting is slog's rule for quoting a text value: empty, a
// space, '=', '"', a control character, or a rune that is invalid, a
// space or not printable.
func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b == ' ' || b == '=' || b == '"' || b < 0x20 {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
