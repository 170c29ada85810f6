package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

const stampAcct = "111122223333"

// stampArchive returns a one-segment archive of 4 bytes in vault v.
func stampArchive(id, vault string) glacier.Archive {
	data := []byte(id[:4])
	h := treehash.Sum(data)
	return glacier.Archive{
		ID: id, AccountID: stampAcct, VaultName: vault, CreatedAt: time.Now().UTC(), Size: int64(len(data)), TreeHash: h,
		Segments: []glacier.Segment{{BlobKey: "blob-" + id, Size: int64(len(data)), TreeHash: h, Leaves: treehash.Leaves(data)}},
	}
}

// wantStamps runs change and checks which of the account's stamps moved.
func wantStamps(t *testing.T, db *DB, what string, authMoves bool, change func(ctx context.Context) error) {
	t.Helper()
	ctx := t.Context()
	a0, d0, err := db.Stamps(ctx, stampAcct)
	if err != nil {
		t.Fatal(err)
	}
	if err := change(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	a1, d1, err := db.Stamps(ctx, stampAcct)
	if err != nil {
		t.Fatal(err)
	}
	if d1 == d0 {
		t.Errorf("%s: the data stamp did not move (%d)", what, d0)
	}
	if authMoves && a1 == a0 {
		t.Errorf("%s: the authorization stamp did not move (%d)", what, a0)
	}
	if !authMoves && a1 != a0 {
		t.Errorf("%s: the authorization stamp moved (%d to %d); it must leave out vault counters", what, a0, a1)
	}
	if a, err := db.AuthStamp(ctx, stampAcct); err != nil || a != a1 {
		t.Errorf("%s: AuthStamp = %d, %v, want %d", what, a, err, a1)
	}
	if d, err := db.DataStamp(ctx, stampAcct); err != nil || d != d1 {
		t.Errorf("%s: DataStamp = %d, %v, want %d", what, d, err, d1)
	}
}

// checkStampSplit: archives created (alone and group-committed) and
// deleted, and a vault touched by an import, move the data stamp only;
// every change to what authorization reads moves both; blob intents move
// neither.
func checkStampSplit(t *testing.T, db *DB) {
	ctx := t.Context()
	now := time.Now().UTC()
	if err := db.CreateAccount(ctx, glacier.Account{ID: stampAcct, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	wantStamps(t, db, "CreateVault", true, func(ctx context.Context) error {
		_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: stampAcct, Name: "v", CreatedAt: now}, 100)
		return err
	})
	wantStamps(t, db, "CreateArchive", false, func(ctx context.Context) error {
		return db.CreateArchive(ctx, stampArchive("archive-0001", "v"))
	})
	wantStamps(t, db, "CreateArchive, 8 at once", false, func(ctx context.Context) error {
		errs := make(chan error, 8)
		for i := range 8 {
			go func() { errs <- db.CreateArchive(ctx, stampArchive(fmt.Sprintf("archive-1%03d", i), "v")) }()
		}
		for range 8 {
			if err := <-errs; err != nil {
				return err
			}
		}
		return nil
	})
	wantStamps(t, db, "DeleteArchive", false, func(ctx context.Context) error {
		_, err := db.DeleteArchive(ctx, stampAcct, "v", "archive-0001", time.Now())
		return err
	})
	wantStamps(t, db, "TouchVault", false, func(ctx context.Context) error {
		return db.TouchVault(ctx, stampAcct, "v", time.Now().Add(time.Hour))
	})
	if v, err := db.GetVault(ctx, stampAcct, "v"); err != nil || v.NumberOfArchives != 8 {
		t.Errorf("GetVault = %+v, %v, want 8 archives", v, err)
	}

	a0, d0, _ := db.Stamps(ctx, stampAcct)
	if err := db.AddBlobIntent(ctx, "intent-key", now); err != nil {
		t.Fatal(err)
	}
	if a1, d1, _ := db.Stamps(ctx, stampAcct); a1 != a0 || d1 != d0 {
		t.Errorf("AddBlobIntent moved the stamps: (%d, %d) to (%d, %d)", a0, d0, a1, d1)
	}

	const policy = `{"Version":"2012-10-17","Statement":[]}`
	for _, c := range []struct {
		what   string
		change func(ctx context.Context) error
	}{
		{"SetAccessPolicy", func(ctx context.Context) error { return db.SetAccessPolicy(ctx, stampAcct, "v", policy) }},
		{"DeleteAccessPolicy", func(ctx context.Context) error { return db.DeleteAccessPolicy(ctx, stampAcct, "v") }},
		{"UpdateLock, initiate", func(ctx context.Context) error {
			return db.UpdateLock(ctx, stampAcct, "v", func(*glacier.Lock) (*glacier.Lock, error) {
				return &glacier.Lock{Policy: policy, State: glacier.LockInProgress, ID: "lock-1", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}, nil
			})
		}},
		{"UpdateLock, abort", func(ctx context.Context) error {
			return db.UpdateLock(ctx, stampAcct, "v", func(*glacier.Lock) (*glacier.Lock, error) { return nil, nil })
		}},
		{"AddTags", func(ctx context.Context) error {
			return db.AddTags(ctx, stampAcct, "v", map[string]string{"k": "x"}, 50)
		}},
		{"RemoveTags", func(ctx context.Context) error { return db.RemoveTags(ctx, stampAcct, "v", []string{"k"}) }},
		{"CreateAccessKey", func(ctx context.Context) error {
			return db.CreateAccessKey(ctx, glacier.AccessKey{ID: "AKIASTAMP00000000001", Secret: "s", AccountID: stampAcct, CreatedAt: now})
		}},
		{"DeleteAccessKey", func(ctx context.Context) error { return db.DeleteAccessKey(ctx, "AKIASTAMP00000000001") }},
		{"CreateUser", func(ctx context.Context) error {
			return db.CreateUser(ctx, glacier.User{AccountID: stampAcct, Name: "u", UserID: "AIDASTAMP0000000001", CreatedAt: now})
		}},
		{"DeleteUser", func(ctx context.Context) error { return db.DeleteUser(ctx, stampAcct, "u") }},
		{"PutInventory", func(ctx context.Context) error {
			_, err := db.PutInventory(ctx, stampAcct, "v", glacier.Inventory{Key: "inventory-1", Count: 8, Size: 32, TakenAt: now})
			return err
		}},
		{"CreateVault w", func(ctx context.Context) error {
			_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: stampAcct, Name: "w", CreatedAt: now}, 100)
			return err
		}},
		{"DeleteVault w", func(ctx context.Context) error {
			_, err := db.DeleteVault(ctx, stampAcct, "w", func(glacier.Vault) error { return nil })
			return err
		}},
	} {
		wantStamps(t, db, c.what, true, c.change)
	}
}

