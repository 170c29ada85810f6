package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// testServer is a running permafrost with the root key of one account.
type testServer struct {
	*Main
	AccountID string
	KeyID     string
	Secret    string
}

// mustServe starts the real program on a loopback port in a temporary data
// directory, with the test clock on, and stops it when the test ends.
func mustServe(tb testing.TB) *testServer {
	tb.Helper()
	return mustServeDir(tb, tb.TempDir())
}

func mustServeDir(tb testing.TB, dir string) *testServer {
	tb.Helper()
	ts := mustServeDirNoAccount(tb, dir, true)
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(tb, "")
	return ts
}

// mustServeDirNoAccount starts a server on dir without creating an account.
func mustServeDirNoAccount(tb testing.TB, dir string, testClock bool) *testServer {
	tb.Helper()
	cfg := testConfig(tb, dir)
	cfg.TestClock = testClock
	m := &Main{Config: cfg, Stderr: testLogWriter{tb}}
	if err := m.Open(context.Background()); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	return &testServer{Main: m}
}

// testBackend chooses the stores every end-to-end test runs against: ""
// for the embedded default, "postgres-s3" for PostgreSQL and an
// S3-compatible bucket (versitygw), started by internal/testenv. scripts/test
// runs the suite once for each: one suite, two configurations.
var testBackend = os.Getenv("PERMAFROST_TEST_BACKEND")

// backendStores remembers the database and bucket given to a data
// directory, so a test that restarts a server on the same directory gets
// the same stores back.
var backendStores sync.Map // data dir → storeFlags

// testConfig is the serve configuration of a test server on dir: loopback
// port 0, quiet logs, live vault counts (the inventory interval has its own
// tests) and the stores of testBackend.
func testConfig(tb testing.TB, dir string) Config {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.LogLevel = "warn"
	cfg.InventoryInterval = 0
	f := backendFor(tb, dir)
	cfg.Meta, cfg.Blobs = f.Meta, f.Blobs
	return cfg
}

// backendFor returns the stores of testBackend for the data directory dir,
// the same ones on every call: empty flags (the embedded stores in dir) or
// a fresh database and bucket.
func backendFor(tb testing.TB, dir string) storeFlags {
	tb.Helper()
	switch testBackend {
	case "":
		return storeFlags{}
	case "postgres-s3":
		v, ok := backendStores.Load(dir)
		if !ok {
			v = storeFlags{Meta: testenv.PostgresDSN(tb), Blobs: testenv.S3URL(tb)}
			backendStores.Store(dir, v)
		}
		return v.(storeFlags)
	}
	tb.Fatalf("PERMAFROST_TEST_BACKEND=%q: want empty (embedded) or postgres-s3", testBackend)
	return storeFlags{}
}

// storeArgs are the flags that point an operator command (accounts, keys,
// users) at the stores of the test server on dir.
func storeArgs(tb testing.TB, dir string) []string {
	tb.Helper()
	if f := backendFor(tb, dir); f.Meta != "" {
		return []string{"--meta", f.Meta}
	}
	return []string{"--data-dir", dir}
}

// mustCreateAccount creates an account with a root key in the server's
// store, as `permafrost accounts create` does.
func (ts *testServer) mustCreateAccount(tb testing.TB, id string) (account, keyID, secret string) {
	tb.Helper()
	ctx := context.Background()
	if id == "" {
		id = newAccountID()
	}
	if err := ts.stores.meta.CreateAccount(ctx, pf.Account{ID: id, CreatedAt: time.Now().UTC()}); err != nil {
		tb.Fatalf("create account: %v", err)
	}
	k := newAccessKey(id, "", time.Now().UTC())
	if err := ts.stores.meta.CreateAccessKey(ctx, k); err != nil {
		tb.Fatalf("create key: %v", err)
	}
	return id, k.ID, k.Secret
}

// client returns an aws-sdk-go-v2 Glacier client for the server's root key.
func (ts *testServer) client() *glacier.Client {
	return ts.clientFor(ts.KeyID, ts.Secret)
}

func (ts *testServer) clientFor(keyID, secret string) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:   &http.Client{Timeout: 10 * time.Minute},
		// Limit SDK retries so error tests see the server's first answer
		// quickly; LimitExceededException is retryable for the SDK.
		RetryMaxAttempts: 1,
	})
}

// advance moves the server's test clock forward.
func (ts *testServer) advance(tb testing.TB, d time.Duration) {
	tb.Helper()
	body := fmt.Sprintf(`{"advance_seconds": %d}`, int64(d/time.Second))
	resp, err := http.Post(ts.URL()+"/_permafrost/v1/clock", "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatalf("advance clock: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("advance clock: status %d", resp.StatusCode)
	}
}

// wantAPIError checks that err is the Glacier error code with the status.
func wantAPIError(tb testing.TB, err error, code string, status int) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s (%d)", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		tb.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		tb.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if ae.ErrorMessage() == "" {
		tb.Errorf("%s has an empty message", code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		tb.Fatalf("no HTTP response in %v", err)
	}
	if got := re.HTTPStatusCode(); got != status {
		tb.Fatalf("status = %d, want %d (%s: %s)", got, status, code, ae.ErrorMessage())
	}
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// testLogWriter sends server logs to the test log.
type testLogWriter struct{ tb testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rawResponse is a response read whole, for tests that look at the wire.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a SigV4-signed request built by hand, for wire details and
// inputs the SDK would refuse to send.
func (ts *testServer) do(tb testing.TB, method, path string, header map[string]string, body []byte) rawResponse {
	tb.Helper()
	req, err := http.NewRequest(method, ts.URL()+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if v := req.Header.Get("x-amz-content-sha256"); v != "" {
		payload = v
	}
	creds := aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "glacier", "us-east-1", time.Now()); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, b}
}

// wantWireError checks a raw response is the Glacier error envelope.
func wantWireError(tb testing.TB, r rawResponse, code string, status int) {
	tb.Helper()
	var e struct{ Code, Message, Type *string }
	if err := json.Unmarshal(r.Body, &e); err != nil {
		tb.Fatalf("error body %q: %v", r.Body, err)
	}
	if r.Status != status || e.Code == nil || *e.Code != code {
		tb.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	wantType := "Client"
	if status >= 500 {
		wantType = "Server"
	}
	if e.Message == nil || *e.Message == "" || e.Type == nil || *e.Type != wantType {
		tb.Fatalf("envelope %s: want non-empty message and type %s", r.Body, wantType)
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("x-amzn-RequestId") == "" {
		tb.Fatalf("headers %v", r.Header)
	}
}
