package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// TestInlineArchivesSurviveKill: small archives are kept in the metadata
// database with their row (--inline-archive-max, 64 KiB by default).
// Sixteen clients upload 4 KiB archives to a real `permafrost serve`; the
// server is SIGKILLed right after a few hundred acknowledgements, with
// uploads in flight; after a restart every acknowledged archive retrieves
// byte-exact, and no archive file was ever written. Then one inline blob
// is damaged in the database: `permafrost scrub` names it, and its
// retrieval fails instead of serving wrong bytes.
func TestInlineArchivesSurviveKill(t *testing.T) {
	bin := buildPermafrost(t)
	dir := t.TempDir()
	p := startServe(t, bin, dir)
	c := crashClient(p.url)
	ctx := context.Background()
	vault := aws.String("small")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	const want = 400
	var (
		mu     sync.Mutex
		acked  = map[string][]byte{}
		killed = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-killed:
					return
				default:
				}
				body := make([]byte, 4<<10)
				rand.Read(body)
				out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(body)})
				if err != nil {
					select {
					case <-killed:
						return // in flight at the kill: in doubt, not acknowledged
					default:
					}
					t.Errorf("UploadArchive before the kill: %v", err)
					return
				}
				mu.Lock()
				acked[*out.ArchiveId] = body
				n := len(acked)
				mu.Unlock()
				if n >= want {
					once.Do(func() {
						close(killed)
						p.kill() // SIGKILL, the other uploads still in flight
					})
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < want {
		t.Fatalf("only %d uploads acknowledged", len(acked))
	}

	// Not one archive file: the bytes are in the database.
	files := 0
	filepath.WalkDir(filepath.Join(dir, "archives", "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	if files != 0 {
		t.Errorf("%d archive files written for archives of 4 KiB, want none (inline)", files)
	}

	p = startServe(t, bin, dir)
	c = crashClient(p.url)
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
	if err != nil {
		t.Fatal(err)
	}
	// Uploads in flight at the kill may or may not have landed.
	if d.NumberOfArchives < int64(len(acked)) || d.NumberOfArchives > int64(len(acked))+16 {
		t.Errorf("after the restart the vault holds %d archives; %d were acknowledged, at most 16 more in flight", d.NumberOfArchives, len(acked))
	}
	var ids []string
	for id, body := range acked {
		ids = append(ids, id)
		if got := retrieveArchive(t, c, "small", id); !bytes.Equal(got, body) {
			t.Fatalf("acknowledged archive %s read back as %d bytes that differ from the %d uploaded", id, len(got), len(body))
		}
	}
	t.Logf("%d archives acknowledged before the SIGKILL, all retrieved byte-exact after the restart (%d in the vault)", len(acked), d.NumberOfArchives)
	p.stop()

	// Damage one inline blob in the database.
	damaged, intact := ids[0], ids[1]
	db, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	var key string
	var data []byte
	if err := db.QueryRow(`SELECT i.blob_key, i.data FROM archive_segments s JOIN inline_blobs i ON i.blob_key = s.blob_key WHERE s.archive_id = ?`, damaged).Scan(&key, &data); err != nil {
		t.Fatalf("the inline blob of archive %s: %v", damaged, err)
	}
	data[1234] ^= 0x01
	if _, err := db.Exec(`UPDATE inline_blobs SET data = ? WHERE blob_key = ?`, data, key); err != nil {
		t.Fatal(err)
	}
	db.Close()

	stdout, stderr, code := runBinary(t, bin, time.Minute, "scrub", "--data-dir", dir, "--json")
	var rep scrubReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("scrub --json: %v\n%s\n%s", err, stdout, stderr)
	}
	if code != 1 || rep.Archives != int(d.NumberOfArchives) || len(rep.Damaged) != 1 || rep.Damaged[0].ArchiveID != damaged {
		t.Errorf("scrub of one damaged inline blob: exit %d, report %+v; want exit 1 naming %s", code, rep, damaged)
	}

	p = startServe(t, bin, dir)
	c = crashClient(p.url)
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: vault, JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(damaged)}})
	if err != nil {
		t.Fatal(err)
	}
	if jd := waitJobDone(t, c, "small", *job.JobId); jd.StatusCode != types.StatusCodeFailed || !strings.Contains(aws.ToString(jd.StatusMessage), "damaged") {
		t.Errorf("retrieval of the damaged inline archive: %s %q; want Failed, damaged", jd.StatusCode, aws.ToString(jd.StatusMessage))
	}
	if got := retrieveArchive(t, c, "small", intact); !bytes.Equal(got, acked[intact]) {
		t.Error("an intact inline archive beside the damaged one does not read back")
	}
}

// TestInlineArchiveMaxFlag: the threshold is validated at start, and 0
// keeps every archive in a file.
func TestInlineArchiveMaxFlag(t *testing.T) {
	for _, bad := range []int64{-1, pf.MaxInlineArchiveMax + 1} {
		cfg := testConfig(t, t.TempDir())
		cfg.InlineArchiveMax = bad
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "--inline-archive-max") {
			t.Errorf("--inline-archive-max %d: %v; want a usage error naming the flag", bad, err)
		}
	}

	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.InlineArchiveMax = 0
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	ctx := context.Background()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader([]byte("tiny"))})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, *out.ArchiveId)
	if err != nil || len(a.Segments) != 1 || pf.IsInlineKey(a.Segments[0].BlobKey) {
		t.Errorf("with --inline-archive-max 0 the archive is stored as %+v (%v); want a file blob", a.Segments, err)
	}
}

// TestMigrateInlineArchives: `permafrost migrate` reads archives kept
// inline in the source's database and writes them to the target's blob
// store as ordinary objects; they come back byte-exact there.
func TestMigrateInlineArchives(t *testing.T) {
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
	data := randomBytes(5000)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := src.stores.meta.Roles().Archives.GetArchive(ctx, *up.ArchiveId); err != nil || !pf.IsInlineKey(a.Segments[0].BlobKey) {
		t.Fatalf("the source archive is stored as %+v (%v); want inline", a.Segments, err)
	}
	src.Close()

	dsn, blobs := testenv.PostgresDSN(t), testenv.S3URL(t)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate", "--from-data-dir", dir, "--meta", dsn, "--blobs", blobs}, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	cfg = DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.LogLevel, cfg.InventoryInterval = "127.0.0.1:0", t.TempDir(), "warn", 0
	cfg.Meta, cfg.Blobs, cfg.JobDelays = dsn, blobs, "none"
	dst := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := dst.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	a, err := dst.stores.meta.Roles().Archives.GetArchive(ctx, *up.ArchiveId)
	if err != nil || pf.IsInlineKey(a.Segments[0].BlobKey) {
		t.Errorf("the migrated archive is stored as %+v (%v); want an object in the bucket", a.Segments, err)
	}
	c = (&testServer{Main: dst, KeyID: ts.KeyID, Secret: ts.Secret}).client()
	if got := retrieveArchive(t, c, "moving", *up.ArchiveId); !bytes.Equal(got, data) {
		t.Errorf("the migrated inline archive came back as %d bytes, want the %d uploaded", len(got), len(data))
	}
}
