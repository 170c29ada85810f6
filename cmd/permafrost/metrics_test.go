package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/treehash"
)

// scrape fetches /metrics and returns each sample line's value by its
// name and labels as printed ("name{a=\"b\"}").
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		out[l[:i]] = v
	}
	return out
}

// TestMetricsScrape drives known traffic through a server with
// --metrics-listen and checks what /metrics says about it.
func TestMetricsScrape(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.JobDelays = "none"
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	ctx := context.Background()
	metricsURL := "http://" + m.metricsLn.Addr().String() + "/metrics"

	vault := aws.String("metered")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	sizes := []int{1000, 250_000, 1 << 20}
	var total int
	var last *string
	for _, n := range sizes {
		data := randomBytes(n)
		total += n
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
		if err != nil {
			t.Fatal(err)
		}
		last = out.ArchiveId
	}
	_, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("no-such-vault")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	// A retrieval job, finished at once (--job-delays none), read back.
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: last}})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the job to finish", func() bool {
		d, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: vault, JobId: job.JobId})
		return err == nil && d.Completed
	})
	out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()

	// Vault Lock: initiate, then abort.
	arn := "arn:aws:glacier:us-east-1:" + ts.AccountID + ":vaults/metered"
	if _, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &gtypes.VaultLockPolicy{Policy: aws.String(retentionPolicy(arn, 1))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortVaultLock(ctx, &glacier.AbortVaultLockInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	// The request metrics are written after the response: give the last
	// request's middleware a moment.
	var s map[string]float64
	deadline := time.Now().Add(5 * time.Second)
	for {
		s = scrape(t, metricsURL)
		if s[`permafrost_requests_total{code="",operation="AbortVaultLock",status="204"}`] == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]float64{
		`permafrost_requests_total{code="",operation="CreateVault",status="201"}`:                            1,
		`permafrost_requests_total{code="",operation="UploadArchive",status="201"}`:                          3,
		`permafrost_requests_total{code="ResourceNotFoundException",operation="DescribeVault",status="404"}`: 1,
		`permafrost_requests_total{code="",operation="GetJobOutput",status="200"}`:                           1,
		`permafrost_request_duration_seconds_count{operation="UploadArchive"}`:                               3,
		`permafrost_request_bytes_total{operation="UploadArchive"}`:                                          float64(total),
		`permafrost_response_bytes_total{operation="GetJobOutput"}`:                                          float64(len(got)),
		`permafrost_vault_lock_transitions_total{transition="initiate"}`:                                     1,
		`permafrost_vault_lock_transitions_total{transition="abort"}`:                                        1,
		`permafrost_jobs{status="Succeeded"}`:                                                                1,
		`permafrost_jobs{status="InProgress"}`:                                                               0,
		`permafrost_notification_backlog`:                                                                    0,
		`permafrost_metadata_scrape_error`:                                                                   0,
		`permafrost_damaged_archives`:                                                                        0,
		`permafrost_scrub_archives_checked_total`:                                                            0,
		`permafrost_requests_total{code="",operation="Health",status="200"}`:                                 0,
	}
	for k, v := range want {
		if got, ok := s[k]; v != 0 && got != v || v == 0 && ok && got != 0 {
			t.Errorf("%s = %v (present %t), want %v", k, got, ok, v)
		}
	}
	if len(got) != sizes[len(sizes)-1] {
		t.Errorf("job output %d bytes, want %d", len(got), sizes[len(sizes)-1])
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_open_fds",
		`permafrost_request_duration_seconds_bucket{operation="UploadArchive",le="+Inf"}`} {
		if _, ok := s[name]; !ok {
			t.Errorf("no %s in the scrape", name)
		}
	}
	// The hooks the scrubber feeds.
	m.metrics.ArchiveScrubbed(100)
	m.metrics.ScrubProgress(1, 4)
	s = scrape(t, metricsURL)
	if s["permafrost_scrub_archives_checked_total"] != 1 || s["permafrost_scrub_pass_progress_ratio"] != 0.25 || s["permafrost_damaged_archives"] != 0 {
		t.Errorf("scrub hooks: checked %v progress %v damaged %v", s["permafrost_scrub_archives_checked_total"], s["permafrost_scrub_pass_progress_ratio"], s["permafrost_damaged_archives"])
	}
	// Metrics are not on the Glacier port.
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Errorf("/metrics answers on the Glacier port")
	}
}
