package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestEngineOutage takes PostgreSQL and then the object store away from a
// running node: the requests that need the missing engine fail with
// ServiceUnavailableException (retryable), nothing half-written becomes
// visible, and the node recovers by itself when the engine returns.
func TestEngineOutage(t *testing.T) {
	pg := testenv.NewPostgresServer(t)
	gw := testenv.NewVersitygwServer(t)
	bucket := gw.Bucket(t)
	bucket.SetEnv(t)
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "error"
	cfg.Meta, cfg.Blobs = pg.DSN, bucket.URL
	cfg.InventoryInterval = 0 // live counts
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	ctx := context.Background()
	vault := aws.String("outage")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	upload := func() (*glacier.UploadArchiveOutput, error) {
		data := randomBytes(3 << 20)
		return c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	}
	if _, err := upload(); err != nil {
		t.Fatal(err)
	}
	archives := func() int64 {
		t.Helper()
		d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
		if err != nil {
			t.Fatalf("DescribeVault: %v", err)
		}
		return d.NumberOfArchives
	}

	// PostgreSQL down: metadata requests and uploads are unavailable.
	pg.Stop(t)
	_, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
	wantUnavailable(t, "DescribeVault without PostgreSQL", err)
	_, err = upload()
	wantUnavailable(t, "UploadArchive without PostgreSQL", err)
	pg.Start(t)
	waitUntil(t, "the node to reach PostgreSQL again", func() bool {
		_, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
		return err == nil
	})
	if n := archives(); n != 1 {
		t.Fatalf("after the PostgreSQL outage the vault holds %d archives, want the 1 acknowledged", n)
	}

	// The object store down: uploads are unavailable, metadata reads work.
	gw.Stop(t)
	_, err = upload()
	wantUnavailable(t, "UploadArchive without the object store", err)
	if n := archives(); n != 1 {
		t.Fatalf("a failed upload became visible: %d archives, want 1", n)
	}
	gw.Start(t)
	waitUntil(t, "uploads to work again", func() bool { _, err := upload(); return err == nil })
	if n := archives(); n != 2 {
		t.Fatalf("after the object store returned: %d archives, want 2", n)
	}
}

// wantUnavailable checks err is ServiceUnavailableException with status
// 500, which SDKs retry.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailableException" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Fatalf("%s: got %v, want ServiceUnavailableException (500)", what, err)
	}
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
