package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

type ctxKey int

const infoKey ctxKey = 0

// requestInfo travels with a request so that the log line written at the
// end can name what the inner layers learnt.
type requestInfo struct {
	id        string
	op        string
	principal string
	errCode   string
	err       error  // the error behind errCode, for Server.Observe
	quiet     bool   // log at debug level (health probes)
	fault     string // the fault rule that fired (faults.go)
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey).(*requestInfo)
	return info
}

func requestID(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// newRequestID returns 47 URL-safe characters, the shape of AWS's ids.
func newRequestID() string {
	b := make([]byte, 36)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:47]
}

// withRequestID gives every request an id, echoed in x-amzn-RequestId.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{id: newRequestID(), op: "Unknown"}
		w.Header().Set("x-amzn-RequestId", info.id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey, info)))
	})
}

// statusWriter remembers the status and byte count for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's ReadFrom visible through the wrapper, so a
// response copied from a file (GetJobOutput) goes to the socket with
// sendfile instead of through a buffer.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withLogging writes one structured line per request.
func (s *Server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		next.ServeHTTP(sw, r)
		info := requestInfoFrom(r.Context())
		if s.Observe != nil {
			s.Observe(RequestStats{Operation: info.op, Status: sw.status, Code: info.errCode, Err: info.err,
				Duration: time.Since(start), BytesIn: body.n, BytesOut: sw.bytes})
		}
		level := slog.LevelInfo
		if info.quiet {
			level = slog.LevelDebug
		}
		lg := s.logger()
		if !lg.Enabled(r.Context(), level) {
			return
		}
		// Typed attributes in a fixed array: no boxing, no slice growth.
		var buf [12]slog.Attr
		attrs := append(buf[:0],
			slog.String("request_id", info.id),
			slog.String("op", info.op),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes_in", r.ContentLength),
			slog.Int64("bytes_out", sw.bytes),
			slog.String("remote", r.RemoteAddr),
		)
		if info.principal != "" {
			attrs = append(attrs, slog.String("principal", info.principal))
		}
		if info.errCode != "" {
			attrs = append(attrs, slog.String("error", info.errCode))
		}
		if info.fault != "" {
			attrs = append(attrs, slog.String("fault", info.fault))
		}
		lg.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// withRecovery turns a panic into a 500 with the Glacier envelope.
func (s *Server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().Error("panic", "request_id", requestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
