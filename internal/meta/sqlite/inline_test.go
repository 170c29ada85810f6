package sqlite

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// TestInlineDatabaseFull: when the database cannot grow (a full disk; here
// its page limit, which SQLite reports with the same SQLITE_FULL), an
// archive with inline bytes is refused with KindUnavailable and a message
// saying so, and nothing of it is stored; once there is room it goes in.
func TestInlineDatabaseFull(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: "111122223333", Name: "v", CreatedAt: time.Now()}, 10); err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 64<<10)
	key := fmt.Sprintf("inline/%032x", 1)
	a := glacier.Archive{ID: "big", AccountID: "111122223333", VaultName: "v", CreatedAt: time.Now(), Size: int64(len(data)), TreeHash: treehash.Sum(data),
		Segments: []glacier.Segment{{BlobKey: key, Size: int64(len(data)), TreeHash: treehash.Sum(data), Inline: data}}}
	err := db.CreateArchive(ctx, a)
	if glacier.KindOf(err) != glacier.KindUnavailable || glacier.MessageOf(err) == "" || !bytes.Contains([]byte(glacier.MessageOf(err)), []byte("metadata disk is full")) {
		t.Fatalf("CreateArchive on a full database: %v (kind %v); want KindUnavailable saying the disk is full", err, glacier.KindOf(err))
	}
	if _, err := db.GetArchive(ctx, "big"); !glacier.IsNotFound(err) {
		t.Errorf("the refused archive: %v; want not found", err)
	}
	if _, err := db.GetInlineBlob(ctx, key); !glacier.IsNotFound(err) {
		t.Errorf("the refused archive's inline bytes: %v; want not found", err)
	}
	if v, err := db.GetVault(ctx, "111122223333", "v"); err != nil || v.NumberOfArchives != 0 {
		t.Errorf("the vault after the refusal: %+v, %v", v, err)
	}
	err = db.PutInlineBlob(ctx, key, data, time.Now())
	if glacier.KindOf(err) != glacier.KindUnavailable {
		t.Errorf("PutInlineBlob on a full database: %v; want KindUnavailable", err)
	}

	if _, err := db.w.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateArchive(ctx, a); err != nil {
		t.Fatalf("CreateArchive once there is room: %v", err)
	}
	if got, err := db.GetInlineBlob(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Errorf("GetInlineBlob = %d bytes, %v", len(got), err)
	}
}
