package api

import (
	"context"
	"log/slog"
	"time"
)

// RequestLine is the content of the one log line written per request: the
// record "request" with, in this order, request_id, op, method, path,
// status, latency_ms, bytes_in, bytes_out, remote, and principal, error
// and fault when not empty.
type RequestLine struct {
	Time      time.Time
	Level     slog.Level
	RequestID string
	Op        string
	Method    string
	Path      string
	Status    int
	LatencyMS float64
	BytesIn   int64
	BytesOut  int64
	Remote    string
	Principal string
	Error     string
	Fault     string
}

// RequestLogHandler is a slog.Handler that writes a request line itself,
// exactly as it would handle the record of RequestLine.Record, without the
// record (slog's caller lookup and attribute boxing cost more than the
// rest of a metadata request's line). Enabled has been checked.
type RequestLogHandler interface {
	slog.Handler
	HandleRequest(ctx context.Context, l RequestLine) error
}

// AppendAttrs appends the line's attributes, in order, to attrs.
func (l *RequestLine) AppendAttrs(attrs []slog.Attr) []slog.Attr {
	attrs = append(attrs,
		slog.String("request_id", l.RequestID),
		slog.String("op", l.Op),
		slog.String("method", l.Method),
		slog.String("path", l.Path),
		slog.Int("status", l.Status),
		slog.Float64("latency_ms", l.LatencyMS),
		slog.Int64("bytes_in", l.BytesIn),
		slog.Int64("bytes_out", l.BytesOut),
		slog.String("remote", l.Remote),
	)
	if l.Principal != "" {
		attrs = append(attrs, slog.String("principal", l.Principal))
	}
	if l.Error != "" {
		attrs = append(attrs, slog.String("error", l.Error))
	}
	if l.Fault != "" {
		attrs = append(attrs, slog.String("fault", l.Fault))
	}
	return attrs
}

// Record is the slog record a RequestLogHandler stands in for.
func (l RequestLine) Record() slog.Record {
	r := slog.NewRecord(l.Time, l.Level, "request", 0)
	var buf [12]slog.Attr
	r.AddAttrs(l.AppendAttrs(buf[:0])...)
	return r
}
