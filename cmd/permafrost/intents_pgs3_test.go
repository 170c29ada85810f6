package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/jackc/pgx/v5"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestCrashBetweenBlobWriteAndCommitLeavesNoOrphanPostgresS3 (issue 20) is
// TestCrashBetweenBlobWriteAndCommitLeavesNoOrphan on PostgreSQL + S3: a
// server killed (SIGKILL, by the failpoint) after putting an upload's
// object and before committing its metadata — a single upload, then a
// multipart part — leaves the object and a blob intent; a restarted
// server's housekeeping removes the objects from the intents alone,
// without listing the bucket. On these shared stores housekeeping takes
// only intents older than the sweep's grace (another node may be
// uploading), so the test ages the records by that much in the database
// instead of waiting 13 hours.
func TestCrashBetweenBlobWriteAndCommitLeavesNoOrphanPostgresS3(t *testing.T) {
	bin := buildPermafrost(t)
	ctx := context.Background()
	sf := storeFlags{DataDir: t.TempDir(), Meta: testenv.PostgresDSN(t), Blobs: testenv.S3URL(t)}
	flags := []string{"--meta", sf.Meta, "--blobs", sf.Blobs}

	p := startServe(t, bin, sf.DataDir, flags...)
	c := crashClient(p.url)
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	keep := randomBytes(1<<20 + 3)
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(keep)})
	if err != nil {
		t.Fatal(err)
	}
	kept := *out.ArchiveId
	mp, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	p.stop()

	crash := func(name string, upload func(c *glacier.Client) error, wantBlobs int) {
		p := startServeEnv(t, bin, sf.DataDir, []string{failpointEnv + "=kill-after-blob-write"}, flags...)
		err := upload(crashClient(p.url))
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the failpoint did not kill the server (request error %v)", name, err)
		}
		if err == nil {
			t.Fatalf("%s: acknowledged although the server died before the commit", name)
		}
		if blobs, _ := targetLeftovers(t, sf); blobs != wantBlobs {
			t.Fatalf("after the %s crash: %d objects, want %d", name, blobs, wantBlobs)
		}
	}
	crash("single upload", func(c *glacier.Client) error {
		_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(randomBytes(2 << 20))})
		return err
	}, 2)
	crash("multipart part", func(c *glacier.Client) error {
		body := randomBytes(1 << 20)
		_, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String("v"), UploadId: mp.UploadId,
			Range: aws.String("bytes 0-1048575/*"), Checksum: aws.String(treehash.Sum(body).String()), Body: bytes.NewReader(body)})
		return err
	}, 3)
	// (The servers also recorded intents ahead of time for keys they never
	// used, the intent pool: those cover no object.)
	if intents := intentsOfObjects(t, sf); intents != 2 {
		t.Fatalf("after two crashes: %d blob intents of stored objects, want 2", intents)
	}

	// A restart before the grace has passed leaves them (an upload of
	// another node may still commit); aged past it, they go.
	p = startServe(t, bin, sf.DataDir, flags...)
	waitHousekeeping(t, p.url)
	p.stop()
	if blobs, _ := targetLeftovers(t, sf); blobs != 3 || intentsOfObjects(t, sf) != 2 {
		t.Fatalf("housekeeping within the grace: %d objects and %d intents of them, want 3 and 2 (kept)", blobs, intentsOfObjects(t, sf))
	}
	conn, err := pgx.Connect(ctx, sf.Meta)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `UPDATE blob_intents SET created_at = created_at - $1`, (pf.SweepGrace + time.Minute).Milliseconds())
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p = startServe(t, bin, sf.DataDir, flags...)
	waitHousekeeping(t, p.url)
	if got := retrieveArchive(t, crashClient(p.url), "v", kept); !bytes.Equal(got, keep) {
		t.Errorf("the acknowledged archive changed")
	}
	p.stop()
	if blobs, intents := targetLeftovers(t, sf); blobs != 1 || intents != 0 {
		t.Errorf("after housekeeping: %d objects and %d intents, want 1 (the kept archive) and 0", blobs, intents)
	}
}

// intentsOfObjects counts the blob intents whose key has a stored object.
func intentsOfObjects(t *testing.T, sf storeFlags) int {
	t.Helper()
	ctx := context.Background()
	sf.ReadSide = true
	st, err := openStores(ctx, sf)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]bool{}
	if err := st.blobs.List(ctx, func(k string, _ time.Time) error { stored[k] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	keys, err := st.meta.Roles().Intents.BlobIntents(ctx, time.Now().Add(48*time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		if stored[k] {
			n++
		}
	}
	return n
}
