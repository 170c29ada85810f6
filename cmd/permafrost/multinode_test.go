package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// startNodes starts n in-process permafrost nodes on one PostgreSQL
// database and one bucket, all with the test clock, and creates an account
// through the first. Every node's stores are the shared ones.
func startNodes(t *testing.T, n int, set func(*Config)) []*testServer {
	t.Helper()
	shared := storeFlags{Meta: testenv.PostgresDSN(t), Blobs: testenv.S3URL(t)}
	nodes := make([]*testServer, n)
	for i := range nodes {
		cfg := DefaultConfig()
		cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "warn"
		cfg.Meta, cfg.Blobs = shared.Meta, shared.Blobs
		cfg.TestClock = true
		cfg.InventoryInterval = 0
		if set != nil {
			set(&cfg)
		}
		m := &Main{Config: cfg, Stderr: testLogWriter{t}}
		if err := m.Open(context.Background()); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { m.Close() })
		nodes[i] = &testServer{Main: m}
	}
	// The account owning the topics the tests name (a topic may only be
	// used by vaults and jobs of its own account).
	acct, key, secret := nodes[0].mustCreateAccount(t, "123456789012")
	for _, n := range nodes {
		n.AccountID, n.KeyID, n.Secret = acct, key, secret
	}
	return nodes
}

// TestMultiNodeOneService drives two nodes on one database and bucket as
// one service: what one node writes the other serves, a lock taken on one
// binds on the other, the test clock moved through one moves for both, and
// a job completes once, whichever node's scheduler gets to it.
func TestMultiNodeOneService(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	a, b := nodes[0].client(), nodes[1].client()
	ctx := context.Background()
	vault := aws.String("shared")
	if _, err := a.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	// Upload through A (multipart, so the archive spans several objects),
	// describe through B.
	data := randomBytes(3<<20 + 4321)
	init, err := a.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: vault, PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		part := data[off:min(off+1<<20, len(data))]
		c := []*glacier.Client{a, b}[off>>20%2] // parts through both nodes
		if _, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{
			VaultName: vault, UploadId: init.UploadId, Body: bytes.NewReader(part),
			Range:    aws.String(fmt.Sprintf("bytes %d-%d/*", off, off+len(part)-1)),
			Checksum: aws.String(treehash.Sum(part).String()),
		}); err != nil {
			t.Fatal(err)
		}
	}
	done, err := b.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: vault, UploadId: init.UploadId, ArchiveSize: aws.String(fmt.Sprint(len(data))),
		Checksum: aws.String(treehash.Sum(data).String()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := b.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault}); err != nil || d.NumberOfArchives != 1 {
		t.Fatalf("DescribeVault through B = %+v, %v; want 1 archive", d, err)
	}

	// A job initiated on B, completed by the clock advanced through A,
	// downloaded through A.
	job, err := b.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: done.ArchiveId, Tier: aws.String("Standard")}})
	if err != nil {
		t.Fatal(err)
	}
	nodes[0].advance(t, 3*time.Hour+time.Minute)
	waitJob(t, b, vault, job.JobId)
	out, err := a.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) || aws.ToString(out.Checksum) != treehash.Sum(data).String() {
		t.Fatalf("GetJobOutput through A: %d bytes (err %v), checksum %s; want the %d uploaded bytes", len(got), err, aws.ToString(out.Checksum), len(data))
	}

	// A lock initiated on A binds requests on B at once.
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive",` +
		`"Resource":"arn:aws:glacier:us-east-1:` + nodes[0].AccountID + `:vaults/shared",` +
		`"Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`
	lock, err := a.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: done.ArchiveId})
	wantAPIError(t, err, "AccessDeniedException", 403)
	if _, err := b.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: vault, LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	_, err = a.AbortVaultLock(ctx, &glacier.AbortVaultLockInput{VaultName: vault})
	wantAPIError(t, err, "AccessDeniedException", 403)
	// The clock, moved through B this time, is the same on A.
	nodes[1].advance(t, 366*24*time.Hour)
	if _, err := a.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: done.ArchiveId}); err != nil {
		t.Fatalf("DeleteArchive through A after the clock moved through B: %v", err)
	}
}

