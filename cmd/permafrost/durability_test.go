package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/permafrost/permafrost/internal/clock"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// The end-to-end tests of the operating guarantees (issue 11): one owner
// per data directory, a sweep that never races an upload, no damaged byte
// ever served, the scrubber. They run real `permafrost serve` processes on
// the embedded stores (their subject is the data directory).

// buildPermafrost builds the real binary into a temporary directory.
func buildPermafrost(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the server binary but is not on PATH (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "permafrost")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs `permafrost serve` on dir with extra flags and waits
// until it answers; the process is killed when the test ends.
func startServe(t *testing.T, bin, dir string, extra ...string) *crashProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "server.log")
	for attempt := 0; ; attempt++ {
		addr := freeLoopbackAddr(t)
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"serve", "--listen", addr, "--data-dir", dir, "--log-format", "json", "--inventory-interval", "0", "--job-delays", "none"}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = crashEnv()
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		logf.Close()
		p := &crashProc{t: t, cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
		go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
		t.Cleanup(p.kill)
		if p.waitReady(30 * time.Second) {
			return p
		}
		if attempt < 3 && strings.Contains(tailFile(logPath, 5), "address already in use") {
			continue
		}
		t.Fatalf("server did not come up (exit: %v)\nlog:\n%s", p.waitErr, tailFile(logPath, 30))
	}
}

// runBinary runs the binary to completion and returns its output and exit
// status.
func runBinary(t *testing.T, bin string, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = crashEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %v", bin, args, timeout)
	}
	return o.String(), e.String(), code
}

// Finding 1: a second serve on the same directory exits at once, naming
// the directory and the owner, and touches nothing; the operator commands
// keep working beside the running server and do not sweep.
func TestSecondServeRefused(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	first := startServe(t, bin, dir)
	c := crashClient(first.url)
	ctx := context.Background()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	body := randomBytes(3<<20 + 7)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	// What an upload in flight looks like on disk: a temporary file.
	inflight := filepath.Join(dir, "archives", "tmp", "put-inflight")
	if err := os.WriteFile(inflight, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, stderr, code := runBinary(t, bin, 20*time.Second, "serve", "--listen", freeLoopbackAddr(t), "--data-dir", dir)
	took := time.Since(start)
	if code == 0 {
		t.Fatalf("second serve exited 0, want non-zero; stderr:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 {
		t.Errorf("second serve printed %d lines, want one:\n%s", len(lines), stderr)
	}
	abs, _ := filepath.Abs(dir)
	pid := strconv.Itoa(first.cmd.Process.Pid)
	if !strings.Contains(stderr, abs) || !strings.Contains(stderr, pid) {
		t.Errorf("second serve's message %q does not name the directory %s and the owner's pid %s", stderr, abs, pid)
	}
	if took > 10*time.Second {
		t.Errorf("second serve took %v to give up, want at once", took)
	}
	t.Logf("second serve (exit %d after %v): %s", code, took.Round(time.Millisecond), strings.TrimSpace(stderr))

	// Operator commands beside the server: they work and sweep nothing.
	if out, errOut, code := runBinary(t, bin, 30*time.Second, "accounts", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, crashAccount) {
		t.Errorf("accounts list beside a running server: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runBinary(t, bin, 60*time.Second, "scrub", "--data-dir", dir); code != 0 || !strings.Contains(out, "0 damaged") {
		t.Errorf("scrub beside a running server: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Errorf("an upload's temporary file was removed by a command beside the owner: %v", err)
	}

	// The owner still serves the archive intact.
	if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("the first server stopped answering: %v", err)
	}
	first.stop()
	// Once the owner is gone the directory is free again.
	again := startServe(t, bin, dir)
	got := retrieveArchive(t, crashClient(again.url), "v", *up.ArchiveId)
	if !bytes.Equal(got, body) {
		t.Errorf("archive changed across the refused second serve")
	}
	again.stop()
}

// retrieveArchive runs an archive retrieval job (the servers run with
// --job-delays none) and returns the output.
func retrieveArchive(t *testing.T, c *glacier.Client, vault, id string) []byte {
	t.Helper()
	ctx := context.Background()
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String(vault), JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id)}})
	if err != nil {
		t.Fatalf("InitiateJob: %v", err)
	}
	d := waitJobDone(t, c, vault, *job.JobId)
	if d.StatusCode != types.StatusCodeSucceeded {
		t.Fatalf("job for %s: %s (%s)", id, d.StatusCode, aws.ToString(d.StatusMessage))
	}
	out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String(vault), JobId: job.JobId})
	if err != nil {
		t.Fatalf("GetJobOutput: %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading job output: %v", err)
	}
	return b
}

