package authcache_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/authcache"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

const acct = "111122223333"

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWrapReplacesOnlyCachedRoles: the cache stands in front of the
// identity, vault and policy roles; every other role is the store itself,
// and without stamps nothing is wrapped.
func TestWrapReplacesOnlyCachedRoles(t *testing.T) {
	db := open(t)
	raw := db.Roles()
	if got := authcache.Wrap(raw, nil); got != raw {
		t.Errorf("Wrap without stamps changed the roles: %+v", got)
	}
	w := authcache.Wrap(raw, db)
	if _, ok := w.Identity.(*authcache.Identity); !ok {
		t.Errorf("Identity = %T, want the cache", w.Identity)
	}
	if _, ok := w.Vaults.(*authcache.Vaults); !ok {
		t.Errorf("Vaults = %T, want the cache", w.Vaults)
	}
	if _, ok := w.Policies.(*authcache.Policies); !ok {
		t.Errorf("Policies = %T, want the cache", w.Policies)
	}
	if w.Archives != raw.Archives || w.Uploads != raw.Uploads || w.Jobs != raw.Jobs ||
		w.Housekeeping != raw.Housekeeping || w.Intents != raw.Intents || w.Settings != raw.Settings {
		t.Errorf("roles the cache does not keep were wrapped: %+v", w)
	}
}

// TestCacheIsExact: a change committed through the store itself (not the
// cache) is seen by the next read through the cache.
func TestCacheIsExact(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	raw := db.Roles()
	w := authcache.Wrap(raw, db)
	now := time.Now().UTC()
	if err := raw.Identity.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	k := glacier.AccessKey{ID: "AKIAEXAMPLE000000001", Secret: "s", AccountID: acct, CreatedAt: now}
	if err := raw.Identity.CreateAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read is served from memory
		if got, err := w.Identity.GetAccessKey(ctx, k.ID); err != nil || got.Secret != "s" {
			t.Fatalf("GetAccessKey = %+v, %v", got, err)
		}
	}
	if err := raw.Identity.DeleteAccessKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Identity.GetAccessKey(ctx, k.ID); !glacier.IsNotFound(err) {
		t.Errorf("GetAccessKey after the key was deleted: %v, want KindNotFound", err)
	}

	if _, _, err := raw.Vaults.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if vp, err := w.Policies.VaultPolicies(ctx, acct, "v"); err != nil || vp.AccessPolicy != "" {
			t.Fatalf("VaultPolicies = %+v, %v", vp, err)
		}
		if vs, err := w.Vaults.ListVaults(ctx, acct, "", 10); err != nil || len(vs) != 1 {
			t.Fatalf("ListVaults = %v, %v", vs, err)
		}
	}
	const policy = `{"Version":"2012-10-17","Statement":[]}`
	if err := raw.Policies.SetAccessPolicy(ctx, acct, "v", policy); err != nil {
		t.Fatal(err)
	}
	if vp, err := w.Policies.VaultPolicies(ctx, acct, "v"); err != nil || vp.AccessPolicy != policy {
		t.Errorf("VaultPolicies after SetAccessPolicy = %+v, %v", vp, err)
	}
	if _, _, err := raw.Vaults.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "w", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	if vs, err := w.Vaults.ListVaults(ctx, acct, "", 10); err != nil || len(vs) != 2 {
		t.Errorf("ListVaults after a second vault = %v, %v", vs, err)
	}
}

// TestListVaultsSharesOneSlicePerRead: while the stamps hold, every
// ListVaults gets the one slice kept (not a copy); after a change the
// next read is a new slice, and the old one is left as it was (callers
// such as the API's rendered answers tell pages apart by their slice).
func TestListVaultsSharesOneSlicePerRead(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	raw := db.Roles()
	w := authcache.Wrap(raw, db)
	now := time.Now().UTC()
	if err := raw.Identity.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if _, _, err := raw.Vaults.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: name, CreatedAt: now}, 10); err != nil {
			t.Fatal(err)
		}
	}
	first, err := w.Vaults.ListVaults(ctx, acct, "", 10)
	if err != nil || len(first) != 2 {
		t.Fatalf("ListVaults = %v, %v", first, err)
	}
	again, err := w.Vaults.ListVaults(ctx, acct, "", 10)
	if err != nil || len(again) != 2 || &again[0] != &first[0] {
		t.Fatalf("a second read while nothing changed is not the kept slice: %v, %v", again, err)
	}
	if _, _, err := raw.Vaults.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "c", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	after, err := w.Vaults.ListVaults(ctx, acct, "", 10)
	if err != nil || len(after) != 3 || &after[0] == &first[0] {
		t.Fatalf("after a change: %v, %v (want three vaults in a new slice)", after, err)
	}
	if len(first) != 2 || first[0].Name != "a" || first[1].Name != "b" {
		t.Errorf("the old slice changed: %v", first)
	}
}
