package main

// End-to-end tests of the guarantees that must hold in operation against
// careless operators and hostile clients: the installation's region is
// fixed, the test clock is bounded, the metadata file is private, bodies
// are signed, and notifications stay in their account.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/clock"
	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestRegionIsFixed: the README's lock policy names the vault by its ARN,
// which carries the region. Restarting with another --region must not
// silently void the lock: the start is refused with one line naming both
// regions, and with the right region the lock still holds.
func TestRegionIsFixed(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "records")
	data := randomBytes(100)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("records"), Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: aws.String("records"),
		Policy: &types.VaultLockPolicy{Policy: aws.String(retentionPolicy(vaultARN(ts.AccountID, "records"), 365))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: aws.String("records"), LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	ts.advance(t, 24*time.Hour)
	dir := ts.Config.DataDir
	ts.Close()

	// Another region: refused, one line naming both.
	cfg := testConfig(t, dir)
	cfg.TestClock = true
	cfg.Region = "eu-west-1"
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	err = m.Open(ctx)
	if err == nil {
		m.Close()
		t.Fatal("serve --region eu-west-1 on a us-east-1 installation started; every lock policy naming us-east-1 ARNs would match nothing")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "us-east-1") || !strings.Contains(msg, "eu-west-1") {
		t.Fatalf("refusal %q: want one line naming both regions", msg)
	}
	// The same refusal through the command line.
	args := []string{"serve", "--listen", "127.0.0.1:0", "--region", "eu-west-1", "--data-dir", dir, "--log-level", "error"}
	if f := backendFor(t, dir); f.Meta != "" {
		args = append(args, "--meta", f.Meta, "--blobs", f.Blobs)
	}
	var stderr bytes.Buffer
	if err := run(ctx, args, io.Discard, &stderr); err == nil || !strings.Contains(err.Error(), "eu-west-1") {
		t.Fatalf("permafrost serve --region eu-west-1: %v", err)
	}

	// The right region: the lock holds; a one-day-old archive stays.
	ts2 := mustServeDirNoAccount(t, dir, true)
	ts2.AccountID, ts2.KeyID, ts2.Secret = ts.AccountID, ts.KeyID, ts.Secret
	_, err = ts2.client().DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("records"), ArchiveId: up.ArchiveId})
	wantAPIError(t, err, "AccessDeniedException", 403)

	// An installation from before the region was recorded adopts the
	// region of its first start, then keeps it.
	if err := ts2.stores.meta.PutSetting(ctx, regionSetting, ""); err != nil {
		t.Fatal(err)
	}
	ts2.Close()
	cfg = testConfig(t, dir)
	cfg.Region = "us-east-1"
	m = &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(ctx); err != nil {
		t.Fatalf("first start after the upgrade: %v", err)
	}
	if v, _ := m.stores.meta.GetSetting(ctx, regionSetting); v != "us-east-1" {
		t.Errorf("recorded region %q after the first start, want us-east-1", v)
	}
	m.Close()
	cfg.Region = "eu-west-1"
	m = &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(ctx); err == nil {
		m.Close()
		t.Fatal("the adopted region was not kept")
	}

	// A new installation records its own region, and its vault ARNs carry it.
	cfg = testConfig(t, t.TempDir())
	cfg.Region = "eu-west-1"
	m = &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	eu := &testServer{Main: m}
	eu.AccountID, eu.KeyID, eu.Secret = eu.mustCreateAccount(t, "")
	ec := glacier.New(glacier.Options{Region: "eu-west-1", BaseEndpoint: aws.String(eu.URL()), RetryMaxAttempts: 1,
		Credentials: eu.client().Options().Credentials})
	if _, err := ec.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	d, err := ec.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:glacier:eu-west-1:" + eu.AccountID + ":vaults/v"; aws.ToString(d.VaultARN) != want {
		t.Errorf("VaultARN %s, want %s", aws.ToString(d.VaultARN), want)
	}
}

