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

	"github.com/permafrost/permafrost/internal/api"
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
	w            *logWriter
}

// logWriter is the server's text log output. Lines formatted by slog's
// handler (startup, warnings, errors: Write) go out at once, after every
// line buffered before them. Request lines (buffer) are collected and
// written together: within logFlushInterval of the first one waiting,
// sooner once logBufferLimit bytes wait, and on Close (a clean shutdown).
// A crash can lose at most the request lines of the last interval; lines
// always appear whole and in the order they were handed over.
type logWriter struct {
	w        io.Writer
	interval time.Duration // the longest a request line waits
	limit    int           // bytes waiting that start a flush at once

	wmu sync.Mutex // held while writing to w: batches go out in order

	mu     sync.Mutex // guards what follows
	buf    []byte     // request lines waiting
	spare  []byte     // the other buffer, while not being written
	timer  *time.Timer
	armed  bool // the timer will flush buf
	closed bool // Close was called: everything is written at once
}

const (
	logFlushInterval = 50 * time.Millisecond
	logBufferLimit   = 32 << 10
	// logBufferKeep bounds the buffer kept for reuse after a burst.
	logBufferKeep = 1 << 20
)

func newLogWriter(w io.Writer) *logWriter {
	return &logWriter{w: w, interval: logFlushInterval, limit: logBufferLimit}
}

// Write writes p, whole lines, before returning, after every line
// buffered so far, in one system call.
func (l *logWriter) Write(p []byte) (int, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	b := l.take()
	var err error
	if len(b) > 0 {
		b = append(b, p...)
		_, err = l.w.Write(b)
	} else {
		_, err = l.w.Write(p)
	}
	l.giveBack(b)
	return len(p), err
}

// buffer queues one request line (copied) for the next flush.
func (l *logWriter) buffer(line []byte) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.Write(line)
		return
	}
	l.buf = append(l.buf, line...)
	full := len(l.buf) >= l.limit
	if !full && !l.armed {
		l.armed = true
		if l.timer == nil {
			l.timer = time.AfterFunc(l.interval, l.tick)
		} else {
			l.timer.Reset(l.interval)
		}
	}
	l.mu.Unlock()
	if full {
		l.Flush()
	}
}

func (l *logWriter) tick() {
	l.mu.Lock()
	l.armed = false
	l.mu.Unlock()
	l.Flush()
}

// Flush writes every buffered line.
func (l *logWriter) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	b := l.take()
	if len(b) == 0 {
		return nil
	}
	_, err := l.w.Write(b)
	l.giveBack(b)
	return err
}

// Close flushes and makes every later line go out at once. Nil-safe.
func (l *logWriter) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	return l.Flush()
}

// take returns the buffered lines and puts the spare buffer in their place.
func (l *logWriter) take() []byte {
	l.mu.Lock()
	b := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	return b
}

func (l *logWriter) giveBack(b []byte) {
	if cap(b) > logBufferKeep {
		return
	}
	l.mu.Lock()
	if l.spare == nil {
		l.spare = b[:0]
	}
	l.mu.Unlock()
}

var fastBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *fastTextHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "request" || (r.Level != slog.LevelInfo && r.Level != slog.LevelDebug) || !fastAttrs(r) {
		return h.Handler.Handle(ctx, r)
	}
	bp := fastBufs.Get().(*[]byte)
	b := appendLineStart((*bp)[:0], r.Time, r.Level)
	r.Attrs(func(a slog.Attr) bool {
		b = appendFastAttr(b, a)
		return true
	})
	b = append(b, '\n')
	h.w.buffer(b)
	*bp = b
	fastBufs.Put(bp)
	return nil
}

// HandleRequest writes a request line (api.RequestLogHandler): the bytes
// Handle writes for l.Record(), without the record.
func (h *fastTextHandler) HandleRequest(_ context.Context, l api.RequestLine) error {
	var buf [12]slog.Attr
	attrs := l.AppendAttrs(buf[:0]) // plain keys (TestFastRequestLine)
	bp := fastBufs.Get().(*[]byte)
	b := appendLineStart((*bp)[:0], l.Time, l.Level)
	for _, a := range attrs {
		b = appendFastAttr(b, a)
	}
	b = append(b, '\n')
	h.w.buffer(b)
	*bp = b
	fastBufs.Put(bp)
	return nil
}

// appendLineStart appends "time=… level=… msg=request".
func appendLineStart(b []byte, t time.Time, level slog.Level) []byte {
	if !t.IsZero() {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, t)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, level.String()...)
	return append(b, " msg=request"...)
}

// appendFastAttr appends " key=value" for a string, int64 or float64
// attribute, as slog's TextHandler (with redactAttr) writes it.
func appendFastAttr(b []byte, a slog.Attr) []byte {
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
	return b
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
	year, month, day := t.Date()
	_, off := t.Zone()
	if year < 1 || year > 9999 || off%60 != 0 {
		return appendRFC3339MillisSlow(b, t)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	oh, om := off/3600, off/60%60
	return append(b, sign, byte('0'+oh/10), byte('0'+oh%10), ':', byte('0'+om/10), byte('0'+om%10))
}

// appendRFC3339MillisSlow is appendRFC3339Millis through time's layout.
func appendRFC3339MillisSlow(b []byte, t time.Time) []byte {
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
