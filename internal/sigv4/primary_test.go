package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// slowCanonicalRequest is the first form checkSignature builds, as strings.
func slowCanonicalRequest(r *Request, a *Auth, payload string) string {
	return strings.Join([]string{r.Method, canonicalURI(r.RawPath), canonicalQuery(parseQuery(r.RawQuery), a.Presigned),
		canonicalHeaders(r, a.SignedHeaders, requestHost(r), false), strings.Join(a.SignedHeaders, ";"), payload}, "\n")
}

// TestPrimaryFormMatchesCanonicalRequest: the canonical request the fast path hashes is byte for byte the one
// the string-building path builds, for every SDK case and for random headers, paths and queries.
func TestPrimaryFormMatchesCanonicalRequest(t *testing.T) {
	check := func(name string, r Request, a *Auth, payload string) {
		t.Helper()
		got := string(appendCanonicalRequest(nil, &r, a, payload))
		if want := slowCanonicalRequest(&r, a, payload); got != want {
			t.Fatalf("%s: canonical request\n%q\nwant\n%q", name, got, want)
		}
	}
	for _, c := range sdkCases() {
		req := c.request(t)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds(c.token), req, c.payloadHash(), "glacier", "us-east-1", signTime); err != nil {
			t.Fatal(err)
		}
		sr, _ := overTheWire(t, req)
		r := fromHTTP(sr)
		a, err := Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		check(c.name, r, a, c.payloadHash())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ09-_.~ /%+=&;:\t\"é\x00,"
	randStr := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			i := rng.IntN(len(alphabet))
			b.WriteByte(alphabet[i])
		}
		return b.String()
	}
	for i := range 2000 {
		h := map[string][]string{}
		signed := []string{"host"}
		for j := range rng.IntN(5) {
			name := fmt.Sprintf("x-amz-h%d", j)
			key := canonicalKey(name)
			if rng.IntN(4) == 0 {
				key = strings.ToLower(name) // a non-canonical key
			}
			for range 1 + rng.IntN(2) {
				h[key] = append(h[key], randStr(12))
			}
			signed = append(signed, name)
		}
		if rng.IntN(5) == 0 {
			signed = append(signed, "x-amz-missing")
		}
		r := Request{Method: []string{"GET", "PUT", "POST"}[rng.IntN(3)], RawPath: randStr(20), RawQuery: randStr(20), Header: h, Host: randStr(10)}
		a := &Auth{SignedHeaders: signed, Presigned: rng.IntN(2) == 0}
		check("random "+strconv.Itoa(i), r, a, randStr(64))
	}
}

// TestPrimaryHMAC: the HMAC computed from the cached pads is crypto/hmac's.
func TestPrimaryHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		secret := strconv.Itoa(rng.Int())
		e := newSigningKeyEntry(signingKey(secret, "20130524", "us-east-1", "glacier"))
		msg := strings.Repeat("x", i*7)
		v := verifiers.Get().(*verifier)
		got := v.hmac(e, []byte(msg))
		if want := hmacSHA256(e.key, msg); !hmac.Equal(got, want) || e.inner == nil {
			t.Fatalf("message of %d bytes: %x, want %x (saved states: %v)", len(msg), got, want, e.inner != nil)
		}
		noStates := *e
		noStates.inner, noStates.outer = nil, nil
		if got, want := v.hmac(&noStates, []byte(msg)), hmacSHA256(e.key, msg); !hmac.Equal(got, want) {
			t.Fatalf("message of %d bytes, from the pads: %x, want %x", len(msg), got, want)
		}
		verifiers.Put(v)
		h := sha256.New()
		h.Write(e.ipad[:])
		h.Write([]byte(msg))
		inner := h.Sum(nil)
		h.Reset()
		h.Write(e.opad[:])
		h.Write(inner)
		if got, want := h.Sum(nil), hmacSHA256(e.key, msg); !hmac.Equal(got, want) {
			t.Fatalf("message of %d bytes: %x, want %x", len(msg), got, want)
		}
	}
}

