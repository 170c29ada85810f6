package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestMigrateCommand moves an embedded installation to PostgreSQL + S3
// with `permafrost migrate`, then serves it from there: the same keys
// work, archives come back byte for byte, a Locked vault is still Locked;
// a second run copies nothing again.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel, cfg.InventoryInterval = "127.0.0.1:0", dir, "warn", 0
	src := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Main: src}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	vault := aws.String("moving")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2<<20 + 99)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data), Checksum: aws.String(treehash.Sum(data).String())})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`
	lock, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: vault, LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	src.Close()

	dsn, blobs := testenv.PostgresDSN(t), testenv.S3URL(t)
	migrate := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"migrate", "--from-data-dir", dir, "--meta", dsn, "--blobs", blobs}, &out, &errOut); err != nil {
			t.Fatalf("migrate: %v\n%s", err, errOut.String())
		}
		return out.String()
	}
	if out := migrate(); !strings.Contains(out, "1 archives (") || !strings.Contains(out, "every tree hash verified") {
		t.Errorf("migrate printed %q", out)
	}
	if out := migrate(); !strings.Contains(out, "0 archives (") || !strings.Contains(out, "1 archives were already there") {
		t.Errorf("a second migrate printed %q, want nothing copied again", out)
	}

	cfg = DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel, cfg.InventoryInterval = "127.0.0.1:0", t.TempDir(), "warn", 0
	cfg.Meta, cfg.Blobs, cfg.JobDelays = dsn, blobs, "none"
	// The installation's region came along: the target refuses another.
	cfg.Region = "eu-west-1"
	if wrong := (&Main{Config: cfg, Stderr: testLogWriter{t}}); wrong.Open(ctx) == nil {
		wrong.Close()
		t.Fatal("the migrated installation started with --region eu-west-1; its region (us-east-1) was not carried")
	}
	cfg.Region = "us-east-1"
	dst := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := dst.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	c = (&testServer{Main: dst, KeyID: ts.KeyID, Secret: ts.Secret}).client()
	l, err := c.GetVaultLock(ctx, &glacier.GetVaultLockInput{VaultName: vault})
	if err != nil || aws.ToString(l.State) != "Locked" || aws.ToString(l.Policy) != policy {
		t.Fatalf("GetVaultLock after migration = %+v, %v; want Locked with the policy", l, err)
	}
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId}})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, vault, job.JobId)
	o, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o.Body)
	o.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the migrated archive came back as %d bytes (%v), want the %d uploaded", len(got), err, len(data))
	}
	_, err = c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId})
	wantAPIError(t, err, "AccessDeniedException", 403)
}
