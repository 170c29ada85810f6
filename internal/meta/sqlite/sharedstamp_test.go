package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestStampsSplit: archive writes (group commit) move the data stamp and
// leave the authorization stamp; every other write moves both.
func TestStampsSplit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.stamp == nil {
		t.Fatal("the shared stamp is not mapped")
	}
	stamps := func() (int64, int64) {
		a, _ := db.AuthStamp(ctx, "acct")
		d, _ := db.DataStamp(ctx, "acct")
		return a, d
	}
	a0, d0 := stamps()
	now := time.Now().UTC()
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: "acct", Name: "v", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	a1, d1 := stamps()
	if a1 == a0 || d1 == d0 || a1 < 0 || d1 < 0 {
		t.Fatalf("CreateVault: stamps %d/%d → %d/%d, want both moved", a0, d0, a1, d1)
	}
	if err := db.AddBlobIntent(ctx, "a/00/x", now); err != nil {
		t.Fatal(err)
	}
	arch := glacier.Archive{ID: "arch", AccountID: "acct", VaultName: "v", CreatedAt: now, Size: 1,
		Segments: []glacier.Segment{{BlobKey: "a/00/x", Size: 1}}}
	if err := db.CreateArchive(ctx, arch); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteArchive(ctx, "acct", "v", "arch", now); err != nil {
		t.Fatal(err)
	}
	a2, d2 := stamps()
	if a2 != a1 || d2 == d1 || d2 < 0 {
		t.Fatalf("archive writes: stamps %d/%d → %d/%d, want the authorization stamp kept and the data stamp moved", a1, d1, a2, d2)
	}
	if err := db.SetAccessPolicy(ctx, "acct", "v", `{}`); err != nil {
		t.Fatal(err)
	}
	if a3, d3 := stamps(); a3 == a2 || d3 == d2 {
		t.Fatalf("SetAccessPolicy: stamps %d/%d → %d/%d, want both moved", a2, d2, a3, d3)
	}
}

// TestStampCrashCleared: a writer that died mid-write leaves the stamps "in
// flight"; the next process to open the store alone clears them, while one
// that opens it beside another holder leaves them.
func TestStampCrashCleared(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.stamp.begin(true) // never ended: the writer "dies"
	if a, _ := db.AuthStamp(ctx, "acct"); a != -1 {
		t.Fatalf("a write in flight: AuthStamp %d, want -1", a)
	}
	// A second handle beside the first (another process, as far as the
	// flock is concerned: a new open file description) must not clear it.
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := other.AuthStamp(ctx, "acct"); a != -1 {
		t.Fatalf("opened beside a holder: AuthStamp %d, want -1 (a writer may be alive)", a)
	}
	db.Close()
	other.Close()
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	a, _ := again.AuthStamp(ctx, "acct")
	d, _ := again.DataStamp(ctx, "acct")
	if a < 0 || d < 0 {
		t.Fatalf("opened alone after the crash: stamps %d/%d, want cleared", a, d)
	}
}
