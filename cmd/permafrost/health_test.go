package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// healthReport is GET /_permafrost/v1/health's body.
type healthReport struct {
	Status  string
	Failing []string
	Checks  map[string]struct {
		Status    string
		LatencyMS float64 `json:"latency_ms"`
		Error     string
	}
}

func getHealth(t *testing.T, base string) (int, healthReport) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/_permafrost/v1/health")
	if err != nil {
		t.Fatalf("GET health: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r healthReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("health body %q: %v", b, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("health Content-Type %q", ct)
	}
	return resp.StatusCode, r
}

// TestHealthWithStoppedEngines: the health endpoint answers 200 while
// PostgreSQL and the S3 server answer, 503 naming the store that does not
// (within its short timeout), and 200 again when it is back; the outage
// is logged a few times, not once per failing request.
func TestHealthWithStoppedEngines(t *testing.T) {
	pg := testenv.NewPostgresServer(t)
	gw := testenv.NewVersitygwServer(t)
	bucket := gw.Bucket(t)
	bucket.SetEnv(t)
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "info"
	cfg.Meta, cfg.Blobs = pg.DSN, bucket.URL
	cfg.MetricsListen = "127.0.0.1:0"
	logs := &lockedBuffer{}
	m := &Main{Config: cfg, Stderr: logs}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	ctx := context.Background()

	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if code, r := getHealth(t, m.URL()); code != 200 || r.Status != "ok" || r.Checks["metadata"].Status != "ok" || r.Checks["blobs"].Status != "ok" {
		t.Fatalf("healthy node: %d %+v", code, r)
	}
	// Unauthenticated and cheap: no signature needed, and it is logged at
	// debug level only.
	if strings.Contains(logs.String(), "/_permafrost/v1/health") {
		t.Errorf("health probes are logged at info level")
	}

	wait := func(what string, want int, failing string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			start := time.Now()
			code, r := getHealth(t, m.URL())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s: the health check took %v", what, took)
			}
			if code == want && (failing == "" && len(r.Failing) == 0 || len(r.Failing) == 1 && r.Failing[0] == failing && r.Checks[failing].Error != "") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: health %d %+v, want %d failing %q", what, code, r, want, failing)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	pg.Stop(t)
	wait("PostgreSQL stopped", 503, "metadata")
	// Requests during the outage fail, but the log does not grow by a
	// line per request.
	before := strings.Count(logs.String(), "request failed")
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.ListVaults(ctx, &glacier.ListVaultsInput{})
		}()
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "request failed") - before; n > 2 {
		t.Errorf("40 failing requests during the outage logged %d \"request failed\" lines, want at most 2", n)
	}
	if !strings.Contains(logs.String(), "request failed") {
		t.Errorf("the outage was not logged at all:\n%s", logs.String())
	}
	// The background loops poll twice a second each: their failures too
	// are logged once per interval.
	time.Sleep(2 * time.Second)
	for _, msg := range []string{"scheduler pass failed", "notify: delivering notifications"} {
		n := strings.Count(logs.String(), msg)
		t.Logf("%q logged %d times during the outage", msg, n)
		if n > 1 {
			t.Errorf("%q logged %d times during a short outage, want at most 1", msg, n)
		}
	}
	pg.Start(t)
	wait("PostgreSQL back", 200, "")

	gw.Stop(t)
	wait("S3 server stopped", 503, "blobs")
	data := randomBytes(1 << 20)
	_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	wantUnavailable(t, "UploadArchive without the S3 server", err)
	gw.Start(t)
	wait("S3 server back", 200, "")

	// The metrics saw both outages.
	sc := scrape(t, "http://"+m.metricsLn.Addr().String()+"/metrics")
	for _, k := range []string{`permafrost_store_errors_total{store="metadata"}`, `permafrost_store_errors_total{store="blobs"}`,
		`permafrost_health_check_failures_total{check="metadata"}`, `permafrost_health_check_failures_total{check="blobs"}`} {
		if sc[k] < 1 {
			t.Errorf("%s = %v after the outage, want at least 1", k, sc[k])
		}
	}

	// And the node works.
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("after"), Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())}); err != nil {
		t.Fatal(err)
	}
}
