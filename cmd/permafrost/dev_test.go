package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/devkey"
)

// devBuffer is a bytes.Buffer safe for a writer and a reader at once.
type devBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *devBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *devBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devServer is `permafrost serve --dev …` run in process.
type devServer struct {
	stdout, stderr *devBuffer
	url            string
	keyID, secret  string
	region         string
	stop           func() error // stops the server and returns serve's error
}

var exportsPattern = regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_DEFAULT_REGION=(\S+)\nexport AWS_ENDPOINT_URL_GLACIER=(\S+)\n`)

// startDev runs serve with args and waits for its export lines.
func startDev(t *testing.T, args ...string) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devServer{stdout: &devBuffer{}, stderr: &devBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), d.stdout, d.stderr)
	}()
	stopped := false
	var serveErr error
	d.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			serveErr = <-done
		}
		return serveErr
	}
	t.Cleanup(func() { d.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := exportsPattern.FindStringSubmatch(d.stdout.String()); m != nil {
			d.keyID, d.secret, d.region, d.url = m[1], m[2], m[3], m[4]
			return d
		}
		select {
		case err := <-done:
			stopped, serveErr = true, err
			t.Fatalf("serve %v ended before printing its exports: %v\nstdout:\n%s\nstderr:\n%s", args, err, d.stdout, d.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve %v printed no exports in time:\nstdout:\n%s\nstderr:\n%s", args, d.stdout, d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *devServer) client() *glacier.Client {
	return glacier.New(glacier.Options{
		Region:           d.region,
		BaseEndpoint:     aws.String(d.url),
		Credentials:      credentials.NewStaticCredentialsProvider(d.keyID, d.secret, ""),
		RetryMaxAttempts: 1,
	})
}

// TestDevPreset: --dev prints a one-line banner and ready export lines for
// the well-known key, jobs complete at once, counts are live, the test
// endpoints answer, and the temporary data directory goes at exit.
func TestDevPreset(t *testing.T) {
	d := startDev(t, "--dev")
	out := d.stdout.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "# ") || !strings.Contains(lines[0], "NO retention guarantee") {
		t.Fatalf("stdout = %q, want a one-line banner saying there is no retention guarantee, then two export lines", out)
	}
	if d.keyID != devkey.AccessKeyID || d.secret != devkey.SecretAccessKey || d.region != "us-east-1" {
		t.Errorf("exports = %s %s %s, want the well-known key in us-east-1", d.keyID, d.secret, d.region)
	}
	dir := regexp.MustCompile(`temporary (\S+), removed at exit`).FindStringSubmatch(lines[0])
	if dir == nil {
		t.Fatalf("banner %q does not name the temporary data directory", lines[0])
	}
	if _, err := os.Stat(filepath.Join(dir[1], "meta.db")); err != nil {
		t.Fatalf("temporary data directory: %v", err)
	}

	c := d.client()
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("dev data"))})
	if err != nil {
		t.Fatal(err)
	}
	dv, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || dv.NumberOfArchives != 1 || aws.ToString(dv.VaultARN) != "arn:aws:glacier:us-east-1:"+devkey.AccountID+":vaults/v" {
		t.Fatalf("DescribeVault = %+v, %v; want the archive counted at once in the well-known account", dv, err)
	}
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{AccountId: aws.String("-"), VaultName: aws.String("v"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId, Tier: aws.String("Bulk")}})
	if err != nil {
		t.Fatal(err)
	}
	devWaitJob(t, c, "v", aws.ToString(job.JobId), 5*time.Second)

	// The test endpoints are on, and a fault is named in the request log.
	for _, path := range []string{"/_permafrost/v1/clock", "/_permafrost/v1/faults"} {
		resp, err := http.Get(d.url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s = %v, %v; want 200", path, resp, err)
		}
		resp.Body.Close()
	}
	devPost(t, d.url+"/_permafrost/v1/faults", `{"operation": "ListVaults", "count": 1, "error": "ThrottlingException"}`, 201)
	if _, err := c.ListVaults(ctx, &glacier.ListVaultsInput{AccountId: aws.String("-")}); err == nil {
		t.Fatal("ListVaults under a ThrottlingException rule succeeded")
	}
	// Request lines are written within the log's flush interval.
	faultLine := regexp.MustCompile(`op=ListVaults .*status=400 .*error=ThrottlingException .*fault="fault-1 error=ThrottlingException"`)
	for deadline := time.Now().Add(5 * time.Second); !faultLine.MatchString(d.stderr.String()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the request log does not name the fault:\n%s", d.stderr.String())
			break
		}
	}

	if err := d.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(dir[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary data directory after exit: %v; want it removed", err)
	}
}

// TestDevOverrides: each preset value yields to its own flag or
// environment variable; a --data-dir given stays after exit.
func TestDevOverrides(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PERMAFROST_ACCESS_KEY_ID", "AKIAOVERRIDE00000001")
	t.Setenv("PERMAFROST_SECRET_ACCESS_KEY", "override-secret-0000000000000000000000000")
	t.Setenv("PERMAFROST_ACCOUNT_ID", "123456789012")
	d := startDev(t, "--dev", "--data-dir", dir, "--job-delays", "bulk=5h", "--inventory-interval", "24h", "--region", "eu-west-1")
	if d.keyID != "AKIAOVERRIDE00000001" || d.secret != "override-secret-0000000000000000000000000" || d.region != "eu-west-1" {
		t.Errorf("exports = %s %s %s, want the key from the environment in eu-west-1", d.keyID, d.secret, d.region)
	}
	if banner := d.stdout.String(); !strings.Contains(banner, "data in "+dir+")") {
		t.Errorf("banner %q does not name the data directory %s", banner, dir)
	}
	c := d.client()
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	dv, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || dv.NumberOfArchives != 0 || !strings.Contains(aws.ToString(dv.VaultARN), ":123456789012:") {
		t.Fatalf("DescribeVault = %+v, %v; want no archive counted yet (daily inventory) in account 123456789012", dv, err)
	}
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{AccountId: aws.String("-"), VaultName: aws.String("v"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId, Tier: aws.String("Bulk")}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	dj, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{AccountId: aws.String("-"), VaultName: aws.String("v"), JobId: job.JobId})
	if err != nil || dj.Completed {
		t.Fatalf("DescribeJob = %+v, %v; want a Bulk job still running with --job-delays bulk=5h", dj, err)
	}
	devPost(t, d.url+"/_permafrost/v1/clock", `{"advance_seconds": 18001}`, 200)
	devWaitJob(t, c, "v", aws.ToString(job.JobId), 5*time.Second)
	if err := d.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		t.Errorf("the --data-dir given: %v; want it kept", err)
	}

	// Restarted on the same directory, the key is kept and printed again.
	d = startDev(t, "--dev", "--data-dir", dir, "--region", "eu-west-1")
	if d.keyID != "AKIAOVERRIDE00000001" {
		t.Errorf("restart exports key %s", d.keyID)
	}

	// --test-clock=false turns the test endpoints off.
	d.stop()
	d = startDev(t, "--dev", "--data-dir", dir, "--region", "eu-west-1", "--test-clock=false")
	if banner := d.stdout.String(); !strings.Contains(banner, "NO retention guarantee (test clock, reset and fault endpoints off") {
		t.Errorf("banner with --test-clock=false = %q", banner)
	}
	for _, path := range []string{"/_permafrost/v1/clock", "/_permafrost/v1/reset", "/_permafrost/v1/faults"} {
		devPost(t, d.url+path, `{}`, 404)
	}
}

// TestTestEndpointsNeedTestClock: without --test-clock or --dev, reset and
// faults do not exist.
func TestTestEndpointsNeedTestClock(t *testing.T) {
	ts := mustServeDirNoAccount(t, t.TempDir(), false)
	devPost(t, ts.URL()+"/_permafrost/v1/reset", `{}`, 404)
	devPost(t, ts.URL()+"/_permafrost/v1/faults", `{"operation": "*", "error": "ThrottlingException"}`, 404)
	resp, err := http.Get(ts.URL() + "/_permafrost/v1/faults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET faults without the test clock: %d, want 404", resp.StatusCode)
	}
}

// devPost posts body and fails t unless the status is want.
func devPost(t *testing.T, url, body string, want int) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: status %d (%s), want %d", url, resp.StatusCode, b, want)
	}
	return b
}

// devWaitJob waits until the job completed successfully.
func devWaitJob(t *testing.T, c *glacier.Client, vault, id string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, err := c.DescribeJob(t.Context(), &glacier.DescribeJobInput{AccountId: aws.String("-"), VaultName: aws.String(vault), JobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Completed {
			if d.StatusCode != types.StatusCodeSucceeded {
				t.Fatalf("job %s: %s (%s)", id, d.StatusCode, aws.ToString(d.StatusMessage))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not complete within %v", id, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
