package main

// End-to-end tests of "nothing is learnt and nothing is held before the
// signature verifies": session tokens, the existence oracle of forged and
// stale requests, the bound on unverified upload bytes, and stalled bodies.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
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
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

// signing describes how a hand-made request is signed.
type signing struct {
	keyID, secret string
	at            time.Time // zero: now
	token         string    // X-Amz-Security-Token
	presign       bool      // query signature instead of the header
	contentSHA    bool      // send x-amz-content-sha256
	payload       string    // the payload hash signed; "" for the body's SHA-256
}

// signedRequest builds a request to ts signed as s describes. body may be
// a stream of size bytes; its SHA-256 is then not computed unless
// s.payload is empty.
func signedRequest(t *testing.T, base, method, path string, header map[string]string, body io.Reader, size int64, s signing) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if !s.presign {
		req.Header.Set("x-amz-glacier-version", "2012-06-01")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	payload := s.payload
	if payload == "" {
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		payload = hex.EncodeToString(sum[:])
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = nil
	}
	if s.contentSHA {
		req.Header.Set("x-amz-content-sha256", payload)
	}
	at := s.at
	if at.IsZero() {
		at = time.Now()
	}
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret, SessionToken: s.token}
	if s.presign {
		u, signed, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payload, "glacier", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		preq, _ := http.NewRequest(method, u, req.Body)
		preq.ContentLength = size
		for k, vs := range signed {
			if !strings.EqualFold(k, "Host") {
				preq.Header[k] = vs
			}
		}
		return preq
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "glacier", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

// everyRoute lists one request per Glacier operation of the route table.
func everyRoute() [][2]string {
	const v = "/-/vaults/v"
	const up = v + "/multipart-uploads/Upl0adIdUpl0adIdUpl0adIdUpl0adIdUpl0adIdUpl0adId"
	return [][2]string{
		{"GET", "/-/vaults"}, {"PUT", v}, {"GET", v}, {"DELETE", v},
		{"PUT", v + "/access-policy"}, {"GET", v + "/access-policy"}, {"DELETE", v + "/access-policy"},
		{"POST", v + "/lock-policy"}, {"GET", v + "/lock-policy"}, {"POST", v + "/lock-policy/AE863rKkWZU53SLW5be4DUcW"}, {"DELETE", v + "/lock-policy"},
		{"GET", v + "/tags"}, {"POST", v + "/tags?operation=add"}, {"POST", v + "/tags?operation=remove"},
		{"PUT", v + "/notification-configuration"}, {"GET", v + "/notification-configuration"}, {"DELETE", v + "/notification-configuration"},
		{"POST", v + "/archives"}, {"DELETE", v + "/archives/NkbByEejwEggmBz2fTHgJrg0XBoDfjP4q6iu87-TjhqG6eGoOY9Z8i1_AUyUsuhPAdTqLHy8pTl5nfCFJmDl2yEZONi5L26Omw12vcs01MNGntHEQL8MBfGlqrEXAMPLEArchiveId"},
		{"POST", v + "/multipart-uploads"}, {"GET", v + "/multipart-uploads"}, {"PUT", up}, {"POST", up}, {"DELETE", up}, {"GET", up},
		{"POST", v + "/jobs"}, {"GET", v + "/jobs"}, {"GET", v + "/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID"},
		{"GET", v + "/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output"},
		{"GET", "/-/policies/data-retrieval"}, {"PUT", "/-/policies/data-retrieval"},
		{"POST", "/-/provisioned-capacity"}, {"GET", "/-/provisioned-capacity"},
	}
}

// TestSecurityTokenRefusedFirst: this server issues no temporary
// credentials, so a request carrying X-Amz-Security-Token, in the header or
// a presigned query, is refused as AWS refuses an unknown token, before
// anything else: with a valid key or an unknown one, and without doing what
// it asks.
func TestSecurityTokenRefusedFirst(t *testing.T) {
	ts := mustServe(t)
	body := []byte(`{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`)
	for _, rt := range everyRoute() {
		for _, s := range []signing{
			{keyID: ts.KeyID, secret: ts.Secret, token: "FwoGZXIvYXdzEBYaDEXAMPLETOKEN"},
			{keyID: ts.KeyID, secret: ts.Secret, token: "FwoGZXIvYXdzEBYaDEXAMPLETOKEN", presign: true},
			{keyID: "AKIANOSUCHKEY0000000", secret: "x", token: "t"},
		} {
			var b []byte
			if rt[0] == "PUT" || rt[0] == "POST" {
				b = body
			}
			r := send(t, signedRequest(t, ts.URL(), rt[0], rt[1], nil, bytes.NewReader(b), int64(len(b)), s))
			what := fmt.Sprintf("%s %s (presigned %v, key %s)", rt[0], rt[1], s.presign, s.keyID)
			if r.Status != 403 || !strings.Contains(string(r.Body), `"UnrecognizedClientException"`) ||
				!strings.Contains(string(r.Body), "The security token included in the request is invalid.") {
				t.Errorf("%s with a security token: %d %s", what, r.Status, r.Body)
			}
		}
	}
	// Nothing was done: no vault, no purchased capacity, the default
	// retrieval policy (None) unchanged.
	c := ts.client()
	ctx := context.Background()
	if out, err := c.ListVaults(ctx, &glacier.ListVaultsInput{}); err != nil || len(out.VaultList) != 0 {
		t.Errorf("ListVaults after refused requests: %v, %v", out, err)
	}
	if out, err := c.ListProvisionedCapacity(ctx, &glacier.ListProvisionedCapacityInput{}); err != nil || len(out.ProvisionedCapacityList) != 0 {
		t.Errorf("ListProvisionedCapacity after refused requests: %v, %v", out, err)
	}
	if out, err := c.GetDataRetrievalPolicy(ctx, &glacier.GetDataRetrievalPolicyInput{}); err != nil || aws.ToString(out.Policy.Rules[0].Strategy) != "None" {
		t.Errorf("GetDataRetrievalPolicy after refused requests: %v, %v", out, err)
	}
}

// TestNoExistenceOracle: until its signature verifies, a request's answer
// may not depend on whether a vault, upload, user or permission exists.
// Forged (wrong secret) and stale (signed 20 minutes ago) requests for
// existing and missing things, from a root key and from a user with no
// permission, header-signed JSON operations and deferred-signature uploads
// alike, all get the same signature error, and nothing is stored.
func TestNoExistenceOracle(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "exists")
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("exists"), PartSize: aws.String(strconv.Itoa(1 << 20))})
	if err != nil {
		t.Fatal(err)
	}
	upload := aws.ToString(init.UploadId)
	nobody, _ := ts.createUser(t, ts.AccountID, "nobody", "")
	const missingUpload = "Upl0adIdUpl0adIdUpl0adIdUpl0adIdUpl0adIdUpl0adId"

	data := randomBytes(4096)
	tree := treehash.Sum(data).String()
	policy := []byte(fmt.Sprintf(`{"Policy": %q}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"*"}]}`))
	type target struct {
		name, method, path string
		header             map[string]string
		body               []byte
	}
	var targets []target
	for _, vault := range []string{"/-/vaults/exists", "/-/vaults/missing", "/999999999999/vaults/exists"} {
		targets = append(targets,
			target{"DescribeVault", "GET", vault, nil, nil},
			target{"SetVaultAccessPolicy", "PUT", vault + "/access-policy", nil, policy},
			target{"UploadArchive (deferred)", "POST", vault + "/archives", map[string]string{"x-amz-sha256-tree-hash": tree}, data},
		)
		for _, u := range []string{upload, missingUpload} {
			targets = append(targets,
				target{"ListParts", "GET", vault + "/multipart-uploads/" + u, nil, nil},
				target{"UploadMultipartPart (deferred)", "PUT", vault + "/multipart-uploads/" + u,
					map[string]string{"x-amz-sha256-tree-hash": tree, "Content-Range": fmt.Sprintf("bytes 0-%d/*", len(data)-1)}, data},
			)
		}
	}
	for _, key := range []struct{ name, id, secret string }{{"root", ts.KeyID, ts.Secret}, {"user nobody", nobody.AccessKeyID, nobody.SecretAccessKey}} {
		for _, variant := range []struct {
			name string
			s    signing
			msg  string
		}{
			{"forged", signing{keyID: key.id, secret: "forged-secret-forged-secret-forged-secre"}, "The request signature we calculated does not match the signature you provided."},
			{"stale", signing{keyID: key.id, secret: key.secret, at: time.Now().Add(-20 * time.Minute)}, "Signature expired"},
		} {
			for _, tg := range targets {
				r := send(t, signedRequest(t, ts.URL(), tg.method, tg.path, tg.header, bytes.NewReader(tg.body), int64(len(tg.body)), variant.s))
				what := fmt.Sprintf("%s %s %s by %s", variant.name, tg.name, tg.path, key.name)
				if r.Status != 403 || !strings.Contains(string(r.Body), `"InvalidSignatureException"`) || !strings.Contains(string(r.Body), variant.msg) {
					t.Errorf("%s: %d %s; want 403 InvalidSignatureException %q whatever exists", what, r.Status, r.Body, variant.msg)
				}
				for _, leak := range []string{"not found", "Vault", "AccessDenied", "nobody", "upload"} {
					if strings.Contains(string(r.Body), leak) {
						t.Errorf("%s: answer %s mentions %q", what, r.Body, leak)
					}
				}
			}
		}
	}
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("exists")})
	if err != nil || d.NumberOfArchives != 0 {
		t.Errorf("after forged uploads: %+v, %v", d, err)
	}
	parts, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("exists"), UploadId: aws.String(upload)})
	if err != nil || len(parts.Parts) != 0 {
		t.Errorf("after forged parts: %+v, %v", parts, err)
	}
	wantTmpEmpty(t, ts)

	// Correctly signed, the same deferred requests are looked up and
	// authorized once the body verified.
	s := signing{keyID: ts.KeyID, secret: ts.Secret}
	wantWireError(t, send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/missing/archives", map[string]string{"x-amz-sha256-tree-hash": tree}, bytes.NewReader(data), int64(len(data)), s)), "ResourceNotFoundException", 404)
	us := signing{keyID: nobody.AccessKeyID, secret: nobody.SecretAccessKey}
	wantWireError(t, send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/exists/archives", map[string]string{"x-amz-sha256-tree-hash": tree}, bytes.NewReader(data), int64(len(data)), us)), "AccessDeniedException", 403)
	r := send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/exists/archives", map[string]string{"x-amz-sha256-tree-hash": tree}, bytes.NewReader(data), int64(len(data)), s))
	if r.Status != 201 {
		t.Fatalf("signed deferred upload: %d %s", r.Status, r.Body)
	}
	r = send(t, signedRequest(t, ts.URL(), "PUT", "/-/vaults/exists/multipart-uploads/"+upload,
		map[string]string{"x-amz-sha256-tree-hash": tree, "Content-Range": fmt.Sprintf("bytes 0-%d/*", len(data)-1)}, bytes.NewReader(data), int64(len(data)), s))
	if r.Status != 204 {
		t.Fatalf("signed deferred part: %d %s", r.Status, r.Body)
	}
	wantTmpEmpty(t, ts)
}

// tmpDir is where the embedded blob store streams uploads; "" for other
// backends.
func tmpDir(ts *testServer) string {
	if ts.Config.Blobs != "" {
		return ""
	}
	return filepath.Join(ts.Config.DataDir, "archives", "tmp")
}

// tmpBytes is the size of the files in the blob store's tmp directory.
func tmpBytes(t *testing.T, ts *testServer) (n int64, files int) {
	t.Helper()
	dir := tmpDir(ts)
	if dir == "" {
		return 0, 0
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
			files++
		}
	}
	return n, files
}

