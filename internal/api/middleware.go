package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"runtime/debug"
	"sync"
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

// requestState is everything the middleware keeps for one request, in one
// allocation: the info the inner layers fill in, the response and body
// wrappers of the log line, and the backing of the x-amzn-RequestId value.
type requestState struct {
	info  requestInfo
	sw    statusWriter
	body  countingBody
	idHdr [1]string
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if st := requestStateFrom(ctx); st != nil {
		return &st.info
	}
	return nil
}

func requestStateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(infoKey).(*requestState)
	return st
}

func requestID(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// idSources are random generators for request ids: ChaCha8 (a
// cryptographically strong generator), each seeded from crypto/rand, so
// an id costs no system call.
var idSources = sync.Pool{New: func() any {
	var seed [32]byte
	rand.Read(seed[:])
	return mrand.NewChaCha8(seed)
}}

// newRequestID returns 47 URL-safe characters, the shape of AWS's ids.
func newRequestID() string {
	var b [36]byte
	src := idSources.Get().(*mrand.ChaCha8)
	src.Read(b[:])
	idSources.Put(src)
	var out [48]byte
	base64.RawURLEncoding.Encode(out[:], b[:])
	return string(out[:47])
}

// requestIDHeader is http.CanonicalHeaderKey("x-amzn-RequestId").
const requestIDHeader = "X-Amzn-Requestid"

// withRequestID gives every request an id, echoed in x-amzn-RequestId.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{info: requestInfo{id: newRequestID(), op: "Unknown"}}
		st.idHdr[0] = st.info.id
		w.Header()[requestIDHeader] = st.idHdr[:]
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey, st)))
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
		st := requestStateFrom(r.Context())
		if st == nil { // not behind withRequestID
			st = &requestState{info: requestInfo{id: newRequestID(), op: "Unknown"}}
			r = r.WithContext(context.WithValue(r.Context(), infoKey, st))
		}
		sw := &st.sw
		sw.ResponseWriter = w
		body := &st.body
		body.ReadCloser = r.Body
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		next.ServeHTTP(sw, r)
		info := &st.info
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
		now := time.Now()
		line := RequestLine{
			Time: now, Level: level,
			RequestID: info.id, Op: info.op, Method: r.Method, Path: r.URL.Path,
			Status: sw.status, LatencyMS: float64(now.Sub(start).Microseconds()) / 1000,
			BytesIn: r.ContentLength, BytesOut: sw.bytes, Remote: r.RemoteAddr,
			Principal: info.principal, Error: info.errCode, Fault: info.fault,
		}
		if h, ok := lg.Handler().(RequestLogHandler); ok {
			h.HandleRequest(r.Context(), line)
			return
		}
		var buf [12]slog.Attr
		lg.LogAttrs(r.Context(), level, "request", line.AppendAttrs(buf[:0])...)
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
