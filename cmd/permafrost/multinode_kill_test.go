package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	blobs3 "github.com/permafrost/permafrost/internal/blob/s3"
	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/postgres"
	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestMultiNodeKill runs two real server processes on one PostgreSQL
// database and one bucket, SIGKILLs the first in the middle of concurrent
// uploads, and checks through the stores that every acknowledged archive
// is there with its bytes and tree hash, that nothing appeared beyond what
// was acknowledged or in flight, and that the second node served on while
// the first was down.
func TestMultiNodeKill(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the server binary but is not on PATH: %v", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "permafrost")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dsn := testenv.PostgresDSN(t)
	bucket := testenv.S3(t)
	bucket.SetEnv(t) // for the stores this test opens, and inherited by the nodes
	env := append(crashEnv(), "PERMAFROST_META="+dsn, "PERMAFROST_BLOBS="+bucket.URL)
	node := func(name string) *crashHarness {
		return &crashHarness{t: t, bin: bin, dataDir: filepath.Join(tmp, name), logPath: filepath.Join(tmp, name+".log"), env: env}
	}
	a, b := node("a"), node("b")
	pa, pb := a.start(), b.start()
	ca, cb := crashClient(pa.url), crashClient(pb.url)
	ctx := context.Background()
	vault := aws.String(crashVault)
	if _, err := cb.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]treehash.Hash{} // archive id → tree hash
	var inDoubt atomic.Int64
	var killed atomic.Bool
	firstAck := make(chan struct{})
	once := sync.OnceFunc(func() { close(firstAck) })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				data := randomBytes(64<<10 + i*400<<10%(3<<20))
				sum := treehash.Sum(data)
				out, err := ca.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(sum.String())})
				if err != nil {
					if killed.Load() {
						inDoubt.Add(1)
						return
					}
					t.Errorf("UploadArchive before the kill: %v", err)
					return
				}
				mu.Lock()
				acked[aws.ToString(out.ArchiveId)] = sum
				mu.Unlock()
				once()
			}
		})
	}
	select {
	case <-firstAck:
	case <-time.After(30 * time.Second):
		t.Fatal("no upload acknowledged within 30 s")
	}
	time.Sleep(300 * time.Millisecond)
	killed.Store(true)
	pa.kill()
	wg.Wait()

	// B serves on.
	data := randomBytes(1000)
	out, err := cb.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	if err != nil {
		t.Fatalf("UploadArchive through B while A is down: %v", err)
	}
	acked[aws.ToString(out.ArchiveId)] = treehash.Sum(data)

	// Check through the stores.
	meta, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	objects, err := blobs3.Open(ctx, bucket.URL)
	if err != nil {
		t.Fatal(err)
	}
	blobs := pf.InlineBlobs(objects, meta) // small archives are kept in the database
	for id, want := range acked {
		a, err := meta.GetArchive(ctx, id)
		if err != nil {
			t.Errorf("acknowledged archive %s: %v", id, err)
			continue
		}
		h := treehash.New()
		for _, s := range a.Segments {
			r, err := blobs.Open(ctx, s.BlobKey, 0, -1)
			if err != nil {
				t.Fatalf("archive %s segment %s: %v", id, s.BlobKey, err)
			}
			io.Copy(h, r)
			r.Close()
		}
		if a.TreeHash != want || h.TreeHash() != want || h.Size() != a.Size {
			t.Errorf("archive %s: stored hash %s, bytes hash %s (%d bytes, want %d); acknowledged %s", id, a.TreeHash, h.TreeHash(), h.Size(), a.Size, want)
		}
	}
	var present int64
	if err := meta.ScanArchives(ctx, crashAccount, crashVault, func(a pf.Archive) error {
		present++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if extra := present - int64(len(acked)); extra < 0 || extra > inDoubt.Load() {
		t.Errorf("the vault holds %d archives: %d acknowledged and %d in flight at the kill", present, len(acked), inDoubt.Load())
	}
	t.Logf("%d uploads acknowledged, %d in flight at the kill, %d archives present", len(acked), inDoubt.Load(), present)

	// A comes back and serves the same vault.
	pa = a.start()
	if d, err := crashClient(pa.url).DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault}); err != nil {
		t.Errorf("DescribeVault through the restarted A: %v", err)
	} else if d.NumberOfArchives != present {
		t.Errorf("restarted A reports %d archives, the store holds %d", d.NumberOfArchives, present)
	}
	pa.stop()
	pb.stop()
}
