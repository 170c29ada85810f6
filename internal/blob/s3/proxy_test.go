package s3_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/permafrost/permafrost/internal/testenv"
)

// proxy stands between the store and versitygw to watch the requests and
// to misbehave on purpose. Requests keep their Host header, so their
// signatures stay valid.
type proxy struct {
	URL    string
	target string

	mu sync.Mutex
	// dropFinal is how many final writes (PutObject, CompleteMultipartUpload)
	// to forward and then answer by closing the connection: the server did
	// the work, the client never hears of it.
	dropFinal int
	// conflictFinal is how many final writes to answer 409
	// ConditionalRequestConflict without passing them on, as AWS does
	// while another conditional write of the key is in flight.
	conflictFinal int
	// refuseConditional answers every If-None-Match request 501 Not
	// Implemented, like a server without conditional writes.
	refuseConditional bool
	// ignoreConditional answers every If-None-Match request 200 without
	// passing it on, like a server that ignores the header.
	ignoreConditional bool
	// gets records the GetObject requests.
	gets []proxiedGet
}

type proxiedGet struct {
	rangeHeader string
	status      int
	bytes       int64
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// url is the URL of bucket b through the proxy.
func (p *proxy) url(b testenv.S3Bucket) string {
	return "s3://" + b.Name + "?" + url.Values{"endpoint": {p.URL}, "region": {b.Region}}.Encode()
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	refuse := p.refuseConditional && r.Header.Get("If-None-Match") != ""
	ignore := p.ignoreConditional && r.Header.Get("If-None-Match") != ""
	final := r.Method == http.MethodPut && !q.Has("partNumber") && r.Header.Get("X-Amz-Copy-Source") == "" ||
		r.Method == http.MethodPost && q.Has("uploadId")
	drop := final && p.dropFinal > 0
	if drop {
		p.dropFinal--
	}
	conflict := final && !drop && p.conflictFinal > 0
	if conflict {
		p.conflictFinal--
	}
	p.mu.Unlock()

	if refuse {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`)
		return
	}

	if conflict {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred.</Message></Error>`)
		return
	}
	if ignore {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		w.WriteHeader(http.StatusOK)
		return
	}

	out := r.Clone(r.Context())
	out.URL.Scheme = "http"
	out.URL.Host = p.target
	out.RequestURI = ""
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if drop {
		io.Copy(io.Discard, resp.Body)
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	n, _ := io.Copy(w, resp.Body)
	if r.Method == http.MethodGet && !q.Has("list-type") && r.URL.Path != "/" {
		p.mu.Lock()
		p.gets = append(p.gets, proxiedGet{r.Header.Get("Range"), resp.StatusCode, n})
		p.mu.Unlock()
	}
}

func (p *proxy) set(fn func(p *proxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *proxy) takeGets() []proxiedGet {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gets
	p.gets = nil
	return g
}