// TestStampSplit: on a fresh database.
func TestStampSplit(t *testing.T) {
	checkStampSplit(t, newDB(t))
}

// TestStampSplitMigratesInPlace: a database made by the schema before
// 0012, with an account whose stamp has moved and a vault with an
// archive, is migrated by Open: the stamps keep answering (the data stamp
// where it was), and the split holds from then on.
func TestStampSplitMigratesInPlace(t *testing.T) {
	ctx := t.Context()
	dsn := newDSN(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version >= 12 {
			break
		}
		if err := migrateStep(ctx, pool, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			t.Fatalf("migration %s: %v", m.name, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO accounts (id, created_at) VALUES ('` + stampAcct + `', 0)`,
		`INSERT INTO vaults (account_id, name, created_at) VALUES ('` + stampAcct + `', 'old', 0)`,
		`UPDATE vaults SET number_of_archives = 1, size_in_bytes = 4 WHERE name = 'old'`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var before int64
	if err := pool.QueryRow(ctx, `SELECT v FROM auth_stamps WHERE account_id = $1`, stampAcct).Scan(&before); err != nil || before != 3 {
		t.Fatalf("the old schema's stamp: %d, %v, want 3 (account, vault, counters)", before, err)
	}
	pool.Close()

	db := mustOpen(t, dsn)
	a, d, err := db.Stamps(ctx, stampAcct)
	if err != nil || d != before || a != 0 {
		t.Fatalf("after the migration: Stamps = %d, %d, %v; want 0, %d", a, d, err, before)
	}
	if v, err := db.GetVault(ctx, stampAcct, "old"); err != nil || v.NumberOfArchives != 1 {
		t.Errorf("GetVault of the old vault = %+v, %v", v, err)
	}
	wantStamps(t, db, "CreateArchive in the old vault", false, func(ctx context.Context) error {
		return db.CreateArchive(ctx, stampArchive("archive-old1", "old"))
	})
	wantStamps(t, db, "AddTags to the old vault", true, func(ctx context.Context) error {
		return db.AddTags(ctx, stampAcct, "old", map[string]string{"k": "x"}, 50)
	})
}
