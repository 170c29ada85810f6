package migrate

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// errCrash stands for the process dying: raised by the failpoint and
// recovered by the test, it unwinds past every clean-up of the migration.
type errCrash struct{ key string }

// TestMigrateInterruptedAfterABlobWriteLeavesAnIntent (issue 20): a
// migration that dies between writing a blob into the target and
// committing the metadata that references it leaves the blob and a blob
// intent for it, so the target's intent-based housekeeping removes the
// blob without listing the store; a re-run then copies everything.
func TestMigrateInterruptedAfterABlobWriteLeavesAnIntent(t *testing.T) {
	ctx := context.Background()
	src, _ := openStores(t)
	archives := populate(t, src)
	dst, dstDir := openStores(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	crashed := dst
	crashed.AfterBlobPut = func(key string) { panic(errCrash{key}) }
	var orphan string
	func() {
		defer func() {
			r := recover()
			c, ok := r.(errCrash)
			if !ok {
				t.Fatalf("the failpoint did not fire (recovered %v)", r)
			}
			orphan = c.key
		}()
		Run(ctx, src, crashed, log)
	}()

	meta := dst.Meta.Intents.(*sqlite.DB)
	if ref, err := meta.BlobReferenced(ctx, orphan); err != nil || ref {
		t.Fatalf("the crashed blob %s is referenced (%v, %v)", orphan, ref, err)
	}
	if _, err := os.Stat(blobPath(dstDir, orphan)); err != nil {
		t.Fatalf("the crashed blob was not written: %v", err)
	}
	if n, err := meta.CountBlobIntents(ctx); err != nil || n != 1 {
		t.Fatalf("blob intents after the crash: %d (%v), want 1", n, err)
	}

	// The target's housekeeping pass (what a server on it runs at start
	// and periodically) finds it from the intent.
	svc := &glacier.Service{Stores: dst.Meta, Blobs: dst.Blobs, Clock: clock.Real{}, Region: "us-east-1"}
	removed, err := svc.ProcessIntents(ctx, time.Now().Add(time.Second))
	if err != nil || removed != 1 {
		t.Fatalf("housekeeping removed %d (%v), want 1", removed, err)
	}
	if _, err := os.Stat(blobPath(dstDir, orphan)); !os.IsNotExist(err) {
		t.Fatalf("the crashed blob survived housekeeping: %v", err)
	}

	// A re-run copies everything; every blob it wrote is committed, so no
	// intent is left.
	stats, err := Run(ctx, src, dst, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("re-run: %+v", stats)
	for id, want := range archives {
		if got := readArchive(t, dst, id); !bytes.Equal(got, want) {
			t.Errorf("archive %s differs after the re-run", id)
		}
	}
	if n, err := meta.CountBlobIntents(ctx); err != nil || n != 0 {
		t.Errorf("blob intents after a complete run: %d (%v), want 0", n, err)
	}
}

// blobPath is where the disk blob store keeps key.
func blobPath(dir, key string) string {
	return filepath.Join(dir, "archives", "blobs", filepath.FromSlash(key))
}
