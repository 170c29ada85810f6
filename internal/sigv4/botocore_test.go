package sigv4

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// botocoreFixture is testdata/botocore.json, written by testdata/gen_botocore.py.
type botocoreFixture struct {
	BotocoreVersion string `json:"botocore_version"`
	Time            string `json:"time"`
	AccessKey       string `json:"access_key"`
	SecretKey       string `json:"secret_key"`
	Cases           []struct {
		Name             string      `json:"name"`
		Signer           string      `json:"signer"`
		Region           string      `json:"region"`
		Method           string      `json:"method"`
		Path             string      `json:"path"`
		Query            string      `json:"query"`
		Headers          [][2]string `json:"headers"`
		Body             string      `json:"body"`
		CanonicalRequest string      `json:"canonical_request"`
	} `json:"cases"`
}

func loadBotocore(t *testing.T) botocoreFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/botocore.json")
	if err != nil {
		t.Fatal(err)
	}
	var f botocoreFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 20 {
		t.Fatalf("only %d cases in botocore.json", len(f.Cases))
	}
	return f
}

// TestBotocore verifies every request botocore signed, parsed from its wire form by net/http, and checks that
// one of the canonical forms Verify tries is byte for byte botocore's canonical request.
func TestBotocore(t *testing.T) {
	f := loadBotocore(t)
	signTime := mustTime(t, f.Time)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			target := c.Path
			if c.Query != "" {
				target += "?" + c.Query
			}
			var raw strings.Builder
			fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\n", c.Method, target)
			for _, h := range c.Headers {
				fmt.Fprintf(&raw, "%s: %s\r\n", h[0], h[1])
			}
			raw.WriteString("\r\n")
			raw.WriteString(c.Body)
			sr, body := readWire(t, []byte(raw.String()))

			r := fromHTTP(sr)
			a, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if a.AccessKeyID != f.AccessKey || a.Region != c.Region || a.Service != "glacier" || !a.Time.Equal(signTime) {
				t.Errorf("parsed %+v", a)
			}
			if got, want := a.Presigned, strings.HasPrefix(c.Signer, "SigV4Query") || strings.HasPrefix(c.Signer, "presign"); got != want {
				t.Errorf("Presigned = %v, want %v", got, want)
			}

			payload := payloadHashFor(sr.Header, body)
			if !canonicalForms(r, a, payload)[c.CanonicalRequest] {
				t.Errorf("botocore's canonical request is not among ours\nbotocore:\n%s\nours:\n%s",
					c.CanonicalRequest, strings.Join(keys(canonicalForms(r, a, payload)), "\n--\n"))
			}
			now := signTime.Add(2 * time.Minute)
			if err := a.Verify(r, f.SecretKey, payload, now, Options{Service: "glacier", Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}}); err != nil {
				var e *Error
				if errors.As(err, &e) {
					t.Fatalf("Verify: %v\nours:\n%s", err, e.CanonicalRequest)
				}
				t.Fatalf("Verify: %v", err)
			}
			if a.Presigned {
				// botocore signs the body hash, not UNSIGNED-PAYLOAD, into presigned URLs: a caller that passes
				// UNSIGNED-PAYLOAD for them does not verify. Nor do they carry x-amz-glacier-version.
				if err := a.Verify(r, f.SecretKey, UnsignedPayload, now, Options{}); kindOf(err) != SignatureMismatch {
					t.Errorf("presigned with UNSIGNED-PAYLOAD: got %v, want SignatureMismatch", err)
				}
				if strings.HasPrefix(c.Signer, "presign-client") && (sr.Header.Get("X-Amz-Glacier-Version") != "" ||
					strings.Contains(strings.ToLower(c.Query), "glacier-version")) {
					t.Errorf("botocore presigned URL now carries x-amz-glacier-version: %s", c.Query)
				}
			}
			// The same request with another secret must fail.
			if err := a.Verify(r, f.SecretKey+"x", payload, now, Options{}); kindOf(err) != SignatureMismatch {
				t.Errorf("wrong secret: got %v, want SignatureMismatch", err)
			}
		})
	}
}

// canonicalForms lists every canonical request Verify may try for r.
func canonicalForms(r Request, a *Auth, payload string) map[string]bool {
	query := canonicalQuery(parseQuery(r.RawQuery), a.Presigned)
	forms := map[string]bool{}
	for _, p := range []string{canonicalURI(r.RawPath), canonicalURIBotocore(r.RawPath)} {
		for _, py := range []bool{false, true} {
			for _, ph := range []string{payload, UnsignedPayload} {
				if ph == UnsignedPayload && !(a.Presigned && payload == EmptySHA256) {
					continue
				}
				h := canonicalHeaders(&r, a.SignedHeaders, requestHost(&r), py)
				forms[strings.Join([]string{r.Method, p, query, h, strings.Join(a.SignedHeaders, ";"), ph}, "\n")] = true
			}
		}
	}
	return forms
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// TestBotocoreVariants pins which fixtures need botocore's alternative canonical forms, so a change that makes
// the primary (aws-sdk-go-v2) form cover them, or stop covering the others, is noticed.
func TestBotocoreVariants(t *testing.T) {
	f := loadBotocore(t)
	needAlt := map[string]bool{"dot-segments": true, "description-whitespace": true}
	for _, c := range f.Cases {
		var raw strings.Builder
		target := c.Path
		if c.Query != "" {
			target += "?" + c.Query
		}
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\n", c.Method, target)
		for _, h := range c.Headers {
			fmt.Fprintf(&raw, "%s: %s\r\n", h[0], h[1])
		}
		raw.WriteString("\r\n" + c.Body)
		sr, body := readWire(t, []byte(raw.String()))
		r := fromHTTP(sr)
		a, err := Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		primary := strings.Join([]string{r.Method, canonicalURI(r.RawPath), canonicalQuery(parseQuery(r.RawQuery), a.Presigned),
			canonicalHeaders(&r, a.SignedHeaders, requestHost(&r), false), strings.Join(a.SignedHeaders, ";"), payloadHashFor(sr.Header, body)}, "\n")
		if got := primary != c.CanonicalRequest; got != needAlt[c.Name] {
			t.Errorf("%s: needs alternative form = %v, want %v", c.Name, got, needAlt[c.Name])
		}
	}
}