// TestVerifyAllocations: verifying a typical signed GET allocates nothing beyond the parsed Auth.
func TestVerifyAllocations(t *testing.T) {
	req := sdkCases()[0].request(t) // describe-vault
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	sr, _ := overTheWire(t, req)
	r := fromHTTP(sr)
	opts := Options{Regions: []string{"us-east-1"}}
	n := testing.AllocsPerRun(200, func() {
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Verify(r, testSecret, EmptySHA256, signTime, opts); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1 {
		t.Errorf("Parse+Verify: %v allocations, want at most 1 (the Auth)", n)
	}
	var a Auth
	n = testing.AllocsPerRun(200, func() {
		if err := ParseInto(&a, r); err != nil {
			t.Fatal(err)
		}
		if err := a.Verify(r, testSecret, EmptySHA256, signTime, opts); err != nil {
			t.Fatal(err)
		}
	})
	if n > 0 {
		t.Errorf("ParseInto+Verify: %v allocations, want none", n)
	}
	if b, err := Parse(r); err != nil || !reflect.DeepEqual(*b, a) {
		t.Errorf("Parse = %+v, %v; ParseInto gave %+v", b, err, a)
	}
}

// refParseParams is the Authorization parameter split as it was written before the allocation-free scan:
// strings.FieldsFunc at ',', ' ' and '\t'. The scan must give the same result for every header.
func refParseParams(rest string) (cred, signed, sig string, err error) {
	for _, piece := range strings.FieldsFunc(rest, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' }) {
		k, v, ok := strings.Cut(piece, "=")
		if !ok {
			return "", "", "", fmt.Errorf("missing equal %s", piece)
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &cred
		case "SignedHeaders":
			dst = &signed
		case "Signature":
			dst = &sig
		default:
			continue
		}
		if *dst != "" {
			return "", "", "", fmt.Errorf("twice %s", k)
		}
		*dst = v
	}
	return
}

// refCredential and refSignedHeaders are the strings.Split versions.
func refCredential(cred string) ([]string, bool) {
	parts := strings.Split(cred, "/")
	return parts, len(parts) == 5 && parts[0] != "" && parts[1] != "" && parts[2] != "" && parts[3] != "" && parts[4] == "aws4_request"
}

func refSignedHeaders(s string) ([]string, bool) {
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if n == "" {
			return nil, false
		}
		names[i] = strings.ToLower(n)
		host = host || names[i] == "host"
	}
	return names, host
}

// malformedAuthz are Authorization headers a client could send by mistake or on purpose.
var malformedAuthz = []string{
	goodAuthz, "", " ", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256  ", "aws4-hmac-sha256 Credential=a/b/c/d/aws4_request",
	"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=",
	"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature==",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request,SignedHeaders=host;x-amz-date,Signature=zz",
	"AWS4-HMAC-SHA256 =,=,=", "AWS AKID:sig", "AWS4-HMAC-SHA256\tCredential=x", "AWS4-HMAC-SHA256 ,,,, \t\t ,",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=HOST;X-AMZ-DATE, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, Credential=x, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00, Signature=01",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host;, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=;host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=x-amz-date, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request/extra, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_requestX, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID//us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1, SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request SignedHeaders=host Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00, Foo",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature = 00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=a;b;c;d;e;f;g;h;i;host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=a;b;c;d;e;f;g;host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=é/20130524/us-east-1/glacier/aws4_request,\u00a0SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=\xff/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host;\xff, Signature=\xff",
	"AWS4-HMAC-SHA256 Credential=a=b/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host=1, Signature=0=0",
}

// TestParseMatchesReference: the allocation-free Authorization parser agrees with the strings.FieldsFunc /
// strings.Split one on every malformed header (and on random ones): the same fields, or an error of the same
// kind, never a panic.
func TestParseMatchesReference(t *testing.T) {
	headers := append([]string(nil), malformedAuthz...)
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "=,; \t/Ch4aws_requestHOSTSignedHeadersCredentialSignature"
	for range 3000 {
		base := malformedAuthz[rng.IntN(len(malformedAuthz))]
		b := []byte(base)
		for range 1 + rng.IntN(4) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			}
		}
		headers = append(headers, string(b))
	}
	for _, authz := range headers {
		r := Request{Method: "GET", RawPath: "/", Host: "h", Header: map[string][]string{"Authorization": {authz}, "X-Amz-Date": {"20130524T000000Z"}}}
		a, err := Parse(r)
		want := refParse(authz)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Kind != Incomplete && e.Kind != MissingAuth) {
				t.Fatalf("Parse(%q): %v", authz, err)
			}
			if want != nil {
				t.Fatalf("Parse(%q): %v; the reference parses it as %+v", authz, err, want)
			}
			continue
		}
		if want == nil {
			t.Fatalf("Parse(%q) = %+v; the reference refuses it", authz, a)
		}
		if a.AccessKeyID != want.AccessKeyID || a.Date != want.Date || a.Region != want.Region || a.Service != want.Service ||
			a.Signature != want.Signature || !reflect.DeepEqual(a.SignedHeaders, want.SignedHeaders) {
			t.Fatalf("Parse(%q) = %+v, reference %+v", authz, a, want)
		}
	}
}

