package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

// mustOpen opens a database at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) metatest.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

// TestReopen checks that committed state survives closing and reopening.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "meta.db") // Open creates the directory
	ctx := t.Context()
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: "111122223333", Name: "v", CreatedAt: t0}, 10); err != nil {
		t.Fatalf("CreateVault: %v", err)
	}
	if err := db.CreateUpload(ctx, glacier.Upload{ID: "u", AccountID: "111122223333", VaultName: "v", PartSize: 1 << 20, CreatedAt: t0}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if _, err := db.PutPart(ctx, glacier.Part{UploadID: "u", Start: 0, Size: 1, BlobKey: "k"}); err != nil {
		t.Fatalf("PutPart: %v", err)
	}
	if err := db.PutSetting(ctx, "clock.offset", "42"); err != nil {
		t.Fatalf("PutSetting: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = mustOpen(t, path)
	v, err := db.GetVault(ctx, "111122223333", "v")
	if err != nil || !v.CreatedAt.Equal(t0) {
		t.Errorf("GetVault after reopen = %+v, %v", v, err)
	}
	parts, err := db.ListParts(ctx, "u", 0, 10)
	if err != nil || len(parts) != 1 || parts[0].BlobKey != "k" {
		t.Errorf("ListParts after reopen = %+v, %v", parts, err)
	}
	if s, err := db.GetSetting(ctx, "clock.offset"); err != nil || s != "42" {
		t.Errorf("GetSetting after reopen = %q, %v", s, err)
	}
}

// TestMigrateTwice checks that applying the migrations again changes
// nothing, directly and through a second Open of the same file.
func TestMigrateTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := mustOpen(t, path)
	ctx := t.Context()
	if err := db.PutSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	before := migrations(t, db.w)
	if len(before) == 0 {
		t.Fatalf("no migrations recorded")
	}
	if err := migrate(ctx, db.w); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	db2 := mustOpen(t, path) // a second store on the same file
	if got := migrations(t, db.w); len(got) != len(before) {
		t.Errorf("migrations after migrating again = %v, want %v", got, before)
	}
	if s, err := db2.GetSetting(ctx, "k"); err != nil || s != "v" {
		t.Errorf("GetSetting through the second store = %q, %v", s, err)
	}
}

// TestNewerSchema checks that a database migrated past what this program
// knows is refused.
func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatalf("Open of a database from the future succeeded")
	}
}

// TestPragmas checks the settings durability depends on, on both pools.
func TestPragmas(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	for name, pool := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
		var mode string
		var sync, fk, timeout int
		if err := pool.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 || fk != 1 || timeout != int(busyTimeout.Milliseconds()) {
			t.Errorf("%s: journal_mode %s, synchronous %d, foreign_keys %d, busy_timeout %d; want wal, 2 (FULL), 1, %d",
				name, mode, sync, fk, timeout, busyTimeout.Milliseconds())
		}
	}
	if _, err := db.r.Exec(`INSERT INTO settings (key, value) VALUES ('x', 'y')`); err == nil {
		t.Errorf("the read pool accepted a write")
	}
}

// TestOpenRejectsDSN checks that Open takes only plain paths.
func TestOpenRejectsDSN(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "x.db?_pragma=foo")} {
		if db, err := Open(p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func migrations(t *testing.T, w *sql.DB) []string {
	t.Helper()
	rows, err := w.Query(`SELECT name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// TestBusyIsUnavailable checks that a write lock held by another process
// beyond the busy timeout is reported as KindUnavailable, and that the
// store works again once the lock is gone.
func TestBusyIsUnavailable(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 50 * time.Millisecond
	path := filepath.Join(t.TempDir(), "meta.db")
	db := mustOpen(t, path)
	ctx := t.Context()

	// Another "process": its own connection holding the write lock.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	err = db.PutSetting(ctx, "k", "v")
	if got := glacier.KindOf(err); got != glacier.KindUnavailable {
		t.Errorf("PutSetting while locked: error %v of kind %v, want %v", err, got, glacier.KindUnavailable)
	}
	// Readers are not blocked by a writer in WAL mode.
	if _, err := db.GetSetting(ctx, "k"); err != nil {
		t.Errorf("GetSetting while locked: %v", err)
	}

	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(ctx, "k", "v"); err != nil {
		t.Errorf("PutSetting after the lock is gone: %v", err)
	}
}

// TestDuplicateArchiveIsConflict checks the classification of a unique
// violation.
func TestDuplicateArchiveIsConflict(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := t.Context()
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: "111122223333", Name: "v"}, 10); err != nil {
		t.Fatal(err)
	}
	a := glacier.Archive{ID: "a", AccountID: "111122223333", VaultName: "v", Size: 1,
		Segments: []glacier.Segment{{BlobKey: "k", Size: 1}}}
	if err := db.CreateArchive(ctx, a); err != nil {
		t.Fatal(err)
	}
	err := db.CreateArchive(ctx, a)
	if got := glacier.KindOf(err); got != glacier.KindConflict {
		t.Errorf("CreateArchive of an existing id: error %v of kind %v, want %v", err, got, glacier.KindConflict)
	}
	v, err := db.GetVault(ctx, "111122223333", "v")
	if err != nil || v.NumberOfArchives != 1 {
		t.Errorf("vault after the refused duplicate = %+v, %v; want 1 archive", v, err)
	}
}

// TestCompleteUploadDuplicateArchive checks that an archive id collision
// while completing is not mistaken for the contract's "upload not open".
func TestCompleteUploadDuplicateArchive(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := t.Context()
	const acct = "111122223333"
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v"}, 10); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateArchive(ctx, glacier.Archive{ID: "a", AccountID: acct, VaultName: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUpload(ctx, glacier.Upload{ID: "u", AccountID: acct, VaultName: "v", PartSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	_, err := db.CompleteUpload(ctx, "u", glacier.Archive{ID: "a", AccountID: acct, VaultName: "v"},
		func(glacier.Upload, []glacier.Part) error { return nil })
	if got := glacier.KindOf(err); got != glacier.KindInternal {
		t.Errorf("CompleteUpload onto an existing archive id: error %v of kind %v, want %v", err, got, glacier.KindInternal)
	}
	u, err := db.GetUpload(ctx, acct, "v", "u")
	if err != nil || u.State != glacier.UploadOpen {
		t.Errorf("upload after the failed completion = %+v, %v; want it open", u, err)
	}
}
