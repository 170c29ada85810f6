package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fromHTTP builds a Request from a server-side *http.Request the way the HTTP layer should: the path exactly
// as it came on the wire (the RequestURI's path part; EscapedPath only for absolute-form targets), the raw
// query, the header map as is, and r.Host.
func fromHTTP(r *http.Request) Request {
	path := r.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		path = r.URL.EscapedPath()
	}
	return Request{Method: r.Method, RawPath: path, RawQuery: r.URL.RawQuery, Header: r.Header, Host: r.Host}
}

// payloadHashFor applies the package's payload-hash rule: x-amz-content-sha256 when present, else the body's
// SHA-256.
func payloadHashFor(h http.Header, body []byte) string {
	if v := h.Get("X-Amz-Content-Sha256"); v != "" {
		return v
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// overTheWire writes a client-side request as net/http's client would and parses it back as net/http's server
// would, returning the server's view and the body it received.
func overTheWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	return readWire(t, buf.Bytes())
}

// readWire parses raw HTTP/1.1 request bytes as net/http's server does.
func readWire(t testing.TB, raw []byte) (*http.Request, []byte) {
	t.Helper()
	sr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("read request: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return sr, body
}

// kindOf returns the Kind of a *Error, or 0.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// verifyHTTP parses and verifies a server-side request.
func verifyHTTP(sr *http.Request, body []byte, secret string, now time.Time, opts Options) (*Auth, error) {
	r := fromHTTP(sr)
	a, err := Parse(r)
	if err != nil {
		return nil, err
	}
	return a, a.Verify(r, secret, payloadHashFor(sr.Header, body), now, opts)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(basicISO, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