// waitJobDone polls until the job is no longer in progress.
func waitJobDone(t *testing.T, c *glacier.Client, vault, id string) *glacier.DescribeJobOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := c.DescribeJob(context.Background(), &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeJob: %v", err)
		}
		if d.StatusCode != types.StatusCodeInProgress {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still in progress after 30 s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Finding 2: the most aggressive sweep the server accepts, under
// concurrent uploads, loses nothing acknowledged; a smaller interval is
// refused at start.
func TestSweepNeverRacesUploads(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	_, stderr, code := runBinary(t, bin, 20*time.Second, "serve", "--listen", freeLoopbackAddr(t), "--data-dir", dir, "--sweep-interval", "20ms")
	if code != 2 || !strings.Contains(stderr, "--sweep-interval") || !strings.Contains(stderr, pf.MinSweepInterval.String()) {
		t.Fatalf("--sweep-interval 20ms: exit %d, stderr %q; want exit 2 naming the minimum %v", code, stderr, pf.MinSweepInterval)
	}

	duration := time.Minute
	if v := os.Getenv("PERMAFROST_SWEEP_TEST_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PERMAFROST_SWEEP_TEST_DURATION: %v", err)
		}
		duration = d
	}
	p := startServe(t, bin, dir, "--sweep-interval", pf.MinSweepInterval.String(), "--log-level", "debug")
	c := crashClient(p.url)
	ctx := context.Background()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	type acked struct {
		id   string
		hash string
		size int
	}
	var mu sync.Mutex
	var archives []acked
	var failures atomic.Int64
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				size := 1<<20 + (w*7919+i*104729)%(3<<20)
				body := randomBytes(size)
				if i%3 == 0 {
					// A multipart upload: parts sit unreferenced-by-archive
					// until the complete.
					id, err := multipartUpload(ctx, c, "v", body)
					if err != nil {
						failures.Add(1)
						t.Errorf("multipart upload: %v", err)
						continue
					}
					mu.Lock()
					archives = append(archives, acked{id, treehash.Sum(body).String(), size})
					mu.Unlock()
					continue
				}
				out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(body)})
				if err != nil {
					failures.Add(1)
					t.Errorf("upload: %v", err)
					continue
				}
				mu.Lock()
				archives = append(archives, acked{*out.ArchiveId, treehash.Sum(body).String(), size})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// A restart runs the start-up sweep too.
	p.stop()
	p = startServe(t, bin, dir, "--sweep-interval", pf.MinSweepInterval.String())
	waitHousekeeping(t, p.url)
	time.Sleep(2 * pf.MinSweepInterval) // a periodic sweep after the restart
	p.stop()

	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	for _, a := range archives {
		got, err := meta.GetArchive(ctx, a.id)
		if err != nil {
			t.Errorf("acknowledged archive %s: %v", a.id, err)
			continue
		}
		if got.TreeHash.String() != a.hash || got.Size != int64(a.size) {
			t.Errorf("archive %s: size %d hash %s, want %d %s", a.id, got.Size, got.TreeHash, a.size, a.hash)
		}
	}
	// Every acknowledged archive's bytes are all there and match.
	out, errOut, code := runBinary(t, bin, 5*time.Minute, "scrub", "--data-dir", dir, "--json")
	var rep scrubReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("scrub --json: %v\n%s%s", err, out, errOut)
	}
	if code != 0 || len(rep.Damaged) != 0 || rep.Archives != len(archives) {
		t.Errorf("after the sweeps: scrub exit %d, %d archives (want %d), %d damaged or missing, the first: %+v", code, rep.Archives, len(archives), len(rep.Damaged), rep.Damaged[:min(1, len(rep.Damaged))])
	}
	t.Logf("%v of 8 uploaders with --sweep-interval %v: %d archives acknowledged, %d lost, %d failed requests",
		duration, pf.MinSweepInterval, len(archives), len(rep.Damaged)+len(archives)-rep.Archives, failures.Load())
}

