package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/blob/disk"
	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestCrashBetweenBlobWriteAndCommitLeavesNoOrphan (issue 20): a server
// killed (SIGKILL, by a failpoint) after writing an upload's blob and
// before committing its metadata — a single upload, then a multipart part —
// leaves a blob intent; the next server listens at once and its
// background housekeeping removes the blob, without listing the store. A
// delete committed but not followed by the blob's removal is found the
// same way.
func TestCrashBetweenBlobWriteAndCommitLeavesNoOrphan(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	ctx := context.Background()

	p := startServe(t, bin, dir)
	c := crashClient(p.url)
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	keep := randomBytes(3 << 20)
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(keep)})
	if err != nil {
		t.Fatal(err)
	}
	kept := *out.ArchiveId
	gone := randomBytes(1 << 20)
	out, err = c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(gone)})
	if err != nil {
		t.Fatal(err)
	}
	deleted := *out.ArchiveId
	mp, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	p.stop()

	// Two crashes between a blob write and its commit.
	crash := func(name string, upload func(c *glacier.Client) error) {
		p := startServeEnv(t, bin, dir, []string{failpointEnv + "=kill-after-blob-write"})
		waitHousekeeping(t, p.url) // leftovers of the previous crash go first
		err := upload(crashClient(p.url))
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the failpoint did not kill the server (request error %v)", name, err)
		}
		t.Logf("%s: the request ended with %v", name, err)
		if err == nil {
			t.Fatalf("%s: acknowledged although the server died before the commit", name)
		}
		// the two archives and this crash's blob.
		if n := countBlobFiles(t, dir); n != 3 {
			t.Fatalf("after the %s crash: %d blobs, want 3", name, n)
		}
	}
	crash("single upload", func(c *glacier.Client) error {
		_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(2 << 20))})
		return err
	})
	crash("multipart part", func(c *glacier.Client) error {
		body := randomBytes(1 << 20)
		_, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String("v"), UploadId: mp.UploadId,
			Range: aws.String("bytes 0-1048575/*"), Checksum: aws.String(treehash.Sum(body).String()), Body: bytes.NewReader(body)})
		return err
	})
	// A delete whose metadata committed but whose blob was not removed:
	// committed directly through the store, as a crash right after the
	// commit would leave it.
	func() {
		meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer meta.Close()
		if _, err := meta.DeleteArchive(ctx, crashAccount, "v", deleted, time.Now()); err != nil {
			t.Fatal(err)
		}
	}()

	// The restart answers at once; housekeeping runs in the background.
	start := time.Now()
	p = startServe(t, bin, dir)
	t.Logf("restart answered after %v", time.Since(start))
	waitHousekeeping(t, p.url)
	c = crashClient(p.url)
	if got := retrieveArchive(t, c, "v", kept); !bytes.Equal(got, keep) {
		t.Errorf("the acknowledged archive changed")
	}
	p.stop()

	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = blobs.List(ctx, func(key string, _ time.Time) error {
		n++
		if ref, err := meta.BlobReferenced(ctx, key); err != nil || !ref {
			t.Errorf("blob %s is referenced by nothing after housekeeping (%v)", key, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("after housekeeping: %d blobs, want 1 (the kept archive)", n)
	}
	if left, err := meta.CountBlobIntents(ctx); err != nil || left != 0 {
		t.Errorf("after housekeeping: %d blob intents left (%v), want 0", left, err)
	}
}

// countBlobFiles counts the blob files of a data directory.
func countBlobFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "archives", "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitHousekeeping waits until the server's start-up housekeeping pass is
// done (health info "housekeeping").
func waitHousekeeping(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var h struct {
			Info struct {
				HK struct {
					Done bool   `json:"startup_pass_done"`
					Err  string `json:"last_error"`
				} `json:"housekeeping"`
			}
		}
		resp, err := http.Get(url + "/_permafrost/v1/health")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if err == nil && h.Info.HK.Done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("start-up housekeeping not done within 60 s (%v, %q)", err, h.Info.HK.Err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, bin, dir string, env []string, extra ...string) *crashProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "server.log")
	addr := freeLoopbackAddr(t)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--listen", addr, "--data-dir", dir, "--log-format", "json", "--inventory-interval", "0", "--job-delays", "none"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(crashEnv(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	logf.Close()
	p := &crashProc{t: t, cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	if !p.waitReady(30 * time.Second) {
		t.Fatalf("server did not come up (exit: %v)\nlog:\n%s", p.waitErr, tailFile(logPath, 30))
	}
	return p
}

// TestReconcileCommand: `permafrost reconcile` lists every blob and
// removes those no metadata references once they are older than the
// sweep's grace; younger ones may belong to uploads in flight and stay.
func TestReconcileCommand(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	ctx := context.Background()
	p := startServe(t, bin, dir)
	c := crashClient(p.url)
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	body := randomBytes(1 << 20)
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}

	// Leftovers no intent records (as an older version could leave them),
	// planted beside the running server.
	plant := func(key string, age time.Duration) {
		path := filepath.Join(dir, "archives", "blobs", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("leftover"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	plant("a/ee/ee000000000000000000000000000001", pf.SweepGrace+time.Hour)
	plant("a/ee/ee000000000000000000000000000002", time.Minute)

	stdout, stderr, code := runBinary(t, bin, time.Minute, "reconcile", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("reconcile: exit %d, stderr %s", code, stderr)
	}
	var rep reconcileReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("reconcile --json: %v: %s", err, stdout)
	}
	if rep.BlobsRemoved != 1 {
		t.Errorf("reconcile removed %d blobs, want 1 (the old leftover): %s", rep.BlobsRemoved, stdout)
	}
	if n := countBlobFiles(t, dir); n != 2 {
		t.Errorf("after reconcile: %d blobs, want 2 (the archive and the young leftover)", n)
	}
	if got := retrieveArchive(t, c, "v", *out.ArchiveId); !bytes.Equal(got, body) {
		t.Errorf("the archive changed")
	}

	// --all (after a restore) removes leftovers of any age, but only with
	// the directory to itself.
	if _, stderr, code := runBinary(t, bin, time.Minute, "reconcile", "--data-dir", dir, "--all"); code == 0 {
		t.Errorf("reconcile --all beside a running server: exit 0, want a refusal (stderr %q)", stderr)
	}
	p.stop()
	if stdout, stderr, code := runBinary(t, bin, time.Minute, "reconcile", "--data-dir", dir, "--all"); code != 0 || !strings.Contains(stdout, "removed 1 unreferenced blobs of any age") {
		t.Errorf("reconcile --all: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := countBlobFiles(t, dir); n != 1 {
		t.Errorf("after reconcile --all: %d blobs, want 1 (the archive)", n)
	}
}

// TestSpaceReported: the health output's "space" and the metrics'
// permafrost_space_bytes tell live archives from the bytes of a deleted
// archive kept for a succeeded retrieval job's output.
func TestSpaceReported(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	ctx := context.Background()
	metricsAddr := freeLoopbackAddr(t)
	p := startServe(t, bin, dir, "--metrics-listen", metricsAddr)
	c := crashClient(p.url)
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	upload := func(n int) string {
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(n))})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ArchiveId
	}
	upload(3000)
	gone := upload(5000)
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(gone)}})
	if err != nil {
		t.Fatal(err)
	}
	waitJobDone(t, c, "v", *job.JobId)
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}

	var h struct {
		Info struct {
			Space struct {
				Live      int64  `json:"live_archive_bytes"`
				InFlight  int64  `json:"in_flight_upload_bytes"`
				Retained  int64  `json:"retained_job_output_bytes"`
				Expired   int64  `json:"expired_unpurged_bytes"`
				Retention string `json:"job_retention"`
			} `json:"space"`
		}
	}
	resp, err := http.Get(p.url + "/_permafrost/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	sp := h.Info.Space
	if sp.Live != 3000 || sp.Retained != 5000 || sp.InFlight != 0 || sp.Expired != 0 || sp.Retention != "24h0m0s" {
		t.Errorf("health space = %+v; want 3000 live, 5000 retained for the job, retention 24h", sp)
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`permafrost_space_bytes{held_for="live_archives"} 3000`,
		`permafrost_space_bytes{held_for="retained_job_outputs"} 5000`,
		`permafrost_space_bytes{held_for="in_flight_uploads"} 0`,
		`permafrost_space_bytes{held_for="expired_unpurged"} 0`,
		"permafrost_blob_intents ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop()
}
