package glacier

import (
	"context"
	"io"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// Body is an upload body together with what the client claims about it:
// its length (Content-Length) and its tree hash (x-amz-sha256-tree-hash).
type Body struct {
	R        io.Reader
	Size     int64
	TreeHash treehash.Hash
	// CheckLinear, if set, is called with the body's linear SHA-256 once
	// all of it has been read and before anything is stored; an error
	// refuses the upload. The wire layer checks the signed payload hash
	// with it, so the bytes are hashed once for both purposes.
	CheckLinear func(treehash.Hash) error
	// Deferred marks a body whose request signature is checked only by
	// CheckLinear, at the end of the stream: until then the request is
	// unauthenticated, so the service stores the bytes first and makes its
	// lookups and authorization decision only after they verified,
	// removing them at once if anything fails. The answer to a forged
	// request therefore never depends on what exists.
	Deferred bool
}

// verifier reads a Body once, hashing as the bytes pass, and turns the end
// of the stream into an error when the bytes are not what was claimed. A
// blob store copying from it therefore fails, and discards the bytes,
// whenever the upload is wrong: nothing unverified is ever stored.
type verifier struct {
	body Body
	h    *treehash.Hasher
	n    int64
	err  error // sticky: io.EOF after a verified end, or the failure
}

func newVerifier(b Body) *verifier {
	return &verifier{body: b, h: treehash.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if rem := v.body.Size - v.n; int64(len(p)) > rem+1 {
		// Read at most one byte past the declared size: enough to notice
		// an overlong body without hashing it.
		p = p[:rem+1]
	}
	n, err := v.body.R.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.n > v.body.Size {
			v.err = Errorf(KindInvalidParameter, "The request body is longer than its Content-Length of %d bytes", v.body.Size)
			return 0, v.err
		}
		v.h.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		v.err = v.finish()
	case err != nil:
		v.err = &Error{Kind: KindRequestTimeout, Message: "The request body was not received in full before the connection ended or stalled", Err: err}
	}
	if v.err != nil {
		if v.err == io.EOF {
			return n, io.EOF
		}
		return 0, v.err
	}
	return n, nil
}

// finish checks the received bytes against the claims once the stream ends.
func (v *verifier) finish() error {
	if v.n != v.body.Size {
		return Errorf(KindRequestTimeout, "The request body ended after %d of its %d bytes", v.n, v.body.Size)
	}
	if v.body.CheckLinear != nil {
		if err := v.body.CheckLinear(v.h.Linear()); err != nil {
			return err
		}
	}
	if got := v.h.TreeHash(); got != v.body.TreeHash {
		return Errorf(KindInvalidParameter, "Checksum mismatch: expected %s, computed %s", v.body.TreeHash, got)
	}
	return io.EOF
}

// storeBody streams b into a new blob and returns its key and the hasher
// holding the verified hashes. On any failure nothing is stored.
func (s *Service) storeBody(ctx context.Context, b Body) (string, *treehash.Hasher, error) {
	v := newVerifier(b)
	key := s.recordedBlobKey(ctx) // its intent already durable (intentpool.go)
	recorded := key != ""
	if !recorded {
		key = newBlobKey()
	}
	if _, err := s.putBlobAs(ctx, key, v, recorded); err != nil {
		return "", nil, err
	}
	if v.err != io.EOF {
		// The store returned before the end of the stream without an
		// error; never acknowledge bytes that were not verified.
		s.deleteBlobs(ctx, []string{key})
		return "", nil, Errorf(KindInternal, "blob store returned before the end of the body")
	}
	return key, v.h, nil
}

// putBlob is the one way the service writes a blob that it will then
// commit: a Put that took longer than MaxUploadDuration from its first
// byte is undone and refused, because a sweep may already take the blob
// for abandoned (see SweepGrace). The commit must follow at once. An
// intent for the key is made durable before the blob can be, so a crash
// before the commit leaves a record for housekeeping (ProcessIntents)
// instead of a blob only a full listing would find. The intent's commit
// runs while the bytes are read and written: a store makes nothing
// visible under key before it has read r to its end (BlobStore.Put: a read
// error leaves nothing), and the end of r waits for the intent.
func (s *Service) putBlob(ctx context.Context, key string, r io.Reader) (int64, error) {
	return s.putBlobAs(ctx, key, r, false)
}

// putBlobAs is putBlob; recorded says the key's intent is already durable
// (a key from the intent pool).
func (s *Service) putBlobAs(ctx context.Context, key string, r io.Reader, recorded bool) (int64, error) {
	start := time.Now()
	var intent *afterIntent
	if !recorded && s.Intents != nil {
		done := make(chan error, 1)
		go func() { done <- s.recordIntent(ctx, key) }()
		intent = &afterIntent{r: r, done: done}
		r = intent
	}
	n, err := s.Blobs.Put(ctx, key, r)
	if err != nil {
		return n, err
	}
	if intent != nil {
		if err := intent.wait(); err != nil { // a store that stopped reading before the end
			s.deleteBlobs(ctx, []string{key})
			return n, err
		}
	}
	if s.AfterBlobPut != nil {
		s.AfterBlobPut(key)
	}
	if time.Since(start) > MaxUploadDuration {
		s.deleteBlobs(ctx, []string{key})
		return n, Errorf(KindRequestTimeout, "The upload took longer than %v from its first byte; send it again", MaxUploadDuration)
	}
	return n, nil
}

// afterIntent reads r and holds back its end until the blob's intent is
// durable; an intent that failed ends r with that error instead.
type afterIntent struct {
	r      io.Reader
	done   <-chan error
	waited bool
	err    error
}

func (a *afterIntent) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err == io.EOF {
		if ierr := a.wait(); ierr != nil {
			return n, ierr
		}
	}
	return n, err
}

// wait returns the intent's outcome, waiting for it the first time.
func (a *afterIntent) wait() error {
	if !a.waited {
		a.err, a.waited = <-a.done, true
	}
	return a.err
}
