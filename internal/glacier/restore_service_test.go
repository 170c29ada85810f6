package glacier_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// archivalBlobs is a blob store of an archive storage class: a blob is
// readable only once a restore asked for it has taken restoreTime on the
// service clock (forever when never), and a restore of a key in fail fails
// for good.
type archivalBlobs struct {
	glacier.BlobStore
	clock       interface{ Now() time.Time }
	restoreTime time.Duration
	never       bool
	mu          sync.Mutex
	asked       map[string]time.Time
	fail        bool
}

func (a *archivalBlobs) Archival() bool { return true }

func (a *archivalBlobs) Restore(ctx context.Context, key, tier string, days int) (glacier.RestoreState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return 0, errors.New("the object is gone from the bucket")
	}
	at, ok := a.asked[key]
	if !ok {
		a.asked[key] = a.clock.Now()
		return glacier.RestorePending, nil
	}
	if a.never || a.clock.Now().Before(at.Add(a.restoreTime)) {
		return glacier.RestorePending, nil
	}
	return glacier.RestoreReady, nil
}

func (a *archivalBlobs) PutReadable(ctx context.Context, key string, r io.Reader) (int64, error) {
	return a.BlobStore.Put(ctx, key, r)
}

func archivalService(t *testing.T, restoreTime time.Duration) (*env, *archivalBlobs) {
	var ab *archivalBlobs
	e := newService(t, func(s *glacier.Service) {
		ab = &archivalBlobs{BlobStore: s.Blobs, clock: s.Clock, restoreTime: restoreTime, asked: map[string]time.Time{}}
		s.Blobs = ab
		s.RestoreTimeout = 10 * time.Hour
	})
	return e, ab
}

// TestJobsWaitForRestores: on an archive storage class a retrieval job
// completes when both its restore and its tier's delay are done; a
// restore that fails or never completes fails the job; the scrubber
// refuses to restore everything.
func TestJobsWaitForRestores(t *testing.T) {
	ctx := context.Background()
	e, ab := archivalService(t, 5*time.Hour)
	s := e.svc
	e.mustVault("v")
	data := payload(3000)
	a := e.mustArchive("v", data)
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	status := func() glacier.Job {
		t.Helper()
		got, err := s.DescribeJob(ctx, owner, ownerAccount, "v", j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	e.advance(0) // the first pass asks for the restore
	if len(ab.asked) != 1 {
		t.Fatalf("restores asked: %v", ab.asked)
	}
	e.advance(3*time.Hour + time.Minute) // the Standard delay passed, the restore has not
	if got := status(); got.Status != glacier.JobInProgress {
		t.Fatalf("before the restore: %s %s", got.Status, got.StatusMessage)
	}
	for range 30 { // polls every 5 minutes until the restore is ready
		e.advance(5 * time.Minute)
	}
	got := status()
	if got.Status != glacier.JobSucceeded {
		t.Fatalf("after the restore: %s %s", got.Status, got.StatusMessage)
	}
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", j.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, out.Body); !bytes.Equal(b, data) {
		t.Errorf("restored output differs")
	}

	_, err = s.Scrub(ctx, glacier.ScrubOptions{})
	wantErr(t, err, glacier.KindInvalidParameter, "whose bytes cannot be read without a restore")

	// A restore that fails for good.
	ab.fail = true
	j, err = s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Tier: glacier.TierBulk})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Minute)
	if got := status(); got.Status != glacier.JobFailed || got.StatusMessage != "Restoring the archive from its storage class failed: the object is gone from the bucket" {
		t.Errorf("a failed restore: %s %q", got.Status, got.StatusMessage)
	}
}

func TestRestoreTimeout(t *testing.T) {
	ctx := context.Background()
	e, ab := archivalService(t, 0)
	ab.never = true
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("deep"))
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(0)
	e.advance(3*time.Hour + 9*time.Hour) // within the 10-hour timeout past the delay
	if got, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", j.ID); got.Status != glacier.JobInProgress {
		t.Fatalf("within the timeout: %s %s", got.Status, got.StatusMessage)
	}
	e.advance(2 * time.Hour)
	got, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", j.ID)
	if got.Status != glacier.JobFailed || got.StatusMessage != "The archive's restore from its storage class did not complete within 10h0m0s" {
		t.Errorf("past the timeout: %s %q", got.Status, got.StatusMessage)
	}
}