// multipartUpload uploads body in 1 MiB parts and completes it.
func multipartUpload(ctx context.Context, c *glacier.Client, vault string, body []byte) (string, error) {
	const part = 1 << 20
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String(vault), PartSize: aws.String(strconv.Itoa(part))})
	if err != nil {
		return "", err
	}
	for off := 0; off < len(body); off += part {
		end := min(off+part, len(body))
		_, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{
			VaultName: aws.String(vault), UploadId: init.UploadId,
			Range: aws.String(fmt.Sprintf("bytes %d-%d/*", off, end-1)),
			Body:  bytes.NewReader(body[off:end]),
		})
		if err != nil {
			return "", err
		}
	}
	out, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String(vault), UploadId: init.UploadId,
		ArchiveSize: aws.String(strconv.Itoa(len(body))), Checksum: aws.String(treehash.Sum(body).String()),
	})
	if err != nil {
		return "", err
	}
	return *out.ArchiveId, nil
}

// Finding 3: a flipped, a truncated and a deleted blob are never served as
// good: jobs started after the damage fail saying so, outputs of jobs that
// succeeded before it are cut (or refused) rather than completed, an
// undamaged range is still served, and `permafrost scrub` lists exactly
// the damaged archives and exits 1.
func TestDamagedArchivesNeverServed(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	metricsAddr := freeLoopbackAddr(t)
	p := startServe(t, bin, dir, "--scrub-interval", "0", "--metrics-listen", metricsAddr)
	c := crashClient(p.url)
	ctx := context.Background()
	vault := aws.String("v")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	const size = 3<<20 + 100 // four MiB leaves
	names := []string{"flipped", "truncated", "deleted", "intact"}
	bodies := map[string][]byte{}
	ids := map[string]string{}
	jobs := map[string]string{}
	for _, n := range names {
		bodies[n] = randomBytes(size)
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(bodies[n])})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = *out.ArchiveId
		// Jobs that succeed while the bytes are intact.
		job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: out.ArchiveId}})
		if err != nil {
			t.Fatal(err)
		}
		if d := waitJobDone(t, c, "v", *job.JobId); d.StatusCode != types.StatusCodeSucceeded {
			t.Fatalf("job before the damage: %s %s", d.StatusCode, aws.ToString(d.StatusMessage))
		}
		jobs[n] = *job.JobId
	}

	// Damage the blobs behind the server's back.
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	blobPath := func(n string) string {
		a, err := meta.GetArchive(ctx, ids[n])
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "archives", "blobs", filepath.FromSlash(a.Segments[0].BlobKey))
	}
	flipped, truncated, deleted := blobPath("flipped"), blobPath("truncated"), blobPath("deleted")
	meta.Close()
	f, err := os.OpenFile(flipped, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	off := int64(2<<20 + 12345) // in the third MiB
	f.ReadAt(b, off)
	b[0] ^= 0x01
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(truncated, 2<<20+(1<<19)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(deleted); err != nil {
		t.Fatal(err)
	}

	// Outputs of jobs that succeeded before the damage: never complete.
	for _, n := range []string{"flipped", "truncated", "deleted"} {
		out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: aws.String(jobs[n])})
		if err != nil {
			t.Logf("%s: GetJobOutput refused: %v", n, err)
			if !strings.Contains(err.Error(), "damaged") {
				t.Errorf("%s: the error does not say the archive is damaged: %v", n, err)
			}
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil {
			t.Errorf("%s: GetJobOutput delivered a complete body of %d bytes (equal to the original: %v), want a cut response", n, len(got), bytes.Equal(got, bodies[n]))
			continue
		}
		t.Logf("%s: GetJobOutput cut after %d bytes: %v", n, len(got), err)
		if !bytes.Equal(got, bodies[n][:len(got)]) {
			t.Errorf("%s: the bytes served before the cut differ from the archive", n)
		}
	}
	// The undamaged first two MiB of the flipped archive are still served.
	rng, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: aws.String(jobs["flipped"]), Range: aws.String("bytes=0-2097151")})
	if err != nil {
		t.Fatalf("undamaged range: %v", err)
	}
	got, err := io.ReadAll(rng.Body)
	rng.Body.Close()
	if err != nil || !bytes.Equal(got, bodies["flipped"][:2<<20]) {
		t.Errorf("undamaged range of the flipped archive: %d bytes, err %v", len(got), err)
	}

	// Jobs started after the damage fail and say why.
	for _, n := range names {
		job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(ids[n])}})
		if err != nil {
			t.Fatal(err)
		}
		d := waitJobDone(t, c, "v", *job.JobId)
		msg := aws.ToString(d.StatusMessage)
		if n == "intact" {
			if d.StatusCode != types.StatusCodeSucceeded {
				t.Errorf("intact: job %s: %s", d.StatusCode, msg)
			}
			continue
		}
		if d.StatusCode != types.StatusCodeFailed || !strings.Contains(msg, "damaged") {
			t.Errorf("%s: job after the damage ended %s (%q), want Failed saying the archive is damaged", n, d.StatusCode, msg)
		}
		t.Logf("%s: job Failed: %s", n, msg)
	}
	if got := retrieveArchive(t, c, "v", ids["intact"]); !bytes.Equal(got, bodies["intact"]) {
		t.Errorf("intact archive changed")
	}

	// Operators see the damage without reading logs: in the health output
	// and in the metrics.
	resp, err := http.Get(p.url + "/_permafrost/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string
		Info   struct {
			Damaged struct {
				Count    int
				Archives []struct {
					ArchiveID string `json:"archive_id"`
					Problem   string
				}
			} `json:"damaged_archives"`
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Info.Damaged.Count != 3 || len(health.Info.Damaged.Archives) != 3 {
		t.Errorf("health output's damaged_archives: %+v (err %v), want the 3 damaged archives", health.Info.Damaged, err)
	}
	for _, a := range health.Info.Damaged.Archives {
		if a.ArchiveID == ids["intact"] || a.Problem == "" {
			t.Errorf("health output names %+v", a)
		}
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(scrape), "\npermafrost_damaged_archives 3\n") {
		t.Errorf("metrics do not report 3 damaged archives:\n%s", grepLines(string(scrape), "damaged"))
	}

	// scrub beside the running server: exactly the three, exit 1.
	out, errOut, code := runBinary(t, bin, 2*time.Minute, "scrub", "--data-dir", dir)
	if code != 1 {
		t.Errorf("scrub exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, n := range names {
		listed := strings.Contains(out, "DAMAGED account "+crashAccount+" vault v archive "+ids[n]+":")
		if listed != (n != "intact") {
			t.Errorf("scrub listed %s: %v; output:\n%s", n, listed, out)
		}
	}
	t.Logf("scrub output:\n%s", out)
	out, _, code = runBinary(t, bin, 2*time.Minute, "scrub", "--data-dir", dir, "--json")
	var rep scrubReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Archives != 4 || len(rep.Damaged) != 3 {
		t.Errorf("scrub --json: exit %d, %+v, %v\n%s", code, rep, err, out)
	}
	p.stop()

	// The damage is recorded in the metadata store for operators.
	meta, err = sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	svc := &pf.Service{Stores: meta.Roles(), Clock: clock.Real{}}
	recs, err := svc.DamagedArchives(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range recs {
		found[r.ArchiveID] = true
	}
	for _, n := range []string{"flipped", "truncated", "deleted"} {
		if !found[ids[n]] {
			t.Errorf("%s archive not among the recorded damaged archives %+v", n, recs)
		}
	}
	if found[ids["intact"]] {
		t.Errorf("the intact archive is recorded as damaged")
	}
}

// Finding 4: a multipart upload idle for 24 h on the service clock is
// discarded with its parts' bytes, also across a restart; activity (a
// part) restarts the count; later calls get ResourceNotFoundException.
func TestIdleMultipartUploadsExpire(t *testing.T) {
	dir := t.TempDir()
	ts := mustServeDir(t, dir)
	c := ts.client()
	ctx := context.Background()
	vault := aws.String("idle")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	initiate := func() *string {
		out, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: vault, PartSize: aws.String("1048576")})
		if err != nil {
			t.Fatal(err)
		}
		return out.UploadId
	}
	putPart := func(c *glacier.Client, id *string, n int) error {
		_, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: vault, UploadId: id,
			Range: aws.String(fmt.Sprintf("bytes %d-%d/*", n<<20, (n+1)<<20-1)), Body: bytes.NewReader(randomBytes(1 << 20))})
		return err
	}
	partKeys := func(ts *testServer, id *string) []string {
		parts, err := ts.stores.meta.Roles().Uploads.ListParts(ctx, *id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, p := range parts {
			keys = append(keys, p.BlobKey)
		}
		return keys
	}
	// waitGone waits until the upload is discarded, then checks every way
	// of reaching it and that its parts' bytes are gone.
	waitGone := func(ts *testServer, id *string, keys []string) {
		t.Helper()
		c := ts.client()
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: vault, UploadId: id})
			if err != nil {
				wantAPIError(t, err, "ResourceNotFoundException", 404)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("upload %s still listed 20 s after it became idle for too long", *id)
			}
			time.Sleep(50 * time.Millisecond)
		}
		wantAPIError(t, putPart(c, id, 5), "ResourceNotFoundException", 404)
		_, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: vault, UploadId: id,
			ArchiveSize: aws.String("1048576"), Checksum: aws.String(treehash.Sum(make([]byte, 1<<20)).String())})
		wantAPIError(t, err, "ResourceNotFoundException", 404)
		_, err = c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: vault, UploadId: id})
		wantAPIError(t, err, "ResourceNotFoundException", 404)
		list, err := c.ListMultipartUploads(ctx, &glacier.ListMultipartUploadsInput{VaultName: vault})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.UploadsList {
			if aws.ToString(u.MultipartUploadId) == *id {
				t.Errorf("expired upload %s still in ListMultipartUploads", *id)
			}
		}
		for _, k := range keys {
			if rc, err := ts.stores.blobs.Open(ctx, k, 0, -1); err == nil {
				rc.Close()
				t.Errorf("part blob %s of the expired upload is still stored", k)
			} else if !pf.IsNotFound(err) {
				t.Errorf("part blob %s: %v", k, err)
			}
		}
	}

	idle := initiate()
	for n := range 3 {
		if err := putPart(c, idle, n); err != nil {
			t.Fatal(err)
		}
	}
	active := initiate()
	if err := putPart(c, active, 0); err != nil {
		t.Fatal(err)
	}
	idleKeys := partKeys(ts, idle)

	ts.advance(t, 23*time.Hour)
	time.Sleep(300 * time.Millisecond)
	if _, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: vault, UploadId: idle}); err != nil {
		t.Fatalf("upload idle for 23 h is gone: %v", err)
	}
	if err := putPart(c, active, 1); err != nil { // activity restarts its count
		t.Fatal(err)
	}
	ts.advance(t, 2*time.Hour)
	waitGone(ts, idle, idleKeys)
	if _, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: vault, UploadId: active}); err != nil {
		t.Fatalf("upload active 2 h ago was discarded: %v", err)
	}

	// Across a restart: the clock and the activity are persistent.
	activeKeys := partKeys(ts, active)
	ts.Close()
	ts2 := &testServer{Main: mustServeDirNoAccount(t, dir, true).Main, AccountID: ts.AccountID, KeyID: ts.KeyID, Secret: ts.Secret}
	if _, err := ts2.client().ListParts(ctx, &glacier.ListPartsInput{VaultName: vault, UploadId: active}); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	ts2.advance(t, 22*time.Hour+time.Minute)
	waitGone(ts2, active, activeKeys)
}