// postClock posts to the test clock endpoint and returns status and body.
func postClock(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/_permafrost/v1/clock", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTestClockBounds: advance_seconds is bounded, the offset cannot
// overflow (two posts of 9.2e9 seconds used to wrap it negative), and
// after a restart the clock is never behind where it was.
func TestTestClockBounds(t *testing.T) {
	dir := t.TempDir()
	var log syncBuffer
	cfg := testConfig(t, dir)
	cfg.TestClock = true
	m := &Main{Config: cfg, Stderr: io.MultiWriter(&log, testLogWriter{t})}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Main: m}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "anyone who can reach the listener can move") ||
		!strings.Contains(log.String(), "no retention guarantee") {
		t.Errorf("no start-up warning about --test-clock in the log:\n%s", log.String())
	}

	for _, bad := range []string{`{"advance_seconds": 9.2e9}`, `{"advance_seconds": 3153600001}`, `{"advance_seconds": -1}`, `{"advance_seconds": 1e300}`} {
		status, body := postClock(t, ts.URL(), bad)
		if status != 400 || !strings.Contains(body, "advance_seconds") {
			t.Errorf("POST %s: %d %s, want 400 with a message about advance_seconds", bad, status, body)
		}
	}
	if off := ts.service.Clock.Now().Sub(time.Now()); off > time.Minute {
		t.Fatalf("refused advances moved the clock %v", off)
	}
	// 100 years twice is the most the clock may run ahead; a third is
	// refused, not wrapped.
	for range 2 {
		if status, body := postClock(t, ts.URL(), `{"advance_seconds": 3153600000}`); status != 200 {
			t.Fatalf("advance by 100 years: %d %s", status, body)
		}
	}
	status, body := postClock(t, ts.URL(), `{"advance_seconds": 3153600000}`)
	if status != 400 || !strings.Contains(body, "ahead") {
		t.Errorf("third 100-year advance: %d %s, want 400", status, body)
	}
	top := ts.service.Clock.Now()
	if top.Before(time.Now().Add(clock.MaxOffset - time.Minute)) {
		t.Fatalf("clock at %v after 200 years of advances", top)
	}
	ts.Close()

	// Restart: not a second behind.
	ts2 := mustServeDirNoAccount(t, dir, true)
	if now := ts2.service.Clock.Now(); now.Before(top) {
		t.Fatalf("after a restart the clock reads %v, before %v", now, top)
	}
	// A store whose offset wrapped under an older version: the clock does
	// not restart before the vaults it dated.
	if err := ts2.stores.meta.PutSetting(context.Background(), clock.OffsetSetting, strconv.FormatInt(-9_000_000_000_000_000_000, 10)); err != nil {
		t.Fatal(err)
	}
	ts2.Close()
	ts3 := mustServeDirNoAccount(t, dir, true)
	if now := ts3.service.Clock.Now(); now.Before(top) {
		t.Fatalf("after a restart on a wrapped offset the clock reads %v, before %v", now, top)
	}
	if status, body := postClock(t, ts3.URL(), `{"advance_seconds": 1}`); status != 400 {
		t.Errorf("advance at the bound: %d %s, want 400", status, body)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMetaFilesArePrivate: meta.db holds every secret key; it and its WAL
// and shared-memory files are 0600, and an older installation's files are
// tightened on start.
func TestMetaFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Meta, cfg.Blobs = "", "" // the embedded store, whatever the backend
	start := func() *testServer {
		m := &Main{Config: cfg, Stderr: testLogWriter{t}}
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return &testServer{Main: m}
	}
	ts := start()
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	if _, err := ts.client().ListVaults(context.Background(), &glacier.ListVaultsInput{}); err != nil {
		t.Fatal(err)
	}
	files := []string{"meta.db", "meta.db-wal", "meta.db-shm"}
	check := func(when string) {
		t.Helper()
		for _, f := range files {
			fi, err := os.Stat(filepath.Join(dir, f))
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has mode %04o, want 0600", when, f, perm)
			}
		}
	}
	check("new installation")
	// An installation created by an older version, with 0644 files.
	for _, f := range files {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts.Close()
	ts = start()
	defer ts.Close()
	check("after a restart")
}

