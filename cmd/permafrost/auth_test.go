package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

// sendSigned signs req with the given key, region and time, and sends it.
func sendSigned(t *testing.T, req *http.Request, keyID, secret, region string, at time.Time, body []byte) rawResponse {
	t.Helper()
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, treehash.Sum(body).String(), "glacier", region, at); err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, b}
}

func TestAuthentication(t *testing.T) {
	ts := mustServe(t)
	ctx := context.Background()
	get := func() *http.Request {
		req, _ := http.NewRequest("GET", ts.URL()+"/-/vaults", nil)
		return req
	}
	now := time.Now() // signatures are checked against real time

	if r := sendSigned(t, get(), ts.KeyID, ts.Secret, "us-east-1", now, nil); r.Status != 200 {
		t.Fatalf("good signature: %d %s", r.Status, r.Body)
	}
	wantWireError(t, sendSigned(t, get(), "AKIANOSUCHKEY0000000", ts.Secret, "us-east-1", now, nil), "UnrecognizedClientException", 400)
	wantWireError(t, sendSigned(t, get(), ts.KeyID, "wrong-secret-wrong-secret-wrong-secret00", "us-east-1", now, nil), "InvalidSignatureException", 403)
	wantWireError(t, sendSigned(t, get(), ts.KeyID, ts.Secret, "eu-west-1", now, nil), "InvalidSignatureException", 403)
	// 15 minutes of skew are allowed either way; more is refused.
	if r := sendSigned(t, get(), ts.KeyID, ts.Secret, "us-east-1", now.Add(-14*time.Minute), nil); r.Status != 200 {
		t.Fatalf("14 minutes old: %d %s", r.Status, r.Body)
	}
	r := sendSigned(t, get(), ts.KeyID, ts.Secret, "us-east-1", now.Add(-20*time.Minute), nil)
	wantWireError(t, r, "InvalidSignatureException", 403)
	if !strings.Contains(string(r.Body), "Signature expired") {
		t.Errorf("skew message: %s", r.Body)
	}
	wantWireError(t, sendSigned(t, get(), ts.KeyID, ts.Secret, "us-east-1", now.Add(20*time.Minute), nil), "InvalidSignatureException", 403)

	// No signature at all.
	req := get()
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	wantWireError(t, send(t, req), "MissingAuthenticationTokenException", 400)

	// A signed request whose path was changed in transit.
	req = get()
	sendSignedThenTamper := func(req *http.Request, tamper func(*http.Request)) rawResponse {
		req.Header.Set("x-amz-glacier-version", "2012-06-01")
		creds := aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}
		v4.NewSigner().SignHTTP(ctx, creds, req, treehash.Sum(nil).String(), "glacier", "us-east-1", now)
		tamper(req)
		return send(t, req)
	}
	wantWireError(t, sendSignedThenTamper(req, func(r *http.Request) { r.URL.RawQuery = "limit=1" }), "InvalidSignatureException", 403)

	// A JSON body that is not what x-amz-content-sha256 promised.
	mustCreateVault(t, ts.client(), "v")
	body := []byte(`{"Tags":{"a":"b"}}`)
	req, _ = http.NewRequest("POST", ts.URL()+"/-/vaults/v/tags?operation=add", bytes.NewReader(body))
	req.Header.Set("x-amz-content-sha256", treehash.Sum([]byte("something else")).String())
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}, req, req.Header.Get("x-amz-content-sha256"), "glacier", "us-east-1", now)
	wantWireError(t, send(t, req), "InvalidSignatureException", 403)
	// A body changed after signing (no x-amz-content-sha256 header).
	req, _ = http.NewRequest("POST", ts.URL()+"/-/vaults/v/tags?operation=add", bytes.NewReader(body))
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}, req, treehash.Sum([]byte(`{"Tags":{"a":"c"}}`)).String(), "glacier", "us-east-1", now)
	wantWireError(t, send(t, req), "InvalidSignatureException", 403)
	tags, _ := ts.client().ListTagsForVault(ctx, &glacier.ListTagsForVaultInput{VaultName: aws.String("v")})
	if len(tags.Tags) != 0 {
		t.Fatalf("refused requests changed tags: %v", tags.Tags)
	}
}

func TestPresignedGet(t *testing.T) {
	ts := mustServe(t)
	mustCreateVault(t, ts.client(), "v")
	req, _ := http.NewRequest("GET", ts.URL()+"/-/vaults/v", nil)
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	creds := aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, treehash.Sum(nil).String(), "glacier", "us-east-1", ts.service.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	preq, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		if !strings.EqualFold(k, "host") {
			preq.Header[k] = v
		}
	}
	r := send(t, preq)
	if r.Status != 200 {
		t.Fatalf("presigned GET: %d %s", r.Status, r.Body)
	}
	var out DescribeVaultJSON
	if err := json.Unmarshal(r.Body, &out); err != nil || out.VaultName != "v" {
		t.Fatalf("body %s", r.Body)
	}
}

