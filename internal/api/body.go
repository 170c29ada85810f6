package api

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Defaults of the bounds on bytes held before a signature is verified.
const (
	// DefaultMaxUnverifiedUploadBytes bounds, server-wide, the bytes of
	// deferred-signature upload bodies (uploads sent without
	// x-amz-content-sha256, whose signature can only be checked at the end
	// of the body) in flight at once: the largest single request, so that
	// any legal upload can go when it is alone.
	DefaultMaxUnverifiedUploadBytes = glacier.MaxArchiveSize
	// defaultSmallBodyBuffer bounds, server-wide, the bytes of small
	// (non-archive) request bodies buffered at once to check their
	// signature: room for a hundred ordinary JSON bodies, or two of the
	// largest allowed.
	defaultSmallBodyBuffer = 2 * maxJSONBody
)

// byteBudget is a server-wide bound on bytes held at once.
type byteBudget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	changed chan struct{} // closed and replaced on every release
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, changed: make(chan struct{})}
}

// tryAcquire reserves n bytes if they are free now.
func (b *byteBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// acquire waits until n bytes are free, ctx ends or deadline passes.
func (b *byteBudget) acquire(ctx context.Context, n int64, deadline time.Time) bool {
	if n > b.limit {
		return false
	}
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return true
		}
		changed := b.changed
		b.mu.Unlock()
		if timer == nil {
			d := time.Until(deadline)
			if d <= 0 {
				return false
			}
			timer = time.NewTimer(d)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-timer.C:
			return false
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// inUse returns the bytes currently reserved.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

func (s *Server) budgets() (unverified, small *byteBudget) {
	s.budgetOnce.Do(func() {
		limit := s.MaxUnverifiedUploadBytes
		if limit <= 0 {
			limit = DefaultMaxUnverifiedUploadBytes
		}
		s.unverified = newByteBudget(limit)
		s.smallBodies = newByteBudget(defaultSmallBodyBuffer)
	})
	return s.unverified, s.smallBodies
}

// reserveUnverified reserves room for a deferred-signature upload body of
// size bytes, or refuses the upload with a retriable error when the
// server already holds as many unverified bytes as it allows. The returned
// release may be called more than once.
func (s *Server) reserveUnverified(size int64) (release func(), err error) {
	u, _ := s.budgets()
	if size > u.limit {
		return nil, glacier.Errorf(glacier.KindUnavailable, "This upload of %d bytes has no x-amz-content-sha256 header, so its signature can only be checked after its body; this server holds at most %d such bytes at once. Send x-amz-content-sha256 with the upload's SHA-256.", size, u.limit)
	}
	if !u.tryAcquire(size) {
		return nil, glacier.Errorf(glacier.KindUnavailable, "Too many bytes of uploads whose signature is not yet verified are in flight; retry later, or send x-amz-content-sha256 so the signature is checked before the body.")
	}
	var once sync.Once
	return func() { once.Do(func() { u.release(size) }) }, nil
}

// readSmallBody reads the body of a request that is not an archive or
// part upload, for its signature check. The body must arrive whole within
// the body idle timeout of the request's start (waiting for buffer room
// included), be no longer than maxJSONBody, and is buffered only within a
// server-wide bound; otherwise the request fails and its connection is
// closed, so a stalled or oversized body holds neither memory nor a
// connection.
func (s *Server) readSmallBody(w http.ResponseWriter, r *http.Request, start time.Time) ([]byte, error) {
	if r.ContentLength == 0 {
		return nil, nil
	}
	if r.ContentLength > maxJSONBody {
		closeConn(w)
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "The request body is larger than %d bytes", maxJSONBody)
	}
	n := r.ContentLength
	if n < 0 {
		n = maxJSONBody + 1 // chunked: reserve the most it may bring
	}
	_, small := s.budgets()
	end := start.Add(s.bodyIdle())
	if !small.acquire(r.Context(), n, end) {
		closeConn(w)
		return nil, glacier.Errorf(glacier.KindRequestTimeout, "The request body could not be received in time: the server is busy receiving other request bodies. Please retry.")
	}
	defer small.release(n)
	rc := http.NewResponseController(w)
	br := &bodyReader{body: r.Body, rc: rc, idle: s.bodyIdle(), end: end}
	var body []byte
	var err error
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(br, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(br, n))
		if err == nil && int64(len(body)) > maxJSONBody {
			closeConn(w)
			return nil, glacier.Errorf(glacier.KindInvalidParameter, "The request body is larger than %d bytes", maxJSONBody)
		}
	}
	if err != nil {
		closeConn(w)
		return nil, glacier.Wrap(glacier.KindRequestTimeout, err, "The request body was not received in full before the connection ended or stalled")
	}
	rc.SetReadDeadline(time.Time{})
	return body, nil
}

// closeConn makes the server close the connection after the answer
// instead of reading the rest of a body nobody wants: at once, even if the
// client is still sending or stalls.
func closeConn(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}
