package api

import (
	"io"
	"net/http"
	"time"
)

// RequestStats is what Server.Observe learns about each finished request
// (for metrics): the same facts as the request's log line.
type RequestStats struct {
	Operation string // Glacier operation name, "Unknown" when no route matched
	Status    int
	Code      string // Glacier error code; "" on success
	Err       error  // the error behind Code, nil on success
	Duration  time.Duration
	BytesIn   int64 // body bytes read
	BytesOut  int64 // body bytes written
}

// countingBody counts the request body bytes the handlers read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// ownEndpoint marks a request to one of permafrost's own endpoints under
// /_permafrost/: its log line and metrics carry name as the operation, and
// quiet ones (health probes, which load balancers send every few
// seconds) are logged at debug level.
func ownEndpoint(name string, quiet bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := requestInfoFrom(r.Context()); info != nil {
			info.op, info.quiet = name, quiet
		}
		h.ServeHTTP(w, r)
	})
}
