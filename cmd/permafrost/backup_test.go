package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestBackupWhileUploadingThenRestore runs `permafrost backup` against a
// serving process while clients upload, restores the copy (with the
// archive files copied afterwards, as docs/deployment.md says) into a new
// data directory, and checks that the restored server has exactly the
// archives the backup holds, every one acknowledged, with their bytes.
func TestBackupWhileUploadingThenRestore(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	env := cleanEnv(
		"PERMAFROST_ACCESS_KEY_ID="+crashKeyID,
		"PERMAFROST_SECRET_ACCESS_KEY="+crashSecret,
		"PERMAFROST_ACCOUNT_ID="+crashAccount,
		"PERMAFROST_INVENTORY_INTERVAL=0",
		"PERMAFROST_JOB_DELAYS=none",
	)
	serve := func(dir string) (*proc, *glacier.Client) {
		p := startProc(t, root, env, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json")
		line := servingLine(t, p)
		return p, crashClient(line["endpoint"].(string))
	}
	p, c := serve(data)
	ctx := context.Background()
	vault := aws.String("backed-up")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	uploaded := map[string][32]byte{} // archive id → SHA-256 of its bytes
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b := randomBytes(50_000 + (w*7919+i*104729)%400_000)
				out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(b), Checksum: aws.String(treehash.Sum(b).String())})
				if err != nil {
					t.Errorf("upload: %v", err)
					return
				}
				mu.Lock()
				uploaded[*out.ArchiveId] = sha256.Sum256(b)
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(uploaded) }
	waitUntil(t, "some uploads", func() bool { return count() >= 10 })
	before := count()
	backup := filepath.Join(root, "meta-backup.db")
	code, out, errOut := runProc(t, root, cleanEnv(), "backup", "--data-dir", data, "--out", backup)
	if code != 0 || !strings.Contains(out, "integrity checked") {
		t.Fatalf("backup: exit %d, %q %q", code, out, errOut)
	}
	waitUntil(t, "uploads after the backup", func() bool { return count() >= before+10 })
	close(stop)
	wg.Wait()
	// The archive files are copied after the metadata, while the server
	// still runs: every archive the backup references is there.
	archives := filepath.Join(root, "archives-backup")
	if out, err := exec.Command("cp", "-a", filepath.Join(data, "archives"), archives).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	p.stop(t)

	// What the backup holds.
	db, err := sql.Open("sqlite", backup+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT id FROM archives`)
	if err != nil {
		t.Fatal(err)
	}
	var inBackup []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		inBackup = append(inBackup, id)
	}
	rows.Close()
	db.Close()
	if len(inBackup) < before || len(inBackup) >= count() {
		t.Fatalf("the backup holds %d archives; %d were acknowledged before it began and %d by the end", len(inBackup), before, count())
	}
	for _, id := range inBackup {
		if _, ok := uploaded[id]; !ok {
			t.Fatalf("the backup holds archive %s that was never acknowledged", id)
		}
	}

	// Restore: the metadata copy becomes meta.db, the archive copy the
	// archives directory.
	restored := filepath.Join(root, "restored")
	for _, cmd := range [][]string{{"mkdir", "-p", restored}, {"cp", backup, filepath.Join(restored, "meta.db")}, {"cp", "-a", archives, filepath.Join(restored, "archives")}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", cmd, err, out)
		}
	}
	p, c = serve(restored)
	defer p.stop(t)
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
	if err != nil {
		t.Fatal(err)
	}
	if int(d.NumberOfArchives) != len(inBackup) {
		t.Fatalf("the restored vault holds %d archives, the backup %d", d.NumberOfArchives, len(inBackup))
	}
	// The first and last archive of the backup come back byte for byte.
	for _, id := range []string{inBackup[0], inBackup[len(inBackup)-1]} {
		job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id)}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			dj, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: vault, JobId: job.JobId})
			if err == nil && dj.Completed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not complete: %v", *job.JobId, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if sha256.Sum256(b) != uploaded[id] {
			t.Fatalf("archive %s came back different (%d bytes)", id, len(b))
		}
	}
}

// TestPostgresBackupRestore follows docs/deployment.md for PostgreSQL +
// S3: pg_dump while the node serves, more uploads, pg_restore into an
// empty database, a node on the restored database and the same bucket.
// The restored node has exactly the archives of the dump, with their
// bytes.
func TestPostgresBackupRestore(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (it comes with PostgreSQL's client package: apt-get install postgresql-client): %v", tool, err)
		}
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	if cfg.Meta == "" {
		cfg.Meta, cfg.Blobs = testenv.PostgresDSN(t), testenv.S3URL(t)
	}
	cfg.JobDelays = "none"
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	ctx := context.Background()
	vault := aws.String("dumped")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	upload := func() (string, [32]byte) {
		b := randomBytes(300_000)
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(b), Checksum: aws.String(treehash.Sum(b).String())})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ArchiveId, sha256.Sum256(b)
	}
	kept := map[string][32]byte{}
	for range 3 {
		id, sum := upload()
		kept[id] = sum
	}
	dump := filepath.Join(dir, "permafrost.dump")
	if out, err := exec.Command("pg_dump", "--format=custom", "--file="+dump, cfg.Meta).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	after, _ := upload() // after the dump: not in the restore
	m.Close()

	restoredDSN := testenv.PostgresDSN(t)
	if out, err := exec.Command("pg_restore", "--no-owner", "--dbname="+restoredDSN, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	cfg.Meta = restoredDSN
	m2 := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m2.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close() })
	ts2 := &testServer{Main: m2, AccountID: ts.AccountID, KeyID: ts.KeyID, Secret: ts.Secret}
	c = ts2.client()
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
	if err != nil {
		t.Fatal(err)
	}
	if d.NumberOfArchives != int64(len(kept)) {
		t.Fatalf("restored vault holds %d archives, want the dump's %d", d.NumberOfArchives, len(kept))
	}
	for id, sum := range kept {
		job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), Tier: aws.String("Expedited")}})
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the retrieval", func() bool {
			dj, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: vault, JobId: job.JobId})
			return err == nil && dj.Completed
		})
		out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if sha256.Sum256(b) != sum {
			t.Fatalf("archive %s came back different", id)
		}
	}
	_, err = c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(after)}})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}