// DescribeVaultJSON is the subset of DescribeVault's body the tests read.
type DescribeVaultJSON struct{ VaultName string }

func TestAccountsAndKeysCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	mustInstall(t, dir)
	var out, errOut bytes.Buffer
	if err := run(ctx, append([]string{"accounts", "create", "--account-id", "111122223333", "--json"}, storeArgs(t, dir)...), &out, &errOut); err != nil {
		t.Fatalf("accounts create: %v (%s)", err, errOut.String())
	}
	var cred struct {
		AccountID       string `json:"account_id"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &cred); err != nil {
		t.Fatalf("accounts create --json printed %q: %v", out.String(), err)
	}
	if cred.AccountID != "111122223333" || len(cred.AccessKeyID) != 20 || len(cred.SecretAccessKey) != 40 {
		t.Fatalf("credential = %+v", cred)
	}
	if err := run(ctx, append([]string{"accounts", "create", "--account-id", "111122223333"}, storeArgs(t, dir)...), &out, &errOut); err == nil {
		t.Fatal("creating an existing account succeeded")
	}
	if err := run(ctx, append([]string{"accounts", "create", "--account-id", "12"}, storeArgs(t, dir)...), io.Discard, io.Discard); err == nil {
		t.Fatal("a 2-digit account id was accepted")
	}

	// The server runs on the same data dir while keys are managed.
	ts := mustServeDirNoAccount(t, dir, true)
	ts.KeyID, ts.Secret = cred.AccessKeyID, cred.SecretAccessKey
	if _, err := ts.client().CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("the created key does not work: %v", err)
	}
	out.Reset()
	if err := run(ctx, append([]string{"keys", "create", "--account-id", "111122223333", "--json"}, storeArgs(t, dir)...), &out, &errOut); err != nil {
		t.Fatalf("keys create: %v", err)
	}
	var second struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	json.Unmarshal(out.Bytes(), &second)
	if _, err := ts.clientFor(second.AccessKeyID, second.SecretAccessKey).DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("second key: %v", err)
	}
	out.Reset()
	if err := run(ctx, append([]string{"keys", "list", "--account-id", "111122223333"}, storeArgs(t, dir)...), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), cred.AccessKeyID) || !strings.Contains(out.String(), second.AccessKeyID) || strings.Contains(out.String(), cred.SecretAccessKey) {
		t.Fatalf("keys list:\n%s", out.String())
	}
	if err := run(ctx, append(append([]string{"keys", "delete"}, storeArgs(t, dir)...), second.AccessKeyID), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, err := ts.clientFor(second.AccessKeyID, second.SecretAccessKey).DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "UnrecognizedClientException", 400)
	if err := run(ctx, append([]string{"keys", "create", "--account-id", "999999999999"}, storeArgs(t, dir)...), io.Discard, io.Discard); err == nil {
		t.Fatal("a key for a missing account was created")
	}
}

func TestFirstStartKeys(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", dir, "warn"
	m := &Main{Config: cfg, Stdout: &out}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	line := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "export AWS_ACCESS_KEY_ID=") {
			line = l
		}
	}
	var id, secret string
	for _, f := range strings.Fields(strings.TrimPrefix(line, "export ")) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "AWS_ACCESS_KEY_ID":
			id = v
		case "AWS_SECRET_ACCESS_KEY":
			secret = v
		}
	}
	if len(id) != 20 || len(secret) != 40 {
		t.Fatalf("first start printed %q", out.String())
	}
	// Printed once: a second start prints nothing.
	out.Reset()
	m = &Main{Config: cfg, Stdout: &out}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if out.Len() != 0 {
		t.Fatalf("second start printed %q", out.String())
	}
	ts := &testServer{Main: m, KeyID: id, Secret: secret}
	if _, err := ts.client().ListVaults(context.Background(), &glacier.ListVaultsInput{}); err != nil {
		t.Fatalf("printed key does not work: %v", err)
	}
}

func TestKeyFromEnvironment(t *testing.T) {
	t.Setenv("PERMAFROST_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
	t.Setenv("PERMAFROST_SECRET_ACCESS_KEY", "environment-secret-environment-secret-00")
	t.Setenv("PERMAFROST_ACCOUNT_ID", "444455556666")
	var out bytes.Buffer
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "warn"
	m := &Main{Config: cfg, Stdout: &out}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if strings.Contains(out.String(), "export") {
		t.Fatalf("a key was generated although one was given: %q", out.String())
	}
	ts := &testServer{Main: m, KeyID: "AKIAENVIRONMENT00001", Secret: "environment-secret-environment-secret-00"}
	c, err := ts.client().CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String("v")})
	if err != nil || aws.ToString(c.Location) != "/444455556666/vaults/v" {
		t.Fatalf("CreateVault with the environment key = %v, %v", c, err)
	}
}