// TestUnsignedPayloadRefusedForJSON: a captured SetVaultAccessPolicy signed
// with UNSIGNED-PAYLOAD could have its body swapped within the skew window;
// it is refused, and nothing is stored.
func TestUnsignedPayloadRefusedForJSON(t *testing.T) {
	ts := mustServe(t)
	mustCreateVault(t, ts.client(), "v")
	doc := fmt.Sprintf(`{"Policy": %q}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"`+vaultARN(ts.AccountID, "v")+`"}]}`)
	r := ts.do(t, "PUT", "/-/vaults/v/access-policy", map[string]string{"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, []byte(doc))
	wantWireError(t, r, "InvalidSignatureException", 403)
	if !strings.Contains(string(r.Body), "UNSIGNED-PAYLOAD") {
		t.Errorf("message %s does not name UNSIGNED-PAYLOAD", r.Body)
	}
	_, err := ts.client().GetVaultAccessPolicy(context.Background(), &glacier.GetVaultAccessPolicyInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	// Body-less operations too.
	wantWireError(t, ts.do(t, "GET", "/-/vaults/v", map[string]string{"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, nil), "InvalidSignatureException", 403)
	// Signed properly, the same request works.
	if r := ts.do(t, "PUT", "/-/vaults/v/access-policy", nil, []byte(doc)); r.Status != 204 {
		t.Fatalf("signed SetVaultAccessPolicy: %d %s", r.Status, r.Body)
	}
}

// TestTopicsStayInTheirAccount: a vault's notifications and a job's
// SNSTopic may only name topics of the vault's account, unless the
// operator allows the account for that topic in --sns-topics-file.
func TestTopicsStayInTheirAccount(t *testing.T) {
	recv := newNotifReceiver(t, 200)
	const (
		owner   = "111122223333" // owns the topics
		allowed = "444455556666" // allowed by the operator on one topic
	)
	topic := "arn:aws:sns:us-east-1:" + owner + ":victim"
	shared := "arn:aws:sns:us-east-1:" + owner + ":shared"
	file := filepath.Join(t.TempDir(), "topics")
	if err := os.WriteFile(file, []byte("# topic URL [allow=accounts]\n"+
		topic+" "+recv.URL+"/victim\n"+
		shared+" "+recv.URL+"/shared allow="+allowed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := jobServeDir(t, t.TempDir(), func(c *Config) {
		c.JobDelays = "none"
		c.SNSTopicsFile = file
	})
	ctx := context.Background()
	ts.mustCreateAccount(t, owner)
	_, key, secret := ts.mustCreateAccount(t, allowed)
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "") // a stranger
	stranger := ts.client()
	mustCreateVault(t, stranger, "v")
	archiveID := jobUpload(t, stranger, "v", "x", randomBytes(100))

	_, err := stranger.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{VaultName: aws.String("v"),
		VaultNotificationConfig: &types.VaultNotificationConfig{SNSTopic: aws.String(topic), Events: []string{"ArchiveRetrievalCompleted"}}})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	_, err = stranger.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	p := jobArchiveParams(archiveID, "", "")
	p.SNSTopic = aws.String(topic)
	_, err = jobInitiateErr(stranger, "v", p)
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if ids := jobListIDs(t, stranger, glacier.ListJobsInput{VaultName: aws.String("v")}); len(ids) != 0 {
		t.Errorf("a refused InitiateJob left jobs %v", ids)
	}

	// The allowed account may use the shared topic; its message arrives.
	ats := &testServer{Main: ts.Main, AccountID: allowed, KeyID: key, Secret: secret}
	ac := ats.client()
	mustCreateVault(t, ac, "w")
	aid := jobUpload(t, ac, "w", "y", randomBytes(100))
	p = jobArchiveParams(aid, "", "")
	p.SNSTopic = aws.String(shared)
	id := ats.jobInitiate(t, ac, "w", p)
	recv.wait(t, id, "want the allowed account's notification", notifDelivered("/shared"))
	// ...but not the other topic.
	p.SNSTopic = aws.String(topic)
	_, err = jobInitiateErr(ac, "w", p)
	wantAPIError(t, err, "InvalidParameterValueException", 400)

	// A cross-account configuration stored by an older version is not
	// delivered to.
	if err := ts.stores.meta.Roles().Vaults.SetNotificationConfig(ctx, ts.AccountID, "v", pf.NotificationConfig{SNSTopic: topic, Events: []string{"ArchiveRetrievalCompleted"}}); err != nil {
		t.Fatal(err)
	}
	j := ts.jobInitiate(t, stranger, "v", jobArchiveParams(archiveID, "", ""))
	jobWait(t, stranger, "v", j, types.StatusCodeSucceeded)
	// The allowed account's later job is the marker: notifications go
	// out in order.
	p.SNSTopic = aws.String(shared)
	marker := ats.jobInitiate(t, ac, "w", p)
	recv.wait(t, marker, "want the marker notification", notifDelivered("/shared"))
	if ps := recv.forJob(j); len(ps) != 0 {
		t.Errorf("the stranger's job notified another account's topic: %s", ps[0].Body)
	}
}
