package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/sigv4"
)

// apiVersion is the only x-amz-glacier-version this server speaks.
const apiVersion = "2012-06-01"

// authenticate checks the API version header and the SigV4 signature and
// returns the caller (operations.md §2.4 steps 2–3).
//
// The payload hash that the signature covers is, as in AWS, the
// x-amz-content-sha256 header when present, else the SHA-256 of the body.
// For archive and part uploads the declared hash is trusted for the
// signature check and the body is verified against it while it streams
// into storage; without the header (aws-sdk-go-v2 omits it when the caller
// supplies the tree hash) the signature itself is checked at the end of the
// stream with the computed hash. Either way the bytes are read and hashed
// once, and nothing is stored unless both match. Other bodies are small
// JSON documents: they are read here, hashed and checked.
func (s *Server) authenticate(r *http.Request, o op) (*call, error) {
	req := sigv4Request(r)
	v := glacierVersion(r)
	if v == "" && !presigned(r) {
		return nil, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: API version")
	}
	// botocore's presigned URLs carry no version at all; the URL is signed
	// as it is, so the version is implied.
	if v != "" && v != apiVersion {
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "Invalid API version: %s. The supported version is %s", v, apiVersion)
	}
	auth, err := sigv4.Parse(req)
	if err != nil {
		return nil, err
	}
	key, err := s.Keys.GetAccessKey(r.Context(), auth.AccessKeyID)
	if glacier.IsNotFound(err) {
		return nil, errUnrecognizedClient()
	}
	if err != nil {
		return nil, err
	}
	verify := func(payloadHash string) error {
		// Signatures are judged against real time, never the test clock:
		// clients sign with their own wall clock, and a test that moved
		// the server's clock ahead must still be able to talk to it.
		return auth.Verify(req, key.Secret, payloadHash, time.Now(), sigv4.Options{
			Service: "glacier",
			Regions: []string{s.Region},
			MaxSkew: s.MaxSkew,
		})
	}
	c := &call{}
	if o.streams && r.Header.Get("x-amz-content-sha256") == "" {
		// The payload hash is the body's SHA-256, known only once the body
		// has streamed through; the check runs then, before anything is
		// stored (see uploadBody).
		c.verifyPayload = verify
	} else {
		payloadHash, err := s.payloadHash(r, o, auth)
		if err != nil {
			return nil, err
		}
		if err := verify(payloadHash); err != nil {
			return nil, err
		}
	}
	p := glacier.RootPrincipal(key.AccountID, key.ID)
	if key.UserName != "" {
		p.Type = glacier.PrincipalUser
		p.UserName = key.UserName
		p.ARN = "arn:aws:iam::" + key.AccountID + ":user/" + key.UserName
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c.caller = &glacier.Caller{
		Principal:       p,
		SourceIP:        host,
		SecureTransport: r.TLS != nil,
		UserAgent:       r.UserAgent(),
		Referer:         r.Referer(),
		Region:          auth.Region,
	}
	return c, nil
}

// glacierVersion reads x-amz-glacier-version from the header or, in a
// presigned URL (where SDK presigners hoist x-amz-* headers into the
// query), from the query string.
func glacierVersion(r *http.Request) string {
	if v := r.Header.Get("x-amz-glacier-version"); v != "" {
		return v
	}
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, "x-amz-glacier-version") && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// presigned reports whether the request carries a query signature.
func presigned(r *http.Request) bool {
	for k := range r.URL.Query() {
		if strings.EqualFold(k, "X-Amz-Signature") {
			return true
		}
	}
	return false
}

// payloadHash returns the hash the canonical request must carry.
func (s *Server) payloadHash(r *http.Request, o op, auth *sigv4.Auth) (string, error) {
	declared := r.Header.Get("x-amz-content-sha256")
	if o.streams {
		if _, err := parseHash(declared, "x-amz-content-sha256"); err != nil {
			return "", err
		}
		return declared, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return "", glacier.Wrap(glacier.KindRequestTimeout, err, "The request body was not received in full")
	}
	if len(body) > maxJSONBody {
		return "", glacier.Errorf(glacier.KindInvalidParameter, "The request body is larger than %d bytes", maxJSONBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	if declared != "" && declared != sigv4.UnsignedPayload && !strings.EqualFold(declared, actual) {
		return "", glacier.Errorf(glacier.KindPayloadHashMismatch, "The x-amz-content-sha256 header %s does not match the SHA-256 of the request body, %s", declared, actual)
	}
	if declared != "" {
		return declared, nil
	}
	return actual, nil
}

// sigv4Request extracts what SigV4 covers, with the path exactly as it
// came over the wire.
func sigv4Request(r *http.Request) sigv4.Request {
	rawPath := r.RequestURI
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		rawPath = rawPath[:i]
	}
	if rawPath == "" || rawPath[0] != '/' {
		rawPath = r.URL.EscapedPath()
	}
	return sigv4.Request{
		Method:   r.Method,
		RawPath:  rawPath,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header,
		Host:     r.Host,
	}
}
