package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Verify checks a against r: the credential scope (service opts.Service, a region in opts.Regions, scope date
// equal to the request date), the request time against now (opts.MaxSkew either way; for a presigned request
// with X-Amz-Expires, expiry replaces the "too old" bound), and finally the signature computed with secret, in
// constant time. Its errors are *Error.
//
// payloadHash is the last line of the canonical request:
//   - when the request carries x-amz-content-sha256, pass that header's value unchanged (the caller must then
//     check, while streaming, that the body's SHA-256 equals it, or refuse values such as UNSIGNED-PAYLOAD
//     where a signed body is required);
//   - otherwise pass the hex SHA-256 of the body as received, EmptySHA256 for an empty body.
//
// That rule is the same for presigned requests: botocore's SigV4QueryAuth signs the body hash (EmptySHA256 for
// a GET) for non-S3 services, as does aws-sdk-go-v2's presign middleware. Because callers of aws-sdk-go-v2's
// PresignHTTP often pass UnsignedPayload (the S3 idiom), Verify also accepts UnsignedPayload for a presigned
// request whose payloadHash is EmptySHA256; a presigned request with a body is never accepted unsigned.
//
// The canonical path and header values are tried first in aws-sdk-go-v2's form and, only where they differ,
// in botocore's (path dot-segment and "//" normalization; folding of tabs in header values), and with a
// default port removed from Host; see the package comment. UnsignedPayload passed as payloadHash is taken
// literally: a presigned URL from botocore, which signs EmptySHA256, does not verify with it.
func (a *Auth) Verify(r Request, secret, payloadHash string, now time.Time, opts Options) error {
	if err := a.CheckScope(now, opts); err != nil {
		return err
	}
	var sb [len(basicISO)]byte
	stamp := appendBasicISO(sb[:0], a.Time.UTC(), false)
	if a.primarySignatureMatches(&r, secret, payloadHash, stamp) {
		return nil
	}
	return a.checkSignature(&r, secret, payloadHash, string(stamp))
}

// CheckScope makes every check of Verify except the signature itself: the credential scope and the request
// time. A server that can compute the payload hash only after reading the body calls it first, so that a
// stale or mis-scoped request is refused before its body is read; Verify repeats it.
func (a *Auth) CheckScope(now time.Time, opts Options) error {
	if a == nil {
		return errorf(MissingAuth, "%s", msgMissingAuth)
	}
	service := opts.Service
	if service == "" {
		service = "glacier"
	}
	skew := opts.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}

	if a.Service != service {
		return errorf(WrongService, "Credential should be scoped to correct service: '%s'. ", service)
	}
	if len(opts.Regions) > 0 && !slices.Contains(opts.Regions, a.Region) {
		return errorf(WrongRegion, "Credential should be scoped to a valid region, not '%s'. ", a.Region)
	}
	t := a.Time.UTC()
	var db [8]byte
	if day := appendBasicISO(db[:0], t, true); a.Date != string(day) {
		return errorf(WrongDate, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, string(day), t.Format(basicISO))
	}

	now = now.UTC()
	if t.Sub(now) > skew {
		return errorf(TimeSkewed, "Signature not yet current: %s is still later than %s (%s + %s)",
			t.Format(basicISO), now.Add(skew).Format(basicISO), now.Format(basicISO), skewText(skew))
	}
	if a.Presigned && a.Expires > 0 {
		if now.Sub(t) > a.Expires {
			return errorf(PresignExpired, "%s", msgExpired)
		}
	} else if now.Sub(t) > skew {
		return errorf(TimeSkewed, "Signature expired: %s is now earlier than %s (%s - %s)",
			t.Format(basicISO), now.Add(-skew).Format(basicISO), now.Format(basicISO), skewText(skew))
	}
	return nil
}

// checkSignature computes the signature over each accepted canonicalization of r until one matches.
func (a *Auth) checkSignature(r *Request, secret, payloadHash, stamp string) error {
	want, err := hex.DecodeString(a.Signature)
	if err != nil {
		want = nil // still computed below, so the error carries the canonical request
	}
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
	key := cachedSigningKey(secret, a.Date, a.Region, a.Service).key
	query := canonicalQuery(parseQuery(r.RawQuery), a.Presigned)
	signedLine := strings.Join(a.SignedHeaders, ";")

	var first *Error
	try := func(path, headers, payload string) bool {
		cr := strings.Join([]string{r.Method, path, query, headers, signedLine, payload}, "\n")
		sum := sha256.Sum256([]byte(cr))
		sts := Algorithm + "\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		if hmac.Equal(hmacSHA256(key, sts), want) {
			return true
		}
		if first == nil {
			first = &Error{Kind: SignatureMismatch, Message: msgMismatch, CanonicalRequest: cr, StringToSign: sts}
		}
		return false
	}

	// The common case: aws-sdk-go-v2's canonical form, which is also botocore's for normalized paths and
	// header values without tabs.
	host := requestHost(r)
	paths := []string{canonicalURI(r.RawPath)}
	headers := []string{canonicalHeaders(r, a.SignedHeaders, host, false)}
	payloads := []string{payloadHash}
	if try(paths[0], headers[0], payloads[0]) {
		return nil
	}

	// The alternatives, each only where it changes something.
	if p := canonicalURIBotocore(r.RawPath); p != paths[0] {
		paths = append(paths, p)
	}
	hosts := []string{host}
	if h := stripDefaultPort(host); h != host {
		hosts = append(hosts, h)
	}
	for _, h := range hosts {
		for _, py := range []bool{false, true} {
			if block := canonicalHeaders(r, a.SignedHeaders, h, py); !slices.Contains(headers, block) {
				headers = append(headers, block)
			}
		}
	}
	if a.Presigned && payloadHash == EmptySHA256 {
		payloads = append(payloads, UnsignedPayload)
	}
	for i, p := range paths {
		for j, h := range headers {
			for k, ph := range payloads {
				if i+j+k == 0 {
					continue // tried above
				}
				if try(p, h, ph) {
					return nil
				}
			}
		}
	}
	return first
}

// signingKey derives kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