// Finding 5: with the data disk full, DeleteArchive, AbortMultipartUpload
// and DeleteVault still succeed, uploads fail with a clear 5xx and leave
// nothing behind, and uploads resume by themselves once space is free. The
// data directory is a small tmpfs mounted by the test.
func TestFullDiskRecoverable(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs for the full-disk test (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v %s", mnt, err, out)
		}
	})
	bin := buildPermafrost(t)
	dir := filepath.Join(mnt, "data")
	p := startServe(t, bin, dir, "--disk-reserve", strconv.Itoa(4<<20), "--scrub-interval", "0")
	c := crashClient(p.url)
	ctx := context.Background()
	for _, v := range []string{"v", "empty"} {
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	up, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String("v"), UploadId: up.UploadId,
		Range: aws.String("bytes 0-1048575/*"), Body: bytes.NewReader(randomBytes(1 << 20))}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 4 {
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(2 << 20))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.ArchiveId)
	}
	// Something else fills the disk to the last byte.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for len(chunk) > 1 { // the last partial blocks too
		chunk = chunk[:len(chunk)/2]
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
	}
	f.Close()
	time.Sleep(1500 * time.Millisecond) // the server notices within a second

	// Uploads fail with a clear 5xx.
	_, err = c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(3 << 20))})
	wantAPIError(t, err, "ServiceUnavailableException", 500)
	if !strings.Contains(err.Error(), "disk is full") {
		t.Errorf("the upload's error does not say the disk is full: %v", err)
	}
	t.Logf("upload on a full disk: %v", err)
	// A small one too, though its bytes would go to the metadata
	// database (inline): the same refusal, nothing stored.
	_, err = c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(4 << 10))})
	wantAPIError(t, err, "ServiceUnavailableException", 500)
	if !strings.Contains(err.Error(), "disk is full") {
		t.Errorf("the small upload's error does not say the disk is full: %v", err)
	}
	// The operator frees space through the API.
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(ids[0])}); err != nil {
		t.Fatalf("DeleteArchive on a full disk: %v", err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: aws.String("v"), UploadId: up.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload on a full disk: %v", err)
	}
	if _, err := c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("empty")}); err != nil {
		t.Fatalf("DeleteVault on a full disk: %v", err)
	}
	// Nothing half-written.
	if entries, _ := os.ReadDir(filepath.Join(dir, "archives", "tmp")); len(entries) != 0 {
		t.Errorf("%d temporary files left after the refused upload", len(entries))
	}
	// Space comes back (the filler goes); uploads resume by themselves.
	os.Remove(filler)
	var body []byte
	deadline := time.Now().Add(20 * time.Second)
	for {
		body = randomBytes(3 << 20)
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(body)})
		if err == nil {
			ids = append(ids, *out.ArchiveId)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads did not resume after space was freed: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := retrieveArchive(t, c, "v", ids[len(ids)-1]); !bytes.Equal(got, body) {
		t.Errorf("the archive uploaded after the recovery differs")
	}
	p.stop()
	out, errOut, code := runBinary(t, bin, time.Minute, "scrub", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "checked 4 archives") {
		t.Errorf("scrub after the full disk: exit %d\n%s%s", code, out, errOut)
	}
}

