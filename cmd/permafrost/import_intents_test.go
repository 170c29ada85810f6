package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	pf "github.com/permafrost/permafrost/internal/glacier"
)

// TestImportKilledAfterBlobWriteLeavesAnIntent (issue 20): `permafrost
// import` killed (SIGKILL, by the test failpoint) right after writing an
// archive's blob and before committing its metadata leaves a blob intent
// for the blob, as an interrupted upload does, so housekeeping removes it
// without listing the blob store; the resumed import completes.
func TestImportKilledAfterBlobWriteLeavesAnIntent(t *testing.T) {
	ctx := context.Background()
	src := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s := newImportSource(t, src, 2)
	dst := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	is, ok := dst.stores.meta.(pf.IntentStore)
	if !ok {
		t.Fatalf("the %T metadata store keeps no blob intents", dst.stores.meta)
	}
	before, err := is.CountBlobIntents(ctx)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(permafrostBinary(t), importArgs(t, s, dst, "--concurrency", "1")...)
	cmd.Env = append(append(os.Environ(), s.env(t)...), failpointEnv+"=kill-after-blob-write")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("import was not killed by the failpoint: %v\n%s", err, out)
	}

	future := time.Now().Add(time.Second)
	keys, err := is.BlobIntents(ctx, future, 100000)
	if err != nil {
		t.Fatal(err)
	}
	// At least the killed write's (a process may also record intents
	// ahead of time for keys it never used: the intent pool).
	if int64(len(keys)) < before+1 {
		t.Fatalf("blob intents after the killed import: %d, want at least %d", len(keys), before+1)
	}
	var orphans []string
	for _, k := range keys {
		ref, err := dst.stores.meta.Roles().Housekeeping.BlobReferenced(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if ref {
			continue
		}
		r, err := dst.stores.blobs.Open(ctx, k, 0, -1)
		if err != nil {
			continue // an intent without a blob (none written yet)
		}
		r.Close()
		orphans = append(orphans, k)
	}
	if len(orphans) != 1 {
		t.Fatalf("unreferenced blobs with an intent after the killed import: %d, want 1", len(orphans))
	}
	// The housekeeping pass (the server's, once the intent is older than
	// its cut-off) removes it from the intent alone.
	if _, err := dst.service.ProcessIntents(ctx, future); err != nil {
		t.Fatal(err)
	}
	if r, err := dst.stores.blobs.Open(ctx, orphans[0], 0, -1); err == nil {
		r.Close()
		t.Fatalf("the killed import's blob %s survived housekeeping", orphans[0])
	}

	s.setEnv(t)
	var stdout, stderr bytes.Buffer
	if err := run(ctx, importArgs(t, s, dst, "--concurrency", "1"), &stdout, &stderr); err != nil {
		t.Fatalf("resumed import: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	checkImported(t, s, dst, false)
}