func wantTmpEmpty(t *testing.T, ts *testServer) {
	t.Helper()
	if n, files := tmpBytes(t, ts); files != 0 {
		t.Errorf("the blob store's tmp holds %d files (%d bytes) of rejected uploads", files, n)
	}
}

// zeroReader is size zero bytes that can be paused after pauseAt bytes
// until release is closed; it counts what was read.
type zeroReader struct {
	size, pauseAt int64
	release       chan struct{}
	read          atomic.Int64
}

func (z *zeroReader) Read(p []byte) (int, error) {
	n := z.read.Load()
	if n >= z.size {
		return 0, io.EOF
	}
	if z.release != nil && n >= z.pauseAt {
		<-z.release
		return 0, io.ErrUnexpectedEOF
	}
	lim := z.size - n
	if z.release != nil {
		lim = min(lim, z.pauseAt-n)
	}
	if int64(len(p)) > lim {
		p = p[:lim]
	}
	clear(p)
	z.read.Add(int64(len(p)))
	return len(p), nil
}

// TestForgedDeferredUploadIsBounded: someone holding only an access key
// id sends uploads without x-amz-content-sha256, whose signature can only
// be checked after the body. The bytes held for such bodies are bounded
// server-wide; past the bound further deferred uploads get a retriable
// error at once; a forged body's bytes are removed as soon as it fails;
// and real uploads keep working.
func TestForgedDeferredUploadIsBounded(t *testing.T) {
	const limit = 256 << 20
	ts := jobServe(t, func(c *Config) {
		c.MaxUnverifiedUploadBytes = limit
		c.BodyIdleTimeout = 5 * time.Second
	})
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	forged := signing{keyID: ts.KeyID, secret: "forged-secret-forged-secret-forged-secre", payload: strings.Repeat("0", 64)}
	tree := map[string]string{"x-amz-sha256-tree-hash": strings.Repeat("0", 64)}

	// A forged 200 MiB upload streams (within the bound) and is refused
	// with the signature error; its bytes are gone at once.
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if n, _ := tmpBytes(t, ts); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	big := &zeroReader{size: 200 << 20}
	r := send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/v/archives", tree, big, big.size, forged))
	wantWireError(t, r, "InvalidSignatureException", 403)
	wantTmpEmpty(t, ts)
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Errorf("a forged upload put %d bytes in tmp, more than the bound %d", p, limit)
	}
	t.Logf("forged 200 MiB upload: peak %d MiB in tmp, refused with %s", peak.Load()>>20, r.Body)

	large := randomBytes(64 << 20)
	largeTree, largeSHA := treehash.Sum(large).String(), sha256Hex(large)
	data := randomBytes(1 << 20)

	// A forged upload that declares 200 MiB and stalls holds its
	// reservation until the body idle timeout ends it.
	stall := &zeroReader{size: 200 << 20, pauseAt: 4 << 20, release: make(chan struct{})}
	stalled := make(chan rawResponse, 1)
	go func() {
		req := signedRequest(t, ts.URL(), "POST", "/-/vaults/v/archives", tree, stall, stall.size, forged)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			stalled <- rawResponse{Status: -1, Body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		stalled <- rawResponse{resp.StatusCode, resp.Header, b}
	}()
	for stall.read.Load() < 4<<20 {
		time.Sleep(5 * time.Millisecond)
	}
	// Meanwhile: another forged deferred upload of 100 MiB does not fit
	// and is refused at once, retriably, without its body being read.
	start := time.Now()
	more := &zeroReader{size: 100 << 20}
	r = send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/v/archives", tree, more, more.size, forged))
	wantWireError(t, r, "ServiceUnavailableException", 500)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	// Real uploads keep working: through the SDK...
	if _, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())}); err != nil {
		t.Fatalf("a real upload during the attack: %v", err)
	}
	// ...small deferred ones (no x-amz-content-sha256, as aws-sdk-go-v2
	// sends when given an unseekable body) fit beside it...
	good := signing{keyID: ts.KeyID, secret: ts.Secret}
	deferred := func(b []byte) rawResponse {
		return send(t, signedRequest(t, ts.URL(), "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": treehash.Sum(b).String()}, bytes.NewReader(b), int64(len(b)), good))
	}
	if r := deferred(data); r.Status != 201 {
		t.Fatalf("a small deferred upload during the attack: %d %s", r.Status, r.Body)
	}
	// ...large deferred ones are told to retry...
	r = deferred(large)
	wantWireError(t, r, "ServiceUnavailableException", 500)
	t.Logf("a large deferred upload during the attack: %s", r.Body)
	// ...and uploads signed before their body need no room at all.
	if r := ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": largeTree, "x-amz-content-sha256": largeSHA}, large); r.Status != 201 {
		t.Fatalf("a signed 64 MiB upload during the attack: %d %s", r.Status, r.Body)
	}

	// The stalled body times out; its bytes and its room are released.
	select {
	case r := <-stalled:
		if r.Status != -1 {
			wantWireError(t, r, "RequestTimeoutException", 408)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the stalled forged upload was not ended by the body idle timeout")
	}
	close(stall.release)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, files := tmpBytes(t, ts); files == 0 {
			break
		}
		if time.Now().After(deadline) {
			wantTmpEmpty(t, ts)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := deferred(large); r.Status != 201 {
		t.Fatalf("the large deferred upload after the attack: %d %s", r.Status, r.Body)
	}
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	if err != nil || d.NumberOfArchives != 4 {
		t.Errorf("vault after the attack: %+v, %v; want the 4 real archives", d, err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// buildServer builds the permafrost binary into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the server binary but is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "permafrost")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// rssBytes reads a process's resident set size.
func rssBytes(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading RSS: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestStalledJSONBodies: 150 connections with a valid access key id, a
// zero signature and a 1 MiB JSON body stalled one byte short. A real
// server process must close every one within twice --body-idle-timeout,
// and its RSS must grow by less than 20 MiB.
func TestStalledJSONBodies(t *testing.T) {
	const (
		conns = 150
		idle  = 2 * time.Second
		size  = 1 << 20
	)
	bin := buildServer(t)
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	var args []string
	if f := backendFor(t, dir); f.Meta != "" {
		args = append(args, "--meta", f.Meta, "--blobs", f.Blobs)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data-dir", dir, "--log-level", "error", "--body-idle-timeout", idle.String()}, args...)...)
	cmd.Env = crashEnv()
	var logBuf syncBuffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &crashProc{t: t, cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	if !p.waitReady(20 * time.Second) {
		t.Fatalf("server did not start: %s", logBuf.String())
	}
	// Warm up: a few real requests, so the baseline includes what every
	// server has.
	c := glacier.New(glacier.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(crashKeyID, crashSecret, "")})
	ctx := context.Background()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	pid := cmd.Process.Pid
	base := rssBytes(t, pid)
	var peak atomic.Int64
	peak.Store(base)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
						kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
						if kb<<10 > peak.Load() {
							peak.Store(kb << 10)
						}
					}
				}
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	now := time.Now().UTC()
	header := "PUT /-/vaults/v/access-policy HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"X-Amz-Glacier-Version: 2012-06-01\r\n" +
		"X-Amz-Date: " + now.Format("20060102T150405Z") + "\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + crashKeyID + "/" + now.Format("20060102") + "/us-east-1/glacier/aws4_request, SignedHeaders=host;x-amz-date;x-amz-glacier-version, Signature=" + strings.Repeat("0", 64) + "\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	body := append([]byte(`{"Policy":"`), bytes.Repeat([]byte("a"), size-1-len(`{"Policy":"`))...) // one byte short
	lifetimes := make([]time.Duration, conns)
	answers := make([]string, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				answers[i] = "dial: " + err.Error()
				lifetimes[i] = -1
				return
			}
			defer conn.Close()
			start := time.Now()
			go func() {
				conn.Write([]byte(header))
				conn.Write(body) // and then nothing: the last byte never comes
			}()
			conn.SetReadDeadline(time.Now().Add(5 * idle))
			status, err := bufio.NewReader(conn).ReadString('\n')
			answers[i] = strings.TrimSpace(status)
			// Then the server must close the connection.
			if _, err := io.Copy(io.Discard, conn); err != nil && !strings.Contains(err.Error(), "connection reset") {
				answers[i] += " (still open: " + err.Error() + ")"
				lifetimes[i] = -1
				return
			}
			lifetimes[i] = time.Since(start)
		}()
	}
	wg.Wait()
	close(stopSampling)
	<-sampled
	growth := peak.Load() - base
	t.Logf("RSS %d MiB before, peak %d MiB during (growth %.1f MiB)", base>>20, peak.Load()>>20, float64(growth)/(1<<20))
	var longest time.Duration
	statuses := map[string]int{}
	for i := range conns {
		statuses[answers[i]]++
		if lifetimes[i] < 0 {
			t.Errorf("connection %d: %s", i, answers[i])
			continue
		}
		longest = max(longest, lifetimes[i])
	}
	t.Logf("answers: %v; longest connection %v", statuses, longest)
	if longest > 2*idle {
		t.Errorf("a stalled connection stayed open %v, more than twice --body-idle-timeout (%v)", longest, idle)
	}
	if growth >= 20<<20 {
		t.Errorf("RSS grew by %.1f MiB with %d stalled bodies, want < 20 MiB", float64(growth)/(1<<20), conns)
	}
	// The server still serves.
	if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("after the stalled bodies: %v", err)
	}
}
