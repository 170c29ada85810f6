package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/jackc/pgx/v5"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// TestMigrateKilledAfterBlobWriteLeavesNoOrphan (issue 20): `permafrost
// migrate` killed (SIGKILL, by the test failpoint) right after writing an
// archive's blob into the target and before committing its metadata
// leaves a blob intent beside the blob, exactly as an interrupted upload
// does, so a server on the target removes the blob in its housekeeping
// pass without listing the blob store; a second migrate then copies the
// archive. On the embedded target the server owns the directory and its
// start-up pass takes every intent recorded before it started; on
// PostgreSQL + S3 (stores other nodes may share) it takes only intents
// older than the sweep's grace, so the test ages the record by that much
// in the database instead of waiting hours.
func TestMigrateKilledAfterBlobWriteLeavesNoOrphan(t *testing.T) {
	bin := buildPermafrost(t)
	ctx := context.Background()
	src := t.TempDir()
	p := startServe(t, bin, src)
	c := crashClient(p.url)
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(1<<20 + 5)
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	p.stop()

	for _, target := range []string{"embedded", "postgres+s3"} {
		t.Run(target, func(t *testing.T) {
			sf := storeFlags{DataDir: t.TempDir()}
			var flags []string
			if target == "embedded" {
				flags = []string{"--data-dir", sf.DataDir}
			} else {
				sf.Meta, sf.Blobs = testenv.PostgresDSN(t), testenv.S3URL(t)
				flags = []string{"--meta", sf.Meta, "--blobs", sf.Blobs}
			}
			migrate := func(env ...string) error {
				cmd := exec.Command(bin, append([]string{"migrate", "--from-data-dir", src}, flags...)...)
				cmd.Env = append(crashEnv(), env...)
				out, err := cmd.CombinedOutput()
				t.Logf("migrate: %v\n%s", err, out)
				return err
			}
			err := migrate(failpointEnv + "=kill-after-blob-write")
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("migrate was not killed by the failpoint: %v", err)
			}
			blobs, intents := targetLeftovers(t, sf)
			if blobs != 1 || intents != 1 {
				t.Fatalf("after the killed migrate: %d blobs and %d intents in the target, want 1 and 1", blobs, intents)
			}
			if target != "embedded" {
				conn, err := pgx.Connect(ctx, sf.Meta)
				if err != nil {
					t.Fatal(err)
				}
				_, err = conn.Exec(ctx, `UPDATE blob_intents SET created_at = created_at - $1`, (pf.SweepGrace + time.Minute).Milliseconds())
				conn.Close(ctx)
				if err != nil {
					t.Fatal(err)
				}
			}

			p := startServe(t, bin, sf.DataDir, flags...)
			waitHousekeeping(t, p.url)
			p.stop()
			if blobs, intents := targetLeftovers(t, sf); blobs != 0 || intents != 0 {
				t.Fatalf("after the target's housekeeping: %d blobs and %d intents, want none", blobs, intents)
			}

			if err := migrate(); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			p = startServe(t, bin, sf.DataDir, flags...)
			if got := retrieveArchive(t, crashClient(p.url), "v", *up.ArchiveId); !bytes.Equal(got, data) {
				t.Errorf("the migrated archive differs")
			}
			p.stop()
			if blobs, intents := targetLeftovers(t, sf); blobs != 1 || intents != 0 {
				t.Errorf("after the second migrate: %d blobs and %d intents, want 1 and 0", blobs, intents)
			}
		})
	}
}

// targetLeftovers counts the blobs and blob intents of a target's stores.
func targetLeftovers(t *testing.T, sf storeFlags) (blobs int, intents int64) {
	t.Helper()
	ctx := context.Background()
	sf.ReadSide = true
	st, err := openStores(ctx, sf)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.blobs.List(ctx, func(string, time.Time) error { blobs++; return nil }); err != nil {
		t.Fatal(err)
	}
	is, ok := st.meta.(pf.IntentStore)
	if !ok {
		t.Fatalf("the %T metadata store keeps no blob intents", st.meta)
	}
	if intents, err = is.CountBlobIntents(ctx); err != nil {
		t.Fatal(err)
	}
	return blobs, intents
}
