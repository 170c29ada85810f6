package glacier_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// refusingBlobs refuses to delete one key, as an S3 bucket does for an
// object under a retention date.
type refusingBlobs struct {
	glacier.BlobStore
	refuse string
}

func (r refusingBlobs) Delete(ctx context.Context, key string) error {
	if key == r.refuse {
		return errors.New("object is under retention")
	}
	return r.BlobStore.Delete(ctx, key)
}

// TestProcessIntentsSkipsRefusedDeletes: a blob the store will not remove
// yet keeps its intent, and the pass goes on with the others.
func TestProcessIntentsSkipsRefusedDeletes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for range 3 {
		k := glacier.NewBlobKey()
		if err := meta.AddBlobIntent(ctx, k, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := blobs.Put(ctx, k, strings.NewReader("leftover")); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	svc := &glacier.Service{Stores: meta.Roles(), Blobs: refusingBlobs{blobs, keys[1]}, Clock: clock.Real{}}
	n, err := svc.ProcessIntents(ctx, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("ProcessIntents = %d, %v; want 2 removed", n, err)
	}
	left, err := meta.BlobIntents(ctx, time.Now(), 10)
	if err != nil || len(left) != 1 || left[0] != keys[1] {
		t.Errorf("intents left %q (%v), want only the refused %s", left, err, keys[1])
	}
}
