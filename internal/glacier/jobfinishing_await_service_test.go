package glacier_test

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// hookedJobs runs after, once, when a job has been stored.
type hookedJobs struct {
	glacier.JobStore
	after atomic.Pointer[func()]
}

func (h *hookedJobs) CreateJob(ctx context.Context, j glacier.Job) error {
	return h.stored(h.JobStore.CreateJob(ctx, j))
}

func (h *hookedJobs) CreateJobIf(ctx context.Context, j glacier.Job, admit func(glacier.AdmissionView) error) error {
	return h.stored(h.JobStore.CreateJobIf(ctx, j, admit))
}

func (h *hookedJobs) stored(err error) error {
	if f := h.after.Swap(nil); err == nil && f != nil {
		(*f)()
	}
	return err
}

// TestInitiateJobAwaitsTheSchedulersProduction: a job due at once that a
// scheduler pass started producing between InitiateJob storing it and
// producing it inline (the awaitFinishing path) is produced once, by the
// scheduler, and InitiateJob answers only when that production is done, so
// the caller's next DescribeJob shows the job finished.
func TestInitiateJobAwaitsTheSchedulersProduction(t *testing.T) {
	ctx := context.Background()
	blobs := &gatedBlobs{entered: make(chan struct{}), release: make(chan struct{})}
	jobs := &hookedJobs{}
	e := newService(t, func(s *glacier.Service) {
		blobs.BlobStore, s.Blobs = s.Blobs, blobs
		jobs.JobStore, s.Jobs = s.Jobs, jobs
		s.JobDelays = map[string]time.Duration{"inventory": 0}
	})
	e.mustVault("v")
	a := e.mustArchive("v", []byte("archive"))
	before := blobs.puts.Load()
	blobs.gate = true

	// Right after the job is stored, a scheduler pass finds it due and
	// starts producing it: it holds at its first blob write.
	passDone := make(chan error, 1)
	hook := func() {
		go func() {
			_, err := e.svc.RunDueWork(ctx)
			passDone <- err
		}()
		<-blobs.entered
	}
	jobs.after.Store(&hook)

	type res struct {
		j   glacier.Job
		err error
	}
	initiated := make(chan res, 1)
	go func() {
		j, err := e.svc.InitiateJob(ctx, root(ownerAccount), ownerAccount, "v", glacier.JobRequest{Type: glacier.InventoryRetrieval, Inventory: glacier.InventoryRequest{Format: "JSON"}})
		initiated <- res{j, err}
	}()
	select {
	case r := <-initiated:
		t.Fatalf("InitiateJob answered (job %s, err %v) while the scheduler was still producing the job", r.j.Status, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(blobs.release)
	var r res
	select {
	case r = <-initiated:
	case <-time.After(10 * time.Second):
		t.Fatal("InitiateJob still waits after the scheduler's production ended")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := <-passDone; err != nil {
		t.Fatalf("scheduler pass: %v", err)
	}
	j, err := e.svc.DescribeJob(ctx, root(ownerAccount), ownerAccount, "v", r.j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != glacier.JobSucceeded {
		t.Errorf("right after InitiateJob answered the job is %s (%s), want Succeeded", j.Status, j.StatusMessage)
	}
	if n := blobs.puts.Load() - before; n != 2 {
		t.Errorf("the job wrote %d blobs, want 2 (the snapshot and the output, once)", n)
	}
	out, err := e.svc.GetJobOutput(ctx, root(ownerAccount), ownerAccount, "v", r.j.ID, nil)
	if err != nil {
		t.Fatalf("GetJobOutput: %v", err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !strings.Contains(string(body), a.ID) {
		t.Errorf("inventory output %q, %v: want the archive %s listed", body, err, a.ID)
	}
}
