package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestGroupCommit: concurrent archive writes share commits; one that fails
// (its vault does not exist, or its id is taken) fails alone, every other
// one is stored and counted exactly once, and a delete in the same batches
// is applied.
func TestGroupCommit(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: "111122223333", Name: "v", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	arch := func(i int, vault string) glacier.Archive {
		return glacier.Archive{ID: fmt.Sprintf("archive-%03d", i), AccountID: "111122223333", VaultName: vault, CreatedAt: now, Size: 10,
			Segments: []glacier.Segment{{BlobKey: fmt.Sprintf("blob-%03d", i), Size: 10}}}
	}
	for _, i := range []int{0, 999} {
		if err := db.CreateArchive(ctx, arch(i, "v")); err != nil {
			t.Fatal(err)
		}
	}
	const n = 120
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() {
			switch {
			case i%10 == 0:
				errs[i] = db.CreateArchive(ctx, arch(i, "missing"))
			case i%10 == 5:
				errs[i] = db.CreateArchive(ctx, arch(999, "v")) // id taken
			case i == 7:
				_, errs[i] = db.DeleteArchive(ctx, "111122223333", "v", "archive-000", now)
			default:
				errs[i] = db.CreateArchive(ctx, arch(i, "v"))
			}
		})
	}
	wg.Wait()
	stored := 1 // archive-999
	for i := 1; i < n; i++ {
		switch {
		case i%10 == 0:
			if !glacier.IsNotFound(errs[i]) {
				t.Errorf("write %d to a missing vault: %v, want not found", i, errs[i])
			}
		case i%10 == 5:
			if errs[i] == nil {
				t.Errorf("write %d with a taken id succeeded", i)
			}
		case i == 7:
			if errs[i] != nil {
				t.Errorf("delete: %v", errs[i])
			}
		default:
			if errs[i] != nil {
				t.Errorf("write %d: %v", i, errs[i])
				continue
			}
			stored++
			if _, err := db.GetArchive(ctx, arch(i, "v").ID); err != nil {
				t.Errorf("archive %d acknowledged but not stored: %v", i, err)
			}
		}
	}
	v, err := db.GetVault(ctx, "111122223333", "v")
	if err != nil {
		t.Fatal(err)
	}
	if v.NumberOfArchives != int64(stored) || v.SizeInBytes != int64(10*stored) {
		t.Errorf("vault counts %d archives, %d bytes; want %d, %d", v.NumberOfArchives, v.SizeInBytes, stored, 10*stored)
	}
}
