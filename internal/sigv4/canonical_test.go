package sigv4

import (
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/httpbinding"
)

// TestCanonicalURI pins both path forms. The botocore column was produced with
// quote(botocore.utils.normalize_url_path(p), safe='/~') (botocore 1.43); the aws-sdk-go-v2 column is checked
// against smithy-go's httpbinding.EscapePath, which the SDK's signer calls.
func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct{ wire, goSDK, botocore string }{
		{"", "/", "/"},
		{"/", "/", "/"},
		{"//", "//", "/"},
		{"/-/vaults/", "/-/vaults/", "/-/vaults/"},
		{"/-/vaults//v", "/-/vaults//v", "/-/vaults/v"},
		{"/a/./b/../c", "/a/./b/../c", "/a/c"},
		{"/a/..", "/a/..", "/"},
		{"/..", "/..", "/"},
		{"/a/b/..", "/a/b/..", "/a"},
		{"/a/b/../", "/a/b/../", "/a/"},
		{"/./", "/./", "/"},
		{"a/b", "a/b", "a/b"},
		{"/a%20b/%2E%2E/c", "/a%2520b/%252E%252E/c", "/a%2520b/%252E%252E/c"},
		{"/-/vaults/a%20b", "/-/vaults/a%2520b", "/-/vaults/a%2520b"},
		{"/x~y!$&'()*+,;=:@", "/x~y%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40", "/x~y%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"},
		{"/-/vaults/v/archives/-aBc_123-xyz", "/-/vaults/v/archives/-aBc_123-xyz", "/-/vaults/v/archives/-aBc_123-xyz"},
	} {
		if got := canonicalURI(tc.wire); got != tc.goSDK {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.wire, got, tc.goSDK)
		}
		if tc.wire != "" {
			if sdk := httpbinding.EscapePath(tc.wire, false); sdk != tc.goSDK {
				t.Errorf("httpbinding.EscapePath(%q) = %q, table says %q", tc.wire, sdk, tc.goSDK)
			}
		}
		if got := canonicalURIBotocore(tc.wire); got != tc.botocore {
			t.Errorf("canonicalURIBotocore(%q) = %q, want %q", tc.wire, got, tc.botocore)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"limit=10&marker=x", false, "limit=10&marker=x"},
		{"marker=x&limit=10", false, "limit=10&marker=x"},
		{"operation=add", false, "operation=add"},
		{"b=&a=2&a=1&c&x=y%20z", false, "a=1&a=2&b=&c=&x=y%20z"},
		{"a=x+y", false, "a=x%20y"},       // '+' is a space, as in url.ParseQuery
		{"a=x%2By", false, "a=x%2By"},     // a literal plus
		{"a=%7e%2f", false, "a=~%2F"},     // lower-case escapes, unreserved decoded
		{"a=x/y:z", false, "a=x%2Fy%3Az"}, // raw reserved characters encoded
		{"k=%zz&j=%2", false, "j=%252&k=%25zz"},
		{"k=a;b", false, "k=a%3Bb"},
		{"a=1&&b=2&", false, "a=1&b=2"},
		{"=v", false, "=v"},
		{"a/b=1&a-b=2", false, "a%2Fb=1&a-b=2"}, // sorted after encoding
		{"a=1&X-Amz-Signature=abc&X-Amz-Date=d", true, "X-Amz-Date=d&a=1"},
		{"a=1&X-Amz-Signature=abc", false, "X-Amz-Signature=abc&a=1"},
		{"k=d%C3%A9j%C3%A0", false, "k=d%C3%A9j%C3%A0"},
	} {
		if got := canonicalQuery(parseQuery(tc.raw), tc.presigned); got != tc.want {
			t.Errorf("canonicalQuery(%q, %v) = %q, want %q", tc.raw, tc.presigned, got, tc.want)
		}
	}
}

func TestHeaderValueTrimming(t *testing.T) {
	for _, tc := range []struct{ in, goSDK, botocore string }{
		{"a", "a", "a"},
		{"  a  b   c ", "a b c", "a b c"},
		{"a\tb", "a\tb", "a b"},
		{"a \t b", "a \t b", "a b"},
		{"", "", ""},
		{"déjà  vu", "déjà vu", "déjà vu"},
	} {
		if got := trimAllGo(tc.in); got != tc.goSDK {
			t.Errorf("trimAllGo(%q) = %q, want %q", tc.in, got, tc.goSDK)
		}
		if got := trimAllPy(tc.in); got != tc.botocore {
			t.Errorf("trimAllPy(%q) = %q, want %q", tc.in, got, tc.botocore)
		}
	}
	r := &Request{Host: "h", Header: map[string][]string{"X-Amz-Meta-A": {" one ", "two  words"}, "Content-Length": {"5"}}}
	got := canonicalHeaders(r, []string{"content-length", "host", "x-amz-meta-a", "x-amz-missing"}, requestHost(r), false)
	if want := "content-length:5\nhost:h\nx-amz-meta-a:one,two words\nx-amz-missing:\n"; got != want {
		t.Errorf("canonicalHeaders = %q, want %q", got, want)
	}
}

func TestStripDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"h:443": "h", "h:80": "h", "h:8080": "h:8080", "h": "h", "[::1]:443": "[::1]", ":443": ":443", "h:4443": "h:4443",
	} {
		if got := stripDefaultPort(in); got != want {
			t.Errorf("stripDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.HasSuffix(canonicalKey("x-amz-content-sha256"), "Sha256") || canonicalKey("x-amz-date") != "X-Amz-Date" {
		t.Errorf("canonicalKey: %q", canonicalKey("x-amz-content-sha256"))
	}
}
