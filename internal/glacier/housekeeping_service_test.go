package glacier_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestInterruptedUploadIsCleanedUp: a process that dies between writing a
// blob and committing its metadata leaves an intent; ProcessIntents
// removes the blob, and a stray blob nothing references is swept, while
// referenced blobs stay.
func TestInterruptedUploadIsCleanedUp(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	kept := e.mustArchive("v", []byte("referenced"))

	type crash struct{}
	s.AfterBlobPut = func(string) { panic(crash{}) }
	func() {
		defer func() {
			if r := recover(); r != (crash{}) {
				t.Fatalf("recovered %v", r)
			}
		}()
		s.UploadArchive(ctx, owner, ownerAccount, "v", "", body([]byte("never committed")))
	}()
	s.AfterBlobPut = nil
	// The intents: the crashed upload's, and those recorded ahead of time
	// for the next uploads' keys (the intent pool), which have no blob.
	snap := e.snapshot()
	intents := len(snap["table blob_intents"])
	if len(snap["blobs"]) != 2 || len(snap["table archives"]) != 1 || intents < 1 {
		t.Fatalf("after the crash: %d blobs, %d archives, %d intents", len(snap["blobs"]), len(snap["table archives"]), intents)
	}
	if n, err := s.ProcessIntents(ctx, time.Now().Add(time.Second)); err != nil || n != intents {
		t.Fatalf("ProcessIntents = %d, %v; want %d (every intent's key is unreferenced)", n, err, intents)
	}
	snap = e.snapshot()
	if len(snap["blobs"]) != 1 || len(snap["table blob_intents"]) != 0 {
		t.Errorf("after ProcessIntents: %v blobs, %v intents", snap["blobs"], snap["table blob_intents"])
	}

	// A stray blob without even an intent: only a sweep finds it.
	if _, err := s.Blobs.Put(ctx, glacier.NewBlobKey(), strings.NewReader("stray")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("a sweep before the grace = %d, %v; want 0", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Errorf("Sweep = %d, %v; want 1", n, err)
	}
	if blobs := e.snapshot()["blobs"]; len(blobs) != 1 {
		t.Errorf("after the sweep: %v", blobs)
	}
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: kept.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	if j, _ = s.DescribeJob(ctx, owner, ownerAccount, "v", j.ID); j.Status != glacier.JobSucceeded {
		t.Errorf("the referenced archive after housekeeping: %s %s", j.Status, j.StatusMessage)
	}
}

func TestSpaceUsage(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	e.mustArchive("v", payload(1000))
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "v", u.ID, 0, body(payload(300))); err != nil {
		t.Fatal(err)
	}
	su, err := s.SpaceUsage(ctx)
	if err != nil || su.LiveArchives != 1000 || su.InFlightUploads != 300 {
		t.Errorf("SpaceUsage = %+v, %v; want 1000 live and 300 in flight", su, err)
	}
	e.clock.Advance(25 * time.Hour) // beyond the idle timeout, not yet expired
	if su, _ := s.SpaceUsage(ctx); su.InFlightUploads != 0 || su.ExpiredUnpurged != 300 {
		t.Errorf("SpaceUsage of an idle upload = %+v; want 300 expired", su)
	}
}

// retainingBlobs is a blob store with Object Lock: it records retention
// dates and refuses to delete a blob before its date on the service
// clock.
type retainingBlobs struct {
	glacier.BlobStore
	clock interface{ Now() time.Time }
	mu    sync.Mutex
	until map[string]time.Time
	fail  bool
}

func (r *retainingBlobs) ObjectLock() (bool, string) { return true, "COMPLIANCE" }

func (r *retainingBlobs) Retain(ctx context.Context, key string, until time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("bucket unreachable")
	}
	if until.After(r.until[key]) {
		r.until[key] = until
	}
	return nil
}

func (r *retainingBlobs) Delete(ctx context.Context, key string) error {
	r.mu.Lock()
	u := r.until[key]
	r.mu.Unlock()
	if r.clock.Now().Before(u) {
		return errors.New("object is under retention")
	}
	return r.BlobStore.Delete(ctx, key)
}

func (r *retainingBlobs) retained() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]time.Time{}
	for k, v := range r.until {
		m[k] = v
	}
	return m
}

// TestRetentionFollowsTheLock: on a blob store with Object Lock, locking a
// vault with a 365-day floor retains the archives it holds; archives
// stored afterwards are retained before they are acknowledged, and an
// upload whose retention cannot be set is refused.
func TestRetentionFollowsTheLock(t *testing.T) {
	ctx := context.Background()
	var rb *retainingBlobs
	e := newService(t, func(s *glacier.Service) {
		rb = &retainingBlobs{BlobStore: s.Blobs, clock: s.Clock, until: map[string]time.Time{}}
		s.Blobs = rb
	})
	s := e.svc
	e.mustVault("v")
	old := e.mustArchive("v", []byte("held when locked"))
	if len(rb.retained()) != 0 {
		t.Fatalf("retention before any lock: %v", rb.retained())
	}
	id, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", strings.Replace(lockPolicy, "%s", s.VaultARN(ownerAccount, "v"), 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteVaultLock(ctx, owner, ownerAccount, "v", id); err != nil {
		t.Fatal(err)
	}
	// The applier runs in the background; wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := s.RetentionStatus(ctx, ownerAccount, "v")
		if err != nil {
			t.Fatal(err)
		}
		if p != nil && p.Finished {
			if p.Archives != 1 || p.Done != 1 || p.FloorDays != 365 {
				t.Errorf("progress %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention not applied: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.ResumeRetention(ctx); err != nil {
		t.Errorf("ResumeRetention with nothing left: %v", err)
	}
	want := old.CreatedAt.Truncate(time.Millisecond).Add(365 * 24 * time.Hour) // stored in milliseconds
	if got := rb.retained(); len(got) != 1 || !firstTime(got).Equal(want) {
		t.Errorf("retention of the held archive: %v; want until %v", got, want)
	}

	// New archives are retained before the answer: single and multipart.
	e.mustArchive("v", []byte("stored later"))
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "")
	if err != nil {
		t.Fatal(err)
	}
	part := payload(10)
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "v", u.ID, 0, body(part)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, 10, body(part).TreeHash); err != nil {
		t.Fatal(err)
	}
	if n := len(rb.retained()); n != 3 {
		t.Errorf("%d blobs retained, want 3", n)
	}

	rb.fail = true
	e.refusesUpload("an upload whose retention fails", glacier.KindUnavailable, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", body([]byte("unprotected")))
		return err
	}, "setting the archive's retention failed; try again")
}

func firstTime(m map[string]time.Time) time.Time {
	for _, v := range m {
		return v
	}
	return time.Time{}
}
