package sigv4

import (
	"crypto/sha256"
	"encoding"
	"sync"
	"sync/atomic"
)

// Derived signing keys are kept per (secret, date, region, service): a
// client signs every request of a day with the same key, and deriving it
// costs four HMACs. The cache is bounded by clearing it when full; a
// deleted access key's secret can no longer be presented (the caller looks
// the key up first), so a stale entry only costs memory until it is
// cleared.
var keyCache struct {
	mu sync.RWMutex
	m  map[keyCacheKey]*signingKeyEntry
}

type keyCacheKey struct{ secret, date, region, service string }

// signingKeyEntry is a derived key with its HMAC pads: the key XOR 0x36
// and XOR 0x5c, zero-padded to SHA-256's block, the first block of HMAC's
// inner and outer hash (RFC 2104).
type signingKeyEntry struct {
	of         keyCacheKey
	key        []byte
	ipad, opad [sha256Block]byte
	// inner and outer are SHA-256 states (encoding.BinaryMarshaler) after
	// the ipad and the opad block: restoring one skips hashing the pad.
	// Nil if the hash cannot marshal its state.
	inner, outer []byte
}

const (
	keyCacheSize = 1024
	sha256Block  = 64
)

// lastSigningKey is the entry used last: most requests reuse it, and
// comparing four short strings costs less than hashing them.
var lastSigningKey atomic.Pointer[signingKeyEntry]

func newSigningKeyEntry(key []byte) *signingKeyEntry {
	e := &signingKeyEntry{key: key}
	copy(e.ipad[:], key) // a derived key is 32 bytes, shorter than a block
	copy(e.opad[:], key)
	for i := range e.ipad {
		e.ipad[i] ^= 0x36
		e.opad[i] ^= 0x5c
	}
	h := sha256.New()
	if m, ok := h.(encoding.BinaryMarshaler); ok {
		h.Write(e.ipad[:])
		inner, err1 := m.MarshalBinary()
		h.Reset()
		h.Write(e.opad[:])
		outer, err2 := m.MarshalBinary()
		if err1 == nil && err2 == nil {
			e.inner, e.outer = inner, outer
		}
	}
	return e
}

// cachedSigningKey is signingKey through the cache. The returned entry is
// shared: callers must not modify it.
func cachedSigningKey(secret, date, region, service string) *signingKeyEntry {
	k := keyCacheKey{secret, date, region, service}
	if e := lastSigningKey.Load(); e != nil && e.of == k {
		return e
	}
	keyCache.mu.RLock()
	v, ok := keyCache.m[k]
	keyCache.mu.RUnlock()
	if ok {
		lastSigningKey.Store(v)
		return v
	}
	v = newSigningKeyEntry(signingKey(secret, date, region, service))
	v.of = k
	keyCache.mu.Lock()
	if keyCache.m == nil || len(keyCache.m) >= keyCacheSize {
		keyCache.m = make(map[keyCacheKey]*signingKeyEntry)
	}
	keyCache.m[k] = v
	keyCache.mu.Unlock()
	lastSigningKey.Store(v)
	return v
}
