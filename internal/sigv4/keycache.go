package sigv4

import "sync"

// Derived signing keys are kept per (secret, date, region, service): a
// client signs every request of a day with the same key, and deriving it
// costs four HMACs. The cache is bounded by clearing it when full; a
// deleted access key's secret can no longer be presented (the caller looks
// the key up first), so a stale entry only costs memory until it is
// cleared.
var keyCache struct {
	mu sync.RWMutex
	m  map[keyCacheKey][]byte
}

type keyCacheKey struct{ secret, date, region, service string }

const keyCacheSize = 1024

// cachedSigningKey is signingKey through the cache. The returned slice is
// shared: callers must not modify it.
func cachedSigningKey(secret, date, region, service string) []byte {
	k := keyCacheKey{secret, date, region, service}
	keyCache.mu.RLock()
	v, ok := keyCache.m[k]
	keyCache.mu.RUnlock()
	if ok {
		return v
	}
	v = signingKey(secret, date, region, service)
	keyCache.mu.Lock()
	if keyCache.m == nil || len(keyCache.m) >= keyCacheSize {
		keyCache.m = make(map[keyCacheKey][]byte)
	}
	keyCache.m[k] = v
	keyCache.mu.Unlock()
	return v
}
