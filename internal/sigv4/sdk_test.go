package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "FQoGZXIvYXdzEXAMPLE//token+with/slashes="
)

var signTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkCase is one request signed by aws-sdk-go-v2's v4.Signer.
type sdkCase struct {
	name    string
	method  string
	url     string      // as the Glacier client would build it: path labels already escaped
	header  http.Header // extra headers, signed when present at signing time
	body    string
	token   bool
	payload string // payload hash passed to the signer; "" means the rule (content-sha256 header or body hash)
}

func sdkCases() []sdkCase {
	h := sha256Hex([]byte("hello"))
	g := func(kv ...string) http.Header {
		hd := http.Header{"X-Amz-Glacier-Version": {"2012-06-01"}}
		for i := 0; i < len(kv); i += 2 {
			hd.Add(kv[i], kv[i+1])
		}
		return hd
	}
	return []sdkCase{
		{name: "describe-vault", method: "GET", url: "http://127.0.0.1:9000/-/vaults/my-vault", header: g()},
		{name: "list-parts", method: "GET", url: "http://127.0.0.1:9000/123456789012/vaults/v/multipart-uploads/ID?limit=10&marker=x", header: g()},
		{name: "list-vaults-marker-space", method: "GET", url: "http://127.0.0.1:9000/-/vaults?limit=10&marker=x%20y", header: g()},
		{name: "add-tags", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/tags?operation=add", header: g("Content-Type", "application/json"), body: `{"Tags":{"a":"b c"}}`},
		{name: "remove-tags", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/tags?operation=remove", header: g(), body: `{"TagKeys":["a"]}`},
		{name: "upload-archive", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/archives",
			header: g("X-Amz-Content-Sha256", h, "X-Amz-Sha256-Tree-Hash", h, "X-Amz-Archive-Description", "my  archive   description"), body: "hello"},
		{name: "upload-part", method: "PUT", url: "http://127.0.0.1:9000/-/vaults/v/multipart-uploads/UPLOAD-ID_123",
			header: g("X-Amz-Content-Sha256", h, "X-Amz-Sha256-Tree-Hash", h, "Content-Range", "bytes 0-4/*"), body: "hello"},
		{name: "complete-upload-empty-tree-hash", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/multipart-uploads/U",
			header: g("X-Amz-Archive-Size", "5", "X-Amz-Sha256-Tree-Hash", "")},
		{name: "delete-archive-dash", method: "DELETE", url: "http://127.0.0.1:9000/-/vaults/v/archives/-aBc_123-xyz", header: g()},
		{name: "delete-vault", method: "DELETE", url: "http://127.0.0.1:9000/-/vaults/v", header: g()},
		{name: "path-space-percent", method: "GET", url: "http://127.0.0.1:9000/-/vaults/a%20b%25c", header: g()},
		{name: "path-escaped-slash-plus", method: "GET", url: "http://127.0.0.1:9000/-/vaults/a%2Fb/jobs/J%2B1", header: g()},
		{name: "path-unicode", method: "GET", url: "http://127.0.0.1:9000/-/vaults/d%C3%A9j%C3%A0", header: g()},
		{name: "path-trailing-slash", method: "GET", url: "http://127.0.0.1:9000/-/vaults/", header: g()},
		{name: "path-empty", method: "GET", url: "http://127.0.0.1:9000", header: g()},
		{name: "query-repeated-empty", method: "GET", url: "http://127.0.0.1:9000/-/vaults/v/jobs?b=&a=2&a=1&c&x=y%20z&k=a%2Fb", header: g()},
		{name: "query-reserved", method: "GET", url: "http://127.0.0.1:9000/-/vaults/v/jobs?marker=a%2Bb%3Dc%26d&limit=5", header: g()},
		{name: "multi-value-header", method: "GET", url: "http://127.0.0.1:9000/-/vaults", header: g("X-Amz-Meta-A", "one", "X-Amz-Meta-A", " two  words ")},
		{name: "session-token", method: "GET", url: "http://127.0.0.1:9000/-/vaults", header: g(), token: true},
		{name: "https-default-port", method: "GET", url: "https://glacier.us-east-1.amazonaws.com:443/-/vaults", header: g()},
		{name: "non-ascii-description", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/archives",
			header: g("X-Amz-Content-Sha256", h, "X-Amz-Sha256-Tree-Hash", h, "X-Amz-Archive-Description", "déjà vu"), body: "hello"},
		{name: "initiate-job-json-body", method: "POST", url: "http://127.0.0.1:9000/-/vaults/v/jobs", header: g("Content-Type", "application/json"),
			body: `{"Type":"inventory-retrieval","Format":"CSV"}`},
		{name: "content-sha256-on-get", method: "GET", url: "http://127.0.0.1:9000/-/vaults/v", header: g("X-Amz-Content-Sha256", EmptySHA256)},
	}
}

func (c sdkCase) payloadHash() string {
	if c.payload != "" {
		return c.payload
	}
	if v := c.header.Get("X-Amz-Content-Sha256"); v != "" {
		return v
	}
	return sha256Hex([]byte(c.body))
}

func (c sdkCase) request(t testing.TB) *http.Request {
	t.Helper()
	var body *strings.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(c.method, c.url, body)
	} else {
		req, err = http.NewRequest(c.method, c.url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = append([]string(nil), v...)
	}
	return req
}

func creds(token bool) aws.Credentials {
	c := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if token {
		c.SessionToken = testToken
	}
	return c
}

// TestSDKSignHTTP signs each case with v4.Signer.SignHTTP, sends it through net/http's wire format and
// verifies the server's view.
func TestSDKSignHTTP(t *testing.T) {
	for _, c := range sdkCases() {
		t.Run(c.name, func(t *testing.T) {
			req := c.request(t)
			if err := v4.NewSigner().SignHTTP(context.Background(), creds(c.token), req, c.payloadHash(), "glacier", "us-east-1", signTime); err != nil {
				t.Fatal(err)
			}
			sr, body := overTheWire(t, req)
			a, err := verifyHTTP(sr, body, testSecret, signTime.Add(time.Minute), Options{Service: "glacier", Regions: []string{"us-east-1"}})
			if err != nil {
				if e, ok := err.(*Error); ok {
					t.Fatalf("%v\nwire: %s %s\nours:\n%s", err, sr.Method, sr.RequestURI, e.CanonicalRequest)
				}
				t.Fatal(err)
			}
			if a.Presigned || a.AccessKeyID != testKey || a.Date != "20130524" || a.Region != "us-east-1" {
				t.Errorf("parsed %+v", a)
			}
			if c.token && a.SecurityToken != testToken {
				t.Errorf("SecurityToken = %q", a.SecurityToken)
			}
		})
	}
}

// TestSDKPresignHTTP presigns each body-less case with v4.Signer.PresignHTTP, with and without X-Amz-Expires,
// with EmptySHA256 (what the SDK's presign middleware computes) and with UNSIGNED-PAYLOAD (the S3 idiom).
func TestSDKPresignHTTP(t *testing.T) {
	for _, c := range sdkCases() {
		if c.body != "" {
			continue
		}
		for _, payload := range []string{EmptySHA256, UnsignedPayload} {
			for _, expires := range []time.Duration{0, 10 * time.Minute} {
				name := c.name + "/" + payload[:5]
				if expires > 0 {
					name += "/expires"
				}
				t.Run(name, func(t *testing.T) {
					req := c.request(t)
					if expires > 0 {
						q := req.URL.Query()
						q.Set("X-Amz-Expires", "600")
						req.URL.RawQuery = q.Encode()
					}
					signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds(c.token), req, payload, "glacier", "us-east-1", signTime)
					if err != nil {
						t.Fatal(err)
					}
					get, err := http.NewRequest(c.method, signed, nil)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range hdr {
						if k != "Host" {
							get.Header[k] = v
						}
					}
					sr, body := overTheWire(t, get)
					a, err := verifyHTTP(sr, body, testSecret, signTime.Add(time.Minute), Options{Regions: []string{"us-east-1"}})
					if err != nil {
						if e, ok := err.(*Error); ok {
							t.Fatalf("%v\nurl: %s\nours:\n%s", err, signed, e.CanonicalRequest)
						}
						t.Fatal(err)
					}
					if !a.Presigned || a.Expires != expires {
						t.Errorf("Presigned = %v, Expires = %v", a.Presigned, a.Expires)
					}
				})
			}
		}
	}
}

// TestSDKHoistedGlacierVersion records that PresignHTTP moves x-amz-glacier-version into the query (it hoists
// every X-Amz-* header outside its S3 allow-list), which the HTTP layer's version check must accept.
func TestSDKHoistedGlacierVersion(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:9000/-/vaults/v/jobs/J/output", nil)
	req.Header.Set("X-Amz-Glacier-Version", "2012-06-01")
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(signed)
	if got := u.Query().Get("X-Amz-Glacier-Version"); got != "2012-06-01" {
		t.Errorf("X-Amz-Glacier-Version query = %q (url %s)", got, signed)
	}
}

// TestSDKUnsignedPayloadOnlyWhenPresignedAndEmpty checks the limits of the UNSIGNED-PAYLOAD allowance.
func TestSDKUnsignedPayloadOnlyWhenPresignedAndEmpty(t *testing.T) {
	// Header auth signed with UNSIGNED-PAYLOAD, no x-amz-content-sha256: the caller passes the body hash.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:9000/-/vaults", nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(false), req, UnsignedPayload, "glacier", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	sr, body := overTheWire(t, req)
	if _, err := verifyHTTP(sr, body, testSecret, signTime, Options{}); kindOf(err) != SignatureMismatch {
		t.Errorf("header auth with UNSIGNED-PAYLOAD: got %v, want SignatureMismatch", err)
	}

	// Presigned with a body: the body must be signed.
	req, _ = http.NewRequest("POST", "http://127.0.0.1:9000/-/vaults/v/jobs", strings.NewReader(`{"Type":"inventory-retrieval"}`))
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds(false), req, UnsignedPayload, "glacier", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	post, _ := http.NewRequest("POST", signed, strings.NewReader(`{"Type":"inventory-retrieval"}`))
	sr, body = overTheWire(t, post)
	if _, err := verifyHTTP(sr, body, testSecret, signTime, Options{}); kindOf(err) != SignatureMismatch {
		t.Errorf("presigned POST with UNSIGNED-PAYLOAD: got %v, want SignatureMismatch", err)
	}
}