// waitJob polls DescribeJob until the job completes successfully.
func waitJob(t *testing.T, c *glacier.Client, vault, id *string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := c.DescribeJob(context.Background(), &glacier.DescribeJobInput{VaultName: vault, JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		if d.Completed {
			if d.StatusCode != types.StatusCodeSucceeded {
				t.Fatalf("job %s ended %s: %s", aws.ToString(id), d.StatusCode, aws.ToString(d.StatusMessage))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still in progress 30 s after it was due", aws.ToString(id))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMultiNodeLockRace races CompleteVaultLock on one node against
// AbortVaultLock on the other, many times: each round ends entirely one
// way — Locked, every Abort refused — or the other — no lock, every
// Complete refused.
func TestMultiNodeLockRace(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	a, b := nodes[0].client(), nodes[1].client()
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteVault","Resource":"*"}]}`
	outcomes := map[string]int{}
	for round := range 8 {
		vault := aws.String(fmt.Sprintf("race-%d", round))
		if _, err := a.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
			t.Fatal(err)
		}
		lock, err := a.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var completed, aborted, completeRefused, abortRefused int
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 8 {
			wg.Go(func() {
				<-start
				if i%2 == 0 {
					_, err := a.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: vault, LockId: lock.LockId})
					mu.Lock()
					if err == nil {
						completed++
					} else {
						completeRefused++
					}
					mu.Unlock()
				} else {
					_, err := b.AbortVaultLock(ctx, &glacier.AbortVaultLockInput{VaultName: vault})
					mu.Lock()
					if err == nil {
						aborted++
					} else {
						abortRefused++
					}
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		state, err := b.GetVaultLock(ctx, &glacier.GetVaultLockInput{VaultName: vault})
		switch {
		case err == nil && aws.ToString(state.State) == "Locked":
			if completed != 4 || abortRefused != 4 {
				t.Errorf("round %d ended Locked but %d completes succeeded and %d aborts were refused, want 4 and 4", round, completed, abortRefused)
			}
			outcomes["locked"]++
		case err != nil:
			wantAPIError(t, err, "ResourceNotFoundException", 404)
			if aborted != 4 || completeRefused != 4 {
				t.Errorf("round %d ended without a lock but %d aborts succeeded and %d completes were refused, want 4 and 4", round, aborted, completeRefused)
			}
			outcomes["aborted"]++
		default:
			t.Errorf("round %d ended in state %s", round, aws.ToString(state.State))
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestMultiNodeJobsCompleteOnce starts three nodes whose schedulers all see
// the same due jobs and checks that every job notifies exactly once per
// topic, with one message id, however the nodes raced to finish it.
func TestMultiNodeJobsCompleteOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // job id → message ids
	receiver := newSNSReceiver(t, func(jobID, messageID string) {
		mu.Lock()
		defer mu.Unlock()
		if seen[jobID] == nil {
			seen[jobID] = map[string]bool{}
		}
		seen[jobID][messageID] = true
	})
	topic := "arn:aws:sns:us-east-1:123456789012:restores"
	nodes := startNodes(t, 3, func(c *Config) { c.SNSEndpoints = []string{topic + "=" + receiver} })
	c := nodes[0].client()
	ctx := context.Background()
	vault := aws.String("jobs")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(1000)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 20 {
		j, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{
			Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId, Tier: aws.String("Bulk"), SNSTopic: aws.String(topic)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(j.JobId))
	}
	nodes[2].advance(t, 5*time.Hour+time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == len(ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Give duplicates, if any, a moment to arrive.
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if len(seen[id]) != 1 {
			t.Errorf("job %s: notifications with %d distinct message ids, want exactly 1 (%v)", id, len(seen[id]), seen[id])
		}
	}
}

// newSNSReceiver starts an HTTP endpoint that reports each SNS envelope's
// job id and message id, and returns its URL.
func newSNSReceiver(t *testing.T, got func(jobID, messageID string)) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct{ MessageId, Message string }
		if err := decodeJSONBody(r.Body, &env); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var job struct{ JobId string }
		if err := decodeJSONBody(bytes.NewReader([]byte(env.Message)), &job); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got(job.JobId, env.MessageId)
	})}
	ln := listenLoopback(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/sns"
}

func decodeJSONBody(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