// TestScrubCommandBothStores runs `permafrost scrub` against the stores of
// the test backend (the embedded ones, or PostgreSQL + S3 in the second
// run of the suite) beside the running server: a missing blob is reported
// and recorded, the rest pass, and a server's retrieval of the missing
// archive fails.
func TestScrubCommandBothStores(t *testing.T) {
	dir := t.TempDir()
	ts := mustServeDir(t, dir)
	c := ts.client()
	ctx := context.Background()
	vault := aws.String("scrubbed")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(randomBytes(1<<20 + 3))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.ArchiveId)
	}
	args := []string{"scrub"}
	if f := backendFor(t, dir); f.Meta != "" {
		args = append(args, "--meta", f.Meta, "--blobs", f.Blobs)
	} else {
		args = append(args, "--data-dir", dir)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("scrub of intact archives: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "checked 3 archives") {
		t.Errorf("scrub output: %s", out.String())
	}

	a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.stores.blobs.Delete(ctx, a.Segments[0].BlobKey); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, append(args, "--json"), &out, &errOut)
	var failed scrubFailed
	if !errors.As(err, &failed) || int(failed) != 1 {
		t.Fatalf("scrub with a missing blob: %v, want 1 damaged", err)
	}
	var rep scrubReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Archives != 3 || len(rep.Damaged) != 1 || rep.Damaged[0].ArchiveID != ids[1] || rep.Damaged[0].Vault != "scrubbed" || !strings.Contains(rep.Damaged[0].Problem, "missing") {
		t.Errorf("scrub --json report: %+v", rep)
	}
	recs, err := ts.service.DamagedArchives(ctx)
	if err != nil || len(recs) != 1 || recs[0].ArchiveID != ids[1] {
		t.Errorf("damaged archives seen by the server: %+v, %v", recs, err)
	}

	// The server's own scrubber finds it too and counts it.
	p, err := ts.service.Scrub(ctx, pf.ScrubOptions{BytesPerSecond: 64 << 20})
	if err != nil || p.Damaged != 1 || p.Archives != 3 {
		t.Errorf("service scrub: %+v, %v", p, err)
	}
	if n := ts.service.IntegrityCounters(); n.DamageFound < 1 || n.ArchivesChecked < 2 {
		t.Errorf("integrity counters: %+v", n)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
