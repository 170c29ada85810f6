package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signedUpload returns the server's view of an UploadArchive request signed by aws-sdk-go-v2 at signTime.
func signedUpload(t testing.TB, mutate func(*http.Request)) (Request, string) {
	t.Helper()
	body := "hello"
	h := sha256Hex([]byte(body))
	req, _ := http.NewRequest("POST", "http://127.0.0.1:9000/-/vaults/my-vault/archives?x=1", strings.NewReader(body))
	req.Header.Set("X-Amz-Glacier-Version", "2012-06-01")
	req.Header.Set("X-Amz-Content-Sha256", h)
	req.Header.Set("X-Amz-Sha256-Tree-Hash", h)
	req.Header.Set("X-Amz-Archive-Description", "my archive")
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(false), req, h, "glacier", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(req)
	}
	sr, b := overTheWire(t, req)
	return fromHTTP(sr), payloadHashFor(sr.Header, b)
}

func TestVerifyNegative(t *testing.T) {
	now := signTime.Add(time.Minute)
	opts := Options{Service: "glacier", Regions: []string{"us-east-1"}}

	t.Run("baseline", func(t *testing.T) {
		r, ph := signedUpload(t, nil)
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Verify(r, testSecret, ph, now, opts); err != nil {
			t.Fatal(err)
		}
	})

	tests := []struct {
		name   string
		mutate func(*http.Request)     // on the signed client request
		edit   func(*Request, *string) // on the server's view and payload hash
		verify func(*Auth, Request, string) error
		want   Kind
	}{
		{name: "tampered header", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Archive-Description", "other") }, want: SignatureMismatch},
		{name: "tampered tree hash", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Sha256-Tree-Hash", EmptySHA256) }, want: SignatureMismatch},
		{name: "tampered body hash", edit: func(_ *Request, ph *string) { *ph = EmptySHA256 }, want: SignatureMismatch},
		{name: "tampered path", edit: func(r *Request, _ *string) { r.RawPath = "/-/vaults/other-vault/archives" }, want: SignatureMismatch},
		{name: "path case", edit: func(r *Request, _ *string) { r.RawPath = "/-/vaults/My-vault/archives" }, want: SignatureMismatch},
		{name: "tampered query value", edit: func(r *Request, _ *string) { r.RawQuery = "x=2" }, want: SignatureMismatch},
		{name: "added query", edit: func(r *Request, _ *string) { r.RawQuery = "x=1&limit=5" }, want: SignatureMismatch},
		{name: "dropped query", edit: func(r *Request, _ *string) { r.RawQuery = "" }, want: SignatureMismatch},
		{name: "tampered method", edit: func(r *Request, _ *string) { r.Method = "PUT" }, want: SignatureMismatch},
		{name: "tampered host", edit: func(r *Request, _ *string) { r.Host = "127.0.0.1:9001" }, want: SignatureMismatch},
		{name: "wrong secret", verify: func(a *Auth, r Request, ph string) error { return a.Verify(r, testSecret+"x", ph, now, opts) }, want: SignatureMismatch},
		{name: "empty secret", verify: func(a *Auth, r Request, ph string) error { return a.Verify(r, "", ph, now, opts) }, want: SignatureMismatch},
		{name: "wrong service", verify: func(a *Auth, r Request, ph string) error {
			return a.Verify(r, testSecret, ph, now, Options{Service: "s3"})
		}, want: WrongService},
		{name: "wrong region", verify: func(a *Auth, r Request, ph string) error {
			return a.Verify(r, testSecret, ph, now, Options{Regions: []string{"us-west-2", "eu-west-1"}})
		}, want: WrongRegion},
		{name: "signature garbage", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=zz", 1))
		}, want: SignatureMismatch},
		{name: "signature truncated", mutate: func(r *http.Request) {
			v := r.Header.Get("Authorization")
			r.Header.Set("Authorization", v[:len(v)-2])
		}, want: SignatureMismatch},
		{name: "scope date differs from request date", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20130524/", "/20130525/", 1))
		}, want: WrongDate},
		{name: "x-amz-date moved by a second", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20130524T000001Z") }, want: SignatureMismatch},
		{name: "x-amz-date removed, Date present", mutate: func(r *http.Request) {
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
		}, want: SignatureMismatch}, // x-amz-date was signed; now absent
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ph := signedUpload(t, tc.mutate)
			if tc.edit != nil {
				tc.edit(&r, &ph)
			}
			a, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tc.verify != nil {
				err = tc.verify(a, r, ph)
			} else {
				err = a.Verify(r, testSecret, ph, now, opts)
			}
			if got := kindOf(err); got != tc.want {
				t.Fatalf("got %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

func TestMismatchMessage(t *testing.T) {
	r, ph := signedUpload(t, nil)
	a, _ := Parse(r)
	err := a.Verify(r, "bad", ph, signTime, Options{})
	e, ok := err.(*Error)
	if !ok || e.Kind != SignatureMismatch {
		t.Fatalf("got %v", err)
	}
	const want = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	if e.Message != want {
		t.Errorf("Message = %q", e.Message)
	}
	if !strings.HasPrefix(e.CanonicalRequest, "POST\n/-/vaults/my-vault/archives\nx=1\n") ||
		!strings.HasPrefix(e.StringToSign, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/glacier/aws4_request\n") {
		t.Errorf("CanonicalRequest = %q\nStringToSign = %q", e.CanonicalRequest, e.StringToSign)
	}
}

func TestScopeMessages(t *testing.T) {
	r, ph := signedUpload(t, nil)
	a, _ := Parse(r)
	for _, tc := range []struct {
		opts Options
		auth func(Auth) Auth
		want string
	}{
		{Options{Service: "s3"}, nil, "Credential should be scoped to correct service: 's3'. "},
		{Options{Regions: []string{"eu-west-1"}}, nil, "Credential should be scoped to a valid region, not 'us-east-1'. "},
		{Options{}, func(a Auth) Auth { a.Date = "20130523"; return a },
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20130523' != '20130524', from '20130524T000000Z'."},
	} {
		b := *a
		if tc.auth != nil {
			b = tc.auth(b)
		}
		err := b.Verify(r, testSecret, ph, signTime, tc.opts)
		if e, ok := err.(*Error); !ok || e.Message != tc.want {
			t.Errorf("got %v, want message %q", err, tc.want)
		}
	}
}

// TestSkew checks the 15-minute window at its edges, both directions, with AWS's messages.
func TestSkew(t *testing.T) {
	r, ph := signedUpload(t, nil)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now  time.Duration // now - request time
		skew time.Duration
		want Kind
		msg  string
	}{
		{now: 0},
		{now: 15 * time.Minute},
		{now: 15*time.Minute + time.Second, want: TimeSkewed,
			msg: "Signature expired: 20130524T000000Z is now earlier than 20130524T000001Z (20130524T001501Z - 15 min.)"},
		{now: 25 * time.Minute, want: TimeSkewed,
			msg: "Signature expired: 20130524T000000Z is now earlier than 20130524T001000Z (20130524T002500Z - 15 min.)"},
		{now: -15 * time.Minute},
		{now: -15*time.Minute - time.Second, want: TimeSkewed,
			msg: "Signature not yet current: 20130524T000000Z is still later than 20130523T235959Z (20130523T234459Z + 15 min.)"},
		{now: 5*time.Minute + time.Second, skew: 5 * time.Minute, want: TimeSkewed,
			msg: "Signature expired: 20130524T000000Z is now earlier than 20130524T000001Z (20130524T000501Z - 5 min.)"},
		{now: -90 * time.Second, skew: 80 * time.Second, want: TimeSkewed,
			msg: "Signature not yet current: 20130524T000000Z is still later than 20130523T235950Z (20130523T235830Z + 80 sec.)"},
		{now: 5 * time.Minute, skew: 5 * time.Minute},
	} {
		err := a.Verify(r, testSecret, ph, signTime.Add(tc.now), Options{MaxSkew: tc.skew})
		if got := kindOf(err); got != tc.want {
			t.Errorf("now %+v skew %v: got %v (%v), want %v", tc.now, tc.skew, got, err, tc.want)
			continue
		}
		if tc.msg != "" && err.(*Error).Message != tc.msg {
			t.Errorf("now %+v: message\n got %q\nwant %q", tc.now, err.(*Error).Message, tc.msg)
		}
	}
}

// presigned returns the server's view of a GET presigned by aws-sdk-go-v2 at signTime.
func presigned(t testing.TB, expires string) Request {
	t.Helper()
	u := "http://127.0.0.1:9000/-/vaults/v/jobs/J/output"
	if expires != "" {
		u += "?X-Amz-Expires=" + expires
	}
	req, _ := http.NewRequest("GET", u, nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	get, _ := http.NewRequest("GET", signed, nil)
	sr, _ := overTheWire(t, get)
	return fromHTTP(sr)
}

func TestPresignExpiry(t *testing.T) {
	for _, tc := range []struct {
		expires string
		now     time.Duration
		want    Kind
	}{
		{"600", 0, 0},
		{"600", 600 * time.Second, 0},
		{"600", 601 * time.Second, PresignExpired},
		{"86400", 20 * time.Hour, 0},            // longer than the skew window
		{"60", 2 * time.Minute, PresignExpired}, // shorter than the skew window
		{"600", -15 * time.Minute, 0},
		{"600", -16 * time.Minute, TimeSkewed}, // not yet current
		{"", 15 * time.Minute, 0},              // no X-Amz-Expires: skew window
		{"", 16 * time.Minute, TimeSkewed},
	} {
		r := presigned(t, tc.expires)
		a, err := Parse(r)
		if err != nil {
			t.Fatalf("expires %q: Parse: %v", tc.expires, err)
		}
		err = a.Verify(r, testSecret, EmptySHA256, signTime.Add(tc.now), Options{})
		if got := kindOf(err); got != tc.want {
			t.Errorf("expires %q, now %+v: got %v (%v), want %v", tc.expires, tc.now, got, err, tc.want)
		}
		if tc.want == PresignExpired && err.(*Error).Message != "Request has expired" {
			t.Errorf("message %q", err.(*Error).Message)
		}
	}
	// Tampering with the signed expiry breaks the signature.
	r := presigned(t, "600")
	r.RawQuery = strings.Replace(r.RawQuery, "X-Amz-Expires=600", "X-Amz-Expires=6000", 1)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, testSecret, EmptySHA256, signTime, Options{}); kindOf(err) != SignatureMismatch {
		t.Errorf("tampered X-Amz-Expires: got %v", err)
	}
}

func TestMissingAuth(t *testing.T) {
	for _, r := range []Request{
		{Method: "GET", RawPath: "/-/vaults", Host: "h", Header: map[string][]string{"X-Amz-Date": {"20130524T000000Z"}}},
		{Method: "GET", RawPath: "/-/vaults", Host: "h", Header: map[string][]string{"Authorization": {""}}},
		{Method: "GET", RawPath: "/-/vaults", Host: "h", Header: map[string][]string{"Authorization": {"   "}}},
		{Method: "GET", RawPath: "/-/vaults", Host: "h", RawQuery: "X-Amz-Date=20130524T000000Z&limit=5"},
		{Method: "GET", RawPath: "/-/vaults", Host: "h"},
	} {
		_, err := Parse(r)
		if kindOf(err) != MissingAuth || err.(*Error).Message != "Missing Authentication Token" {
			t.Errorf("%+v: got %v, want MissingAuth", r, err)
		}
	}
	var a *Auth
	if err := a.Verify(Request{}, "s", EmptySHA256, signTime, Options{}); kindOf(err) != MissingAuth {
		t.Errorf("nil Auth: got %v", err)
	}
}

const goodAuthz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseHeader(t *testing.T) {
	hdr := func(authz string, extra ...string) Request {
		h := map[string][]string{"Authorization": {authz}, "X-Amz-Date": {"20130524T000000Z"}}
		for i := 0; i < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(h, extra[i])
			} else {
				h[extra[i]] = []string{extra[i+1]}
			}
		}
		return Request{Method: "GET", RawPath: "/", Host: "h", Header: h}
	}
	a, err := Parse(hdr(goodAuthz))
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{AccessKeyID: "AKIDEXAMPLE", Date: "20130524", Region: "us-east-1", Service: "glacier",
		SignedHeaders: []string{"host", "x-amz-date"}, Signature: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Time: signTime}
	if a.AccessKeyID != want.AccessKeyID || a.Date != want.Date || a.Region != want.Region || a.Service != want.Service ||
		strings.Join(a.SignedHeaders, ";") != "host;x-amz-date" || a.Signature != want.Signature || !a.Time.Equal(want.Time) || a.Presigned {
		t.Errorf("Parse = %+v", a)
	}

	// Accepted variations.
	for _, r := range []Request{
		hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request,SignedHeaders=host,Signature=00"),
		hdr("AWS4-HMAC-SHA256   Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request ,  SignedHeaders=host , Signature=00 , Extra=1"),
		hdr(goodAuthz, "X-Amz-Date", "", "Date", "Fri, 24 May 2013 00:00:00 GMT"),
		hdr(goodAuthz, "X-Amz-Date", "", "Date", "Fri, 24 May 2013 00:00:00 -0000"),
		hdr(goodAuthz, "X-Amz-Date", "", "Date", "Friday, 24-May-13 00:00:00 GMT"),
		hdr(goodAuthz, "X-Amz-Date", "", "Date", "Fri May 24 00:00:00 2013"),
		hdr(goodAuthz, "X-Amz-Date", "", "Date", "20130524T000000Z"),
		hdr(goodAuthz, "Date", "garbage"), // X-Amz-Date wins
	} {
		a, err := Parse(r)
		if err != nil {
			t.Errorf("%v: %v", r.Header, err)
		} else if !a.Time.Equal(signTime) {
			t.Errorf("%v: Time = %v", r.Header, a.Time)
		}
	}

	// Incomplete, with AWS's messages where known.
	for _, tc := range []struct {
		r   Request
		msg string // prefix
	}{
		{hdr("AWS4-HMAC-SHA256"), "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"},
		{hdr("AWS AKIDEXAMPLE:c2lnbmF0dXJl"), "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS AKIDEXAMPLE:"},
		{hdr("Bearer abc", "X-Amz-Date", ""), "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc"},
		{hdr("AWS4-HMAC-SHA512 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"), "Authorization header requires 'Credential' parameter."},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, Signature=00"), "Authorization header requires 'SignedHeaders' parameter. Authorization="},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host"), "Authorization header requires 'Signature' parameter. Authorization="},
		{hdr("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=00"), "Authorization header requires 'Credential' parameter. Authorization="},
		{hdr(goodAuthz, "X-Amz-Date", ""), "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="},
		{hdr("AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"),
			"'AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE"},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"),
			"'/20130524/us-east-1/glacier/aws4_request' not a valid key=value pair (missing equal-sign)"},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier, SignedHeaders=host, Signature=00"),
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20130524/us-east-1/glacier'"},
		{hdr("AWS4-HMAC-SHA256 Credential=AK/ID/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"), "Credential must have exactly 5"},
		{hdr("AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"), "Credential must have exactly 5"},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_reques, SignedHeaders=host, Signature=00"),
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'. "},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=x-amz-date, Signature=00"),
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host;;x-amz-date, Signature=00"), "SignedHeaders must be"},
		{hdr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, Credential=AKIDEXAMPLE/20130524/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=00"), "Authorization header has more than one 'Credential'"},
		{hdr(goodAuthz, "X-Amz-Date", "2013-05-24T00:00:00Z"), "Date must be in ISO-8601 'basic format'. Got '2013-05-24T00:00:00Z'."},
		{hdr(goodAuthz, "X-Amz-Date", "20130524T0000Z"), "Date must be in ISO-8601 'basic format'."},
		{hdr(goodAuthz, "X-Amz-Date", "20131324T000000Z"), "Date must be in ISO-8601 'basic format'."},
		{hdr(goodAuthz, "X-Amz-Date", "", "Date", "yesterday"), "Date must be in ISO-8601 'basic format'. Got 'yesterday'."},
		{Request{Header: map[string][]string{"Authorization": {goodAuthz, goodAuthz}, "X-Amz-Date": {"20130524T000000Z"}}}, "Authorization header must be sent only once"},
		{Request{Header: map[string][]string{"Authorization": {goodAuthz}, "X-Amz-Date": {"20130524T000000Z"}}, RawQuery: "X-Amz-Signature=00"},
			"Only one auth mechanism allowed"},
	} {
		_, err := Parse(tc.r)
		if kindOf(err) != Incomplete || !strings.HasPrefix(err.(*Error).Message, tc.msg) {
			t.Errorf("%q: got %v, want Incomplete %q", tc.r.Header["Authorization"], err, tc.msg)
		}
	}
}

func TestParsePresigned(t *testing.T) {
	const base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fglacier%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
	q := func(s string) Request { return Request{Method: "GET", RawPath: "/", Host: "h", RawQuery: s} }
	a, err := Parse(q(base + "&X-Amz-Expires=3600&X-Amz-Security-Token=a%2Bb"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Presigned || a.Expires != time.Hour || a.SecurityToken != "a+b" || a.AccessKeyID != "AKIDEXAMPLE" || !a.Time.Equal(signTime) {
		t.Errorf("Parse = %+v", a)
	}
	for _, tc := range []struct{ query, msg string }{
		{strings.Replace(base, "X-Amz-Date=20130524T000000Z&", "", 1), "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{strings.Replace(base, "&X-Amz-Signature=00", "", 1), "AWS query-string parameters must include"},
		{strings.Replace(base, "X-Amz-SignedHeaders=host&", "", 1), "AWS query-string parameters must include"},
		{base + "&X-Amz-Signature=01", "AWS query-string parameters must include"},
		{strings.Replace(base, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{strings.Replace(base, "20130524T000000Z", "20130524", 1), `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`},
		{base + "&X-Amz-Expires=-1", "X-Amz-Expires must be non-negative"},
		{base + "&X-Amz-Expires=abc", "X-Amz-Expires should be a number"},
		{base + "&X-Amz-Expires=", "X-Amz-Expires should be a number"},
		{base + "&X-Amz-Expires=604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{base + "&X-Amz-Expires=99999999999999999999", "X-Amz-Expires must be less than a week"},
		{base + "&X-Amz-Expires=-99999999999999999999", "X-Amz-Expires must be non-negative"},
		{base + "&X-Amz-Expires=0", "X-Amz-Expires must be greater than 0"},
		{strings.Replace(base, "SignedHeaders=host", "SignedHeaders=x-amz-date", 1), "'Host' or ':authority' must be a 'SignedHeader'"},
		{strings.Replace(base, "aws4_request", "aws5_request", 1), "Credential should be scoped with a valid terminator"},
	} {
		_, err := Parse(q(tc.query))
		if kindOf(err) != Incomplete || !strings.HasPrefix(err.(*Error).Message, tc.msg) {
			t.Errorf("%s: got %v, want Incomplete %q", tc.query, err, tc.msg)
		}
	}
	if a, err := Parse(q(base + "&X-Amz-Expires=604800")); err != nil || a.Expires != MaxExpires {
		t.Errorf("one week: %v %v", a, err)
	}
}

// TestHostMustBeSigned: a request whose signer left host out is refused before any signature work.
func TestHostMustBeSigned(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:9000/-/vaults", nil)
	req.Header.Set("X-Amz-Glacier-Version", "2012-06-01")
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	// Rewrite the signed-header list without host, as a client that forgot it would send.
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
	sr, _ := overTheWire(t, req)
	_, err := Parse(fromHTTP(sr))
	if kindOf(err) != Incomplete {
		t.Fatalf("got %v, want Incomplete", err)
	}
}

// TestSignatureCase: hex signatures compare case-insensitively (both SDKs send lower case).
func TestSignatureCase(t *testing.T) {
	r, ph := signedUpload(t, func(req *http.Request) {
		v := req.Header.Get("Authorization")
		i := strings.Index(v, "Signature=") + len("Signature=")
		req.Header.Set("Authorization", v[:i]+strings.ToUpper(v[i:]))
	})
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, testSecret, ph, signTime, Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderLookup: header maps that do not use canonical keys still verify.
func TestHeaderLookup(t *testing.T) {
	r, ph := signedUpload(t, nil)
	lower := map[string][]string{}
	for k, v := range r.Header {
		lower[strings.ToLower(k)] = v
	}
	r.Header = lower
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(r, testSecret, ph, signTime, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{MissingAuth: "MissingAuth", Incomplete: "Incomplete", SignatureMismatch: "SignatureMismatch",
		TimeSkewed: "TimeSkewed", PresignExpired: "PresignExpired", WrongService: "WrongService", WrongRegion: "WrongRegion",
		WrongDate: "WrongDate", Kind(99): "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q", int(k), got)
		}
	}
	if got := (&Error{Kind: TimeSkewed, Message: "m"}).Error(); got != "sigv4: TimeSkewed: m" {
		t.Errorf("Error() = %q", got)
	}
}
