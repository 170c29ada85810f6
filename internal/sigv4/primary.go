package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"hash"
	"sync"
)

// verifier is the scratch state of one check of the primary form: the
// canonical request and then the string to sign are written into buf and
// hashed from there, the HMAC runs on a reused SHA-256 state with the
// cached pads of the signing key. Pooled: a metadata request makes no
// allocation here.
type verifier struct {
	buf   []byte
	h     hash.Hash
	inner [sha256.Size]byte
	mac   [sha256.Size]byte
	want  [sha256.Size]byte
}

var verifiers = sync.Pool{New: func() any { return &verifier{buf: make([]byte, 0, 1024), h: sha256.New()} }}

// maxPooledBuf bounds the buffer a verifier keeps between uses.
const maxPooledBuf = 16 << 10

// primarySignatureMatches reports whether a.Signature is the signature of
// r in aws-sdk-go-v2's canonical form with payloadHash: the first form
// checkSignature tries, computed byte for byte the same way
// (appendCanonicalRequest; TestPrimaryFormMatchesCanonicalRequest) but
// without building strings. False only means "not this form":
// checkSignature then tries every accepted form and builds the error.
func (a *Auth) primarySignatureMatches(r *Request, secret, payloadHash string, stamp []byte) bool {
	if len(a.Signature) != 2*sha256.Size {
		return false
	}
	v := verifiers.Get().(*verifier)
	ok := v.check(a, r, secret, payloadHash, stamp)
	if cap(v.buf) <= maxPooledBuf {
		verifiers.Put(v)
	}
	return ok
}

func (v *verifier) check(a *Auth, r *Request, secret, payloadHash string, stamp []byte) bool {
	for i := range v.want {
		hi, ok1 := unhex(a.Signature[2*i])
		lo, ok2 := unhex(a.Signature[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		v.want[i] = hi<<4 | lo
	}
	b := appendCanonicalRequest(v.buf[:0], r, a, payloadHash)
	crSum := sha256.Sum256(b)
	b = appendStringToSign(b[:0], stamp, a, crSum[:])
	key := cachedSigningKey(secret, a.Date, a.Region, a.Service)
	v.buf = b
	return hmac.Equal(v.hmac(key, b), v.want[:])
}

// hmac is HMAC-SHA256(key, msg) on v's hash: from the states after the
// pads when the key has them, else hashing the pads.
func (v *verifier) hmac(key *signingKeyEntry, msg []byte) []byte {
	h := v.h
	u, ok := h.(encoding.BinaryUnmarshaler)
	if !ok || key.inner == nil || u.UnmarshalBinary(key.inner) != nil {
		h.Reset()
		h.Write(key.ipad[:])
	}
	h.Write(msg)
	inner := h.Sum(v.inner[:0])
	if !ok || key.outer == nil || u.UnmarshalBinary(key.outer) != nil {
		h.Reset()
		h.Write(key.opad[:])
	}
	h.Write(inner)
	return h.Sum(v.mac[:0])
}

// appendCanonicalRequest appends the canonical request in aws-sdk-go-v2's
// form: method, canonicalURI, canonicalQuery, canonicalHeaders (botocore
// false, requestHost), the signed-header list and payloadHash, one per
// line.
func appendCanonicalRequest(b []byte, r *Request, a *Auth, payloadHash string) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, r.RawPath)
	b = append(b, '\n')
	if r.RawQuery != "" {
		b = append(b, canonicalQuery(parseQuery(r.RawQuery), a.Presigned)...)
	}
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, r, a.SignedHeaders, requestHost(r))
	b = append(b, '\n')
	for i, n := range a.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, n...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// appendStringToSign appends the string to sign for a canonical request
// whose SHA-256 is crSum.
func appendStringToSign(b, stamp []byte, a *Auth, crSum []byte) []byte {
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = append(b, stamp...)
	b = append(b, '\n')
	b = appendScope(b, a)
	b = append(b, '\n')
	return hex.AppendEncode(b, crSum)
}

// appendScope appends the credential scope date/region/service/aws4_request.
func appendScope(b []byte, a *Auth) []byte {
	b = append(b, a.Date...)
	b = append(b, '/')
	b = append(b, a.Region...)
	b = append(b, '/')
	b = append(b, a.Service...)
	return append(b, "/aws4_request"...)
}