// refParse is the reference result for an Authorization header with a valid X-Amz-Date: nil when refused.
func refParse(authz string) *Auth {
	header := strings.TrimSpace(authz)
	algo, rest, _ := strings.Cut(header, " ")
	if algo != Algorithm {
		return nil
	}
	cred, signed, sig, err := refParseParams(rest)
	if err != nil || cred == "" || signed == "" || sig == "" {
		return nil
	}
	parts, ok := refCredential(cred)
	if !ok {
		return nil
	}
	names, ok := refSignedHeaders(signed)
	if !ok {
		return nil
	}
	return &Auth{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], SignedHeaders: names, Signature: sig}
}

// TestParseErrorMessages: the allocation-free parser keeps the messages AWS clients see.
func TestParseErrorMessages(t *testing.T) {
	for authz, want := range map[string]string{
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, Foo, SignedHeaders=host, Signature=00":          "'Foo' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, Foo, SignedHeaders=host, Signature=00'.",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, Credential=x, SignedHeaders=host, Signature=00": "Authorization header has more than one 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, Credential=x, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00":                              "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c'",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=00":                        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d/e/f'",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/x, SignedHeaders=host, Signature=00":                          "Credential should be scoped with a valid terminator: 'aws4_request', not 'x'. ",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host;;x, Signature=00":            "SignedHeaders must be a ';'-separated list of header names, got 'host;;x'",
	} {
		r := Request{Method: "GET", RawPath: "/", Host: "h", Header: map[string][]string{"Authorization": {authz}, "X-Amz-Date": {"20130524T000000Z"}}}
		_, err := Parse(r)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Incomplete || e.Message != want {
			t.Errorf("Parse(%q): %v, want Incomplete %q", authz, err, want)
		}
	}
}

// TestParseBasicISOMatchesTimeParse: the hand-written basic-ISO parser and formatter agree with time.Parse and
// time.Format on valid, out-of-range and malformed stamps.
func TestParseBasicISOMatchesTimeParse(t *testing.T) {
	stamps := []string{"20130524T000000Z", "20240229T235959Z", "20230229T000000Z", "20231231T240000Z", "20231231T236000Z",
		"20231231T235960Z", "20230431T000000Z", "20230001T000000Z", "20231300T000000Z", "20230100T000000Z", "00000101T000000Z",
		"99991231T235959Z", "2013052T4000000Z", "20130524T00000Z", "20130524 000000Z", "20130524T000000z", "+0130524T000000Z"}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		stamps = append(stamps, fmt.Sprintf("%04d%02d%02dT%02d%02d%02dZ", rng.IntN(10000), rng.IntN(14), rng.IntN(33), rng.IntN(26), rng.IntN(62), rng.IntN(62)))
	}
	for _, s := range stamps {
		got, ok := parseBasicISO(s)
		want, err := time.Parse(basicISO, s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("parseBasicISO(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, want, err)
		}
		if ok {
			if f := string(appendBasicISO(nil, got, false)); f != want.Format(basicISO) {
				t.Fatalf("appendBasicISO(%v) = %q, want %q", got, f, want.Format(basicISO))
			}
			if f := string(appendBasicISO(nil, got, true)); f != want.Format("20060102") {
				t.Fatalf("appendBasicISO(%v, date) = %q", got, f)
			}
		}
	}
}
