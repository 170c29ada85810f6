// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on incoming requests, the way the
// Glacier service does, so that requests signed by botocore (AWS CLI, boto3) and aws-sdk-go-v2 verify unchanged
// (spec: data-plane.md §2.2, operations.md §1.3 and §2).
//
// It is a pure core: standard library only, no os, net or net/http. The caller hands it the request as a
// Request, the secret it looked up for Auth.AccessKeyID, the payload hash and "now", and gets back nil or an
// *Error whose Kind the HTTP layer maps to a Glacier error.
//
// # Use
//
//	a, err := sigv4.Parse(req)              // syntax only: MissingAuth or Incomplete
//	secret := lookup(a.AccessKeyID)         // unknown key → UnrecognizedClientException (caller's business)
//	err = a.Verify(req, secret, payloadHash, now, sigv4.Options{Regions: regions})
//
// Building a Request from an *http.Request (server side):
//
//	RawPath:  the path part of r.RequestURI (up to '?') when it starts with "/", else r.URL.EscapedPath();
//	          it must be the bytes the client sent, since both SDKs sign the wire encoding.
//	RawQuery: r.URL.RawQuery, untouched.
//	Header:   r.Header. net/http removes Host, Transfer-Encoding and, for chunked bodies, Content-Length and
//	          Trailer; no SDK signs those (aws-sdk-go-v2 signs content-length only for a known length, which
//	          net/http keeps).
//	Host:     r.Host.
//	Method:   r.Method.
//
// # The payload hash
//
// The last line of the canonical request is the value of x-amz-content-sha256 when the request carries that
// header (botocore: SigV4Auth.canonical_request; aws-sdk-go-v2's Glacier client sets the header to the hash it
// signs), otherwise the hex SHA-256 of the body. The caller passes the header value when present, which lets it
// authenticate an upload before reading the body and compare the streamed body's SHA-256 with the header
// afterwards; otherwise it passes the hash of the body it received (EmptySHA256 when empty). Verify does not
// read bodies. Whether UNSIGNED-PAYLOAD is acceptable in x-amz-content-sha256 is the caller's decision (the spec
// rejects it on uploads).
//
// Presigned URLs: botocore's SigV4QueryAuth (generate_presigned_url) signs the same payload hash as header
// auth, EmptySHA256 for a GET, because only S3SigV4QueryAuth switches to UNSIGNED-PAYLOAD; aws-sdk-go-v2 has no
// Glacier presign client and its PresignHTTP signs whatever hash its caller passes, EmptySHA256 from the presign
// middleware, UNSIGNED-PAYLOAD from code written the S3 way. So the caller passes the body hash as usual and
// Verify additionally accepts UNSIGNED-PAYLOAD for a presigned request when that hash is EmptySHA256, never
// for a presigned request with a body.
//
// # Canonical request: what each SDK does, and what Verify accepts
//
// Path. For non-S3 services both SDKs URI-encode the wire path a second time: every byte outside
// A-Z a-z 0-9 - _ . ~ and '/' becomes %XX with upper-case hex, so the wire path /-/vaults/a%20b is signed as
// /-/vaults/a%2520b (aws-sdk-go-v2: httpbinding.EscapePath(URL.EscapedPath()) unless DisableURIPathEscaping,
// which the Glacier client leaves off; botocore: quote(path, safe='/~')). An empty path is "/" in both. They
// differ in one thing: botocore first normalizes the path (utils.normalize_url_path: drops "." and empty
// segments, resolves "..", keeps a trailing slash unless nothing remains), aws-sdk-go-v2 does not. Verify tries
// the unnormalized form and, only when it differs, the normalized one, so "/-/vaults/v//jobs" verifies for both
// SDKs. Trailing slashes are kept by both.
//
// Query. Pairs are split at '&' and the first '=', decoded ('+' is a space, as in Go's url.ParseQuery, which
// aws-sdk-go-v2 uses), each key and value re-encoded with the same unreserved set (space → %20), and sorted by
// encoded key then encoded value; a missing '=' gives an empty value ("flag" → "flag="). X-Amz-Signature is
// excluded for presigned requests. botocore sorts its already-encoded wire pieces instead of re-encoding; for
// what either SDK puts on the wire (both send the canonical encoding) the result is the same. Unlike Go's
// url.ParseQuery nothing is dropped: a malformed escape or a ';' is signed as literal bytes.
//
// Headers. Exactly the SignedHeaders, in the listed order, each "name:value"; several values of one header are
// joined with ','; a signed header that is absent has an empty value (aws-sdk-go-v2 can sign an empty
// x-amz-sha256-tree-hash). host is Request.Host; content-length, like every other header, comes from the header
// map. Value trimming differs slightly: aws-sdk-go-v2 trims and collapses runs of spaces only; botocore folds
// all whitespace (tabs included) into single spaces. Verify tries the first and, only when a value contains
// other whitespace, the second. Both SDKs sign host without its scheme's default port; a URL presigned by
// aws-sdk-go-v2 for "https://h:443/…" still carries ":443", which the client then sends in Host, so a host
// ending in ":80" or ":443" is also tried without it (this package does not know the scheme). Host must be
// signed (AWS: "'Host' or ':authority' must be a 'SignedHeader'"); x-amz-date need not be, since the request
// time is part of the string to sign anyway.
//
// Bytes. Header values are signed as the bytes received. Both SDKs send and hash non-ASCII values as UTF-8
// (botocore encodes header values with UTF-8 in AWSRequestPreparer), so such an archive description verifies
// here; rejecting it as a non-printable description is the HTTP layer's job (data-plane.md §2.2).
//
// # Time
//
// X-Amz-Date (header, or query when presigned) in basic ISO form YYYYMMDD'T'HHMMSS'Z' wins over Date; a Date
// header alone may be basic ISO or an HTTP date (RFC 1123 with GMT or a numeric zone, RFC 850, asctime). The
// credential scope date must equal the request's UTC date. The request time may differ from now by at most
// Options.MaxSkew (default 15 minutes, configurable: the real Glacier used 5 minutes in the messages users
// quoted) either way; the bounds are inclusive. A presigned request with X-Amz-Expires (1 to 604800 seconds)
// is valid from its X-Amz-Date until X-Amz-Date + X-Amz-Expires, still no more than MaxSkew in the future;
// without X-Amz-Expires the ordinary skew window applies.
//
// # Errors
//
// Messages use AWS's wording where it is known (quoted from real responses in public reports: "Signature
// expired: … is now earlier than … (… - 5 min.)", "Signature not yet current: … is still later than …",
// "Credential should be scoped to correct service: 'glacier'. ", the IncompleteSignatureException forms
// "Authorization header requires 'Credential' parameter. …" and "… not a valid key=value pair (missing
// equal-sign) in Authorization header: …"; S3's wording for presigned-query problems). Suggested mapping to
// Glacier codes (operations.md §2.2):
//
//	MissingAuth                                  MissingAuthenticationTokenException 400
//	Incomplete                                   IncompleteSignatureException 400 (AWS's code for these messages)
//	SignatureMismatch, TimeSkewed, PresignExpired,
//	WrongService, WrongRegion, WrongDate         InvalidSignatureException 403
//
// Signatures are compared with hmac.Equal. The alternative canonical forms are tried only after the first
// failed, each at the cost of one SHA-256 and one HMAC (at most 16 forms, on the failure path only); a request
// is accepted only if one SDK's rules, applied to what was received, reproduce the signature.
package sigv4
