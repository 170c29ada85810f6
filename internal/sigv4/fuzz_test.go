package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzParse feeds arbitrary Authorization headers (and Date headers) to Parse and, when they parse, to Verify:
// neither may panic, and every error must be an *Error of a known kind.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		goodAuthz,
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=",
		"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature==",
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request,SignedHeaders=host;x-amz-date,Signature=zz",
		"AWS4-HMAC-SHA256 =,=,=",
		"AWS AKID:sig",
		"AWS4-HMAC-SHA256\tCredential=x",
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=HOST;X-AMZ-DATE, Signature=00",
	} {
		f.Add(s, "20130524T000000Z")
		f.Add(s, "Fri, 24 May 2013 00:00:00 GMT")
	}
	f.Fuzz(func(t *testing.T, authz, date string) {
		r := Request{Method: "GET", RawPath: "/-/vaults", Host: "h", Header: map[string][]string{
			"Authorization": {authz}, "X-Amz-Date": {date}, "Date": {date}}}
		a, err := Parse(r)
		if err != nil {
			if k := kindOf(err); k != MissingAuth && k != Incomplete {
				t.Fatalf("Parse(%q): error %v of kind %v", authz, err, k)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.SignedHeaders) == 0 || a.Signature == "" {
			t.Fatalf("Parse(%q) = %+v", authz, a)
		}
		if err := a.Verify(r, "secret", EmptySHA256, a.Time, Options{}); err == nil {
			t.Fatalf("Parse(%q) verified without a real signature", authz)
		} else if kindOf(err) == 0 {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// FuzzQuery feeds arbitrary raw queries and paths through presigned parsing and canonicalization, and checks
// that a request presigned by aws-sdk-go-v2 with that query still verifies.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=1&a=2&b=&c", "x=%zz&y=%2", "k=a+b;c", "&&=&", "marker=x%20y%2Fz", "%"} {
		f.Add(s, "/-/vaults/v")
	}
	f.Fuzz(func(t *testing.T, query, path string) {
		r := Request{Method: "GET", RawPath: path, RawQuery: query, Host: "h"}
		if a, err := Parse(r); err == nil {
			_ = a.Verify(r, "secret", EmptySHA256, a.Time, Options{})
		}
		_ = canonicalQuery(parseQuery(query), true)
		_ = canonicalURIBotocore(path)

		// Round trip through the SDK when the request is one net/http can carry.
		req, err := http.NewRequest("GET", "http://127.0.0.1:9000/-/vaults?"+query, nil)
		if err != nil || strings.ContainsAny(query, " #\x00\r\n") {
			return
		}
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime)
		if err != nil {
			return
		}
		get, err := http.NewRequest("GET", signed, nil)
		if err != nil {
			return
		}
		sr, body := overTheWire(t, get)
		if _, err := verifyHTTP(sr, body, testSecret, signTime, Options{}); err != nil {
			t.Fatalf("query %q: %v", query, err)
		}
	})
}
