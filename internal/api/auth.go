package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/sigv4"
)

// apiVersion is the only x-amz-glacier-version this server speaks.
const apiVersion = "2012-06-01"

// authenticate checks the API version header and the SigV4 signature and
// returns the caller (operations.md §2.4 steps 2–3).
//
// Nothing is learnt and nothing is held before the signature verifies: the
// only lookup made for an unverified request is its access key, and the
// answer to a forged, stale or mis-scoped request never depends on whether
// a vault, upload, job, user or permission exists.
//
// The payload hash that the signature covers is, as in AWS, the
// x-amz-content-sha256 header when present, else the SHA-256 of the body.
// For archive and part uploads the declared hash is trusted for the
// signature check and the body is verified against it while it streams
// into storage; without the header (aws-sdk-go-v2 omits it when the caller
// supplies the tree hash) the signature itself is checked at the end of the
// stream with the computed hash, and the service makes its lookups and the
// authorization decision only after that (glacier.Body.Deferred). Either
// way the bytes are read and hashed once, and nothing is stored unless both
// match. Other bodies are small JSON documents: they are read here, under a
// deadline and a server-wide buffer bound (readSmallBody), hashed and
// checked; for them UNSIGNED-PAYLOAD is refused.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, o op) (*call, error) {
	start := time.Now()
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
	c := &call{}
	auth := &c.auth
	if err := sigv4.ParseInto(auth, req); err != nil {
		return nil, err
	}
	key, err := s.Keys.GetAccessKey(r.Context(), auth.AccessKeyID)
	if glacier.IsNotFound(err) {
		return nil, errUnrecognizedClient()
	}
	if err != nil {
		return nil, err
	}
	// Signatures are judged against real time, never the test clock:
	// clients sign with their own wall clock, and a test that moved the
	// server's clock ahead must still be able to talk to it. The time is
	// the request's arrival, also for a signature checked only after a
	// long body.
	opts := sigv4.Options{
		Service: "glacier",
		Regions: []string{s.Region},
		MaxSkew: s.MaxSkew,
	}
	// Scope and time first: a stale or mis-scoped request is refused
	// before any of its body is read.
	if err := auth.CheckScope(start, opts); err != nil {
		return nil, err
	}
	declared := headerValue(r.Header, "X-Amz-Content-Sha256")
	switch {
	case o.streams && declared == "":
		// The payload hash is the body's SHA-256, known only once the body
		// has streamed through; the check runs then, before anything is
		// stored or looked up (see uploadBody).
		c.verifyPayload = deferredVerify(auth, req, key.Secret, start, opts)
	case o.streams:
		if _, err := parseHash(declared, "x-amz-content-sha256"); err != nil {
			return nil, err
		}
		if err := auth.Verify(req, key.Secret, declared, start, opts); err != nil {
			return nil, err
		}
	default:
		if strings.EqualFold(declared, sigv4.UnsignedPayload) {
			return nil, errUnsignedPayload(o.name)
		}
		payloadHash, err := s.payloadHash(w, r, declared, start)
		if err != nil {
			return nil, err
		}
		if err := auth.Verify(req, key.Secret, payloadHash, start, opts); err != nil {
			return nil, err
		}
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c.callerValue = glacier.Caller{
		Principal:       keyPrincipal(key),
		SourceIP:        host,
		SecureTransport: r.TLS != nil,
		UserAgent:       headerValue(r.Header, "User-Agent"),
		Referer:         headerValue(r.Header, "Referer"),
		Region:          auth.Region,
	}
	c.caller = &c.callerValue
	return c, nil
}

// lastPrincipal is the principal keyPrincipal made last: a pure function
// of the key's account, id and user name, reused while they are the same
// (most requests come from the same key as the one before).
var lastPrincipal atomic.Pointer[principalOf]

type principalOf struct {
	account, id, user string
	p                 glacier.Principal
}

// keyPrincipal is glacier.KeyPrincipal(k), without building the ARN again
// for the key of the previous request.
func keyPrincipal(k glacier.AccessKey) glacier.Principal {
	if l := lastPrincipal.Load(); l != nil && l.account == k.AccountID && l.id == k.ID && l.user == k.UserName {
		return l.p
	}
	p := glacier.KeyPrincipal(k)
	lastPrincipal.Store(&principalOf{account: k.AccountID, id: k.ID, user: k.UserName, p: p})
	return p
}

// deferredVerify is the signature check of an upload whose payload hash is
// known only at the end of its body. (A function of its own so that the
// closure's copies, not authenticate's variables, are what escape.)
func deferredVerify(auth *sigv4.Auth, req sigv4.Request, secret string, start time.Time, opts sigv4.Options) func(string) error {
	return func(payloadHash string) error {
		return auth.Verify(req, secret, payloadHash, start, opts)
	}
}

// headerValue is h.Get(key) for a key already in canonical form (no
// canonicalization, no allocation).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// securityToken reports whether the request carries X-Amz-Security-Token,
// as a header or (presigned) in the query. This server issues no temporary
// credentials, so every such request is refused before anything else.
func securityToken(r *http.Request) bool {
	if _, ok := r.Header["X-Amz-Security-Token"]; ok {
		return true
	}
	if r.URL.RawQuery == "" {
		return false
	}
	for k := range r.URL.Query() {
		if strings.EqualFold(k, "X-Amz-Security-Token") {
			return true
		}
	}
	return false
}

// glacierVersion reads x-amz-glacier-version from the header or, in a
// presigned URL (where SDK presigners hoist x-amz-* headers into the
// query), from the query string.
func glacierVersion(r *http.Request) string {
	if v := headerValue(r.Header, "X-Amz-Glacier-Version"); v != "" {
		return v
	}
	if r.URL.RawQuery == "" {
		return ""
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
	if r.URL.RawQuery == "" {
		return false
	}
	for k := range r.URL.Query() {
		if strings.EqualFold(k, "X-Amz-Signature") {
			return true
		}
	}
	return false
}

// payloadHash reads a small body and returns the hash the canonical
// request must carry.
func (s *Server) payloadHash(w http.ResponseWriter, r *http.Request, declared string, start time.Time) (string, error) {
	body, err := s.readSmallBody(w, r, start)
	if err != nil {
		return "", err
	}
	var actual string
	if len(body) == 0 {
		// A GET or DELETE: nothing to hash or keep.
		r.Body = http.NoBody
		actual = sigv4.EmptySHA256
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		actual = hex.EncodeToString(sum[:])
	}
	if declared != "" && !strings.EqualFold(declared, actual) {
		return "", errPayloadHashMismatch(declared, actual)
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
