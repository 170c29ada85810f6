package glacier_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// gatedBlobs counts Puts and holds the first one gated until released.
type gatedBlobs struct {
	glacier.BlobStore
	gate    bool
	entered chan struct{}
	release chan struct{}
	first   atomic.Bool
	puts    atomic.Int32
}

func (g *gatedBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	g.puts.Add(1)
	if g.gate && g.first.CompareAndSwap(false, true) {
		close(g.entered)
		<-g.release
	}
	return g.BlobStore.Put(ctx, key, r)
}

// TestJobDueAtOnceIsProducedOnce (issue 20): an inventory job due at once
// is produced inline by InitiateJob; a scheduler pass meanwhile finds it
// due and in progress but leaves it to the inline producer instead of
// scanning and writing the whole vault a second time.
func TestJobDueAtOnceIsProducedOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	fs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	blobs := &gatedBlobs{BlobStore: fs, entered: make(chan struct{}), release: make(chan struct{})}
	svc := &glacier.Service{Stores: meta.Roles(), Blobs: blobs, Clock: clock.Real{}, Region: "us-east-1",
		JobDelays: map[string]time.Duration{"inventory": 0}}
	const acct = "111122223333"
	if err := meta.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	root := &glacier.Caller{Principal: glacier.RootPrincipal(acct, "AKIAROOTKEY000000001")}
	if _, err := svc.CreateVault(ctx, root, acct, "v"); err != nil {
		t.Fatal(err)
	}
	data := []byte("archive")
	if _, err := svc.UploadArchive(ctx, root, acct, "v", "", glacier.Body{R: bytes.NewReader(data), Size: int64(len(data)), TreeHash: treehash.Sum(data)}); err != nil {
		t.Fatal(err)
	}
	blobs.gate = true
	before := blobs.puts.Load()

	type res struct {
		j   glacier.Job
		err error
	}
	inline := make(chan res, 1)
	go func() {
		j, err := svc.InitiateJob(ctx, root, acct, "v", glacier.JobRequest{Type: glacier.InventoryRetrieval, Inventory: glacier.InventoryRequest{Format: "JSON"}})
		inline <- res{j, err}
	}()
	<-blobs.entered // the inline producer is writing the snapshot

	if _, err := svc.RunDueWork(ctx); err != nil {
		t.Fatal(err)
	}
	if n := blobs.puts.Load() - before; n != 1 {
		t.Errorf("a scheduler pass during the inline production wrote %d blobs in all, want 1 (the inline snapshot only)", n)
	}
	close(blobs.release)
	r := <-inline
	if r.err != nil {
		t.Fatal(r.err)
	}
	j, err := svc.DescribeJob(ctx, root, acct, "v", r.j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != glacier.JobSucceeded {
		t.Errorf("job %s: %s", j.Status, j.StatusMessage)
	}
	if n := blobs.puts.Load() - before; n != 2 {
		t.Errorf("the job wrote %d blobs, want 2 (the snapshot and the output, once)", n)
	}
	if !strings.Contains(string(j.Status), "Succeeded") {
		t.Errorf("status %q", j.Status)
	}
}
