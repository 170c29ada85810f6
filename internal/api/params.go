package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// parseHash reads a hex SHA-256 header value.
func parseHash(v, header string) (treehash.Hash, error) {
	h, err := treehash.ParseHex(v)
	if err != nil {
		return treehash.Hash{}, glacier.Errorf(glacier.KindInvalidParameter, "Invalid %s: %q is not a 64-character hex SHA-256 value", header, v)
	}
	return h, nil
}

// requiredHash reads a required hex SHA-256 header.
func requiredHash(r *http.Request, header string) (treehash.Hash, error) {
	v := r.Header.Get(header)
	if v == "" {
		return treehash.Hash{}, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: %s", header)
	}
	return parseHash(v, header)
}

// parseLimit reads the limit query parameter (operations.md §3): an
// integer ≥ 1, def when absent, clamped to max.
func parseLimit(r *http.Request, def, max int) (int, error) {
	v := queryGet(r, "limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, glacier.Errorf(glacier.KindInvalidParameter, "Invalid limit: %q. The limit must be an integer of at least 1", v)
	}
	return min(n, max), nil
}

// queryGet is r.URL.Query().Get(key), without parsing an empty query.
func queryGet(r *http.Request, key string) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return r.URL.Query().Get(key)
}

// contentLength returns the declared body length of an upload.
func contentLength(r *http.Request) (int64, error) {
	if r.ContentLength < 0 {
		return 0, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: Content-Length")
	}
	return r.ContentLength, nil
}

// parseContentRange parses "bytes <first>-<last>/*" (data-plane.md §4.1).
// A numeric total instead of * is accepted.
func parseContentRange(v string) (first, last int64, err error) {
	bad := glacier.Errorf(glacier.KindInvalidParameter, "Invalid Content-Range: %s", v)
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, bad
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok || total != "*" && !digitsOnly(total) {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok || !digitsOnly(a) || !digitsOnly(b) {
		return 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || last < first {
		return 0, 0, bad
	}
	return first, last, nil
}

func digitsOnly(s string) bool { return digits(s) }

// bodyReader wraps an upload body so that a stall longer than idle fails
// the read (and so the request, with RequestTimeoutException) instead of
// holding the connection forever. The read deadline is pushed forward as
// bytes arrive, at most a few times per idle period.
type bodyReader struct {
	body     interface{ Read([]byte) (int, error) }
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time
	// end, when set, is an overall deadline the read deadline never
	// passes (small bodies, see readSmallBody).
	end time.Time
}

func newBodyReader(w http.ResponseWriter, r *http.Request, idle time.Duration) *bodyReader {
	return &bodyReader{body: r.Body, rc: http.NewResponseController(w), idle: idle}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	now := time.Now()
	if b.deadline.Sub(now) < b.idle/2 && (b.end.IsZero() || b.deadline.Before(b.end)) {
		b.deadline = now.Add(b.idle)
		if !b.end.IsZero() && b.deadline.After(b.end) {
			b.deadline = b.end
		}
		b.rc.SetReadDeadline(b.deadline) // unsupported writers just never time out
	}
	return b.body.Read(p)
}
