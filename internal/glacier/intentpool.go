package glacier

import (
	"context"
	"sync"
	"time"
)

// BlobIntentBatcher records many blob intents in one commit (part of
// IntentStore). With it, the service records the intents of the next
// uploads' blob keys ahead of time, in batches (intentPool), so that an
// upload does not wait for a commit of its own before its blob may exist.
type BlobIntentBatcher interface {
	// AddBlobIntents records every key at time at (keeping an existing,
	// older record), in one transaction: when it returns nil, all are
	// durable; when it fails, none may be assumed recorded.
	AddBlobIntents(ctx context.Context, keys []string, at time.Time) error
}

const (
	// intentPoolSize is how many keys one batch records.
	intentPoolSize = 64
	// intentPoolMaxAge is how long a recorded key may wait in the pool.
	// Far below what housekeeping leaves alone: a server that owns its
	// stores examines only intents older than its own start, and shared
	// stores are examined only past SweepGrace (MaxUploadDuration + 1 h),
	// so an intent taken from the pool is younger than any pass could
	// examine while its upload runs (putBlob refuses uploads longer than
	// MaxUploadDuration).
	intentPoolMaxAge = time.Minute
)

// intentPool holds fresh blob keys whose intents are already durable. A
// key is handed out once. Keys never handed out (the pool ages out, the
// process stops) are intents without blobs: housekeeping forgets them
// like the intent of an upload that failed before its blob was written.
type intentPool struct {
	mu      sync.Mutex
	keys    []pooledKey
	filling bool
	filled  chan struct{} // closed when the running fill ends
}

type pooledKey struct {
	key string
	at  time.Time
}

// recordedBlobKey returns a fresh blob key whose intent is durable, or ""
// when the store keeps no intents or a batch failed (the caller then
// records its own, as before).
func (s *Service) recordedBlobKey(ctx context.Context) string {
	b := s.Intents
	if b == nil {
		return ""
	}
	p := &s.intentPool
	for try := 0; try < 2; try++ {
		p.mu.Lock()
		for len(p.keys) > 0 {
			k := p.keys[len(p.keys)-1]
			p.keys = p.keys[:len(p.keys)-1]
			if time.Since(k.at) >= intentPoolMaxAge {
				continue // too old to hand out; housekeeping forgets it
			}
			if len(p.keys) < intentPoolSize/2 && !p.filling {
				p.fillLocked(s, b) // the next batch commits while this one is used
			}
			p.mu.Unlock()
			return k.key
		}
		if !p.filling {
			p.fillLocked(s, b)
		}
		ch := p.filled
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ""
		}
	}
	return ""
}

// fillLocked records a batch of new keys in the background; p.mu is held.
func (p *intentPool) fillLocked(s *Service, b BlobIntentBatcher) {
	p.filling = true
	p.filled = make(chan struct{})
	go func() {
		keys := make([]string, intentPoolSize)
		for i := range keys {
			keys[i] = newBlobKey()
		}
		at := time.Now() // the intents' own clock (recordIntent)
		err := b.AddBlobIntents(context.Background(), keys, at)
		if err != nil {
			s.logger().Warn("recording blob intents ahead failed; uploads record their own", "err", err)
		}
		p.mu.Lock()
		if err == nil {
			fresh := make([]pooledKey, 0, len(keys)+len(p.keys))
			for _, k := range keys {
				fresh = append(fresh, pooledKey{k, at})
			}
			p.keys = append(fresh, p.keys...) // older keys are handed out first
		}
		p.filling = false
		close(p.filled)
		p.mu.Unlock()
	}()
}
