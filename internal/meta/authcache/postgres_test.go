package authcache_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/authcache"
	"github.com/permafrost/permafrost/internal/meta/postgres"
	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// countingIdentity counts the access keys read from the store.
type countingIdentity struct {
	glacier.IdentityStore
	keys atomic.Int64
}

func (c *countingIdentity) GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error) {
	c.keys.Add(1)
	return c.IdentityStore.GetAccessKey(ctx, id)
}

// countingPolicies counts the vault policies read from the store.
type countingPolicies struct {
	glacier.PolicyStore
	reads atomic.Int64
}

func (c *countingPolicies) VaultPolicies(ctx context.Context, accountID, vault string) (glacier.VaultPolicies, error) {
	c.reads.Add(1)
	return c.PolicyStore.VaultPolicies(ctx, accountID, vault)
}

// pgNode is one server's view of a shared PostgreSQL database: its own
// store (pool) and cache.
type pgNode struct {
	db       *postgres.DB
	cached   glacier.Stores
	identity *countingIdentity
	policies *countingPolicies
}

func openPGNode(t *testing.T, dsn string) *pgNode {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := db.Roles()
	n := &pgNode{db: db, identity: &countingIdentity{IdentityStore: raw.Identity}, policies: &countingPolicies{PolicyStore: raw.Policies}}
	raw.Identity, raw.Policies = n.identity, n.policies
	n.cached = authcache.Wrap(raw, db)
	return n
}

// TestPostgresUploadKeepsAuthorizationCached: on PostgreSQL, two nodes on
// one database. An archive created through node A leaves node B's cached
// access key and vault policies in use (they are not read again), while
// B's next VaultPolicies and ListVaults show the new counters at once. A
// policy set through A is seen by B's next read.
func TestPostgresUploadKeepsAuthorizationCached(t *testing.T) {
	ctx := t.Context()
	dsn := testenv.PostgresDSN(t)
	a, b := openPGNode(t, dsn), openPGNode(t, dsn)
	now := time.Now().UTC()
	if err := a.db.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	k := glacier.AccessKey{ID: "AKIAEXAMPLE000000001", Secret: "s", AccountID: acct, CreatedAt: now}
	if err := a.db.CreateAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: now}, 10); err != nil {
		t.Fatal(err)
	}
	use := func(what string, wantArchives int64) {
		t.Helper()
		if got, err := b.cached.Identity.GetAccessKey(ctx, k.ID); err != nil || got.Secret != "s" {
			t.Fatalf("%s: GetAccessKey = %+v, %v", what, got, err)
		}
		vp, err := b.cached.Policies.VaultPolicies(ctx, acct, "v")
		if err != nil || vp.Vault.NumberOfArchives != wantArchives {
			t.Fatalf("%s: VaultPolicies = %+v, %v; want %d archives", what, vp, err, wantArchives)
		}
		vs, err := b.cached.Vaults.ListVaults(ctx, acct, "", 10)
		if err != nil || len(vs) != 1 || vs[0].NumberOfArchives != wantArchives {
			t.Fatalf("%s: ListVaults = %+v, %v; want 1 vault of %d archives", what, vs, err, wantArchives)
		}
	}
	use("first use", 0)
	use("second use", 0)
	keys, policies := b.identity.keys.Load(), b.policies.reads.Load()

	for i, id := range []string{"archive-0001", "archive-0002"} {
		data := []byte(id)
		h := treehash.Sum(data)
		ar := glacier.Archive{ID: id, AccountID: acct, VaultName: "v", CreatedAt: now, Size: int64(len(data)), TreeHash: h,
			Segments: []glacier.Segment{{BlobKey: "blob-" + id, Size: int64(len(data)), TreeHash: h, Leaves: treehash.Leaves(data)}}}
		if err := a.db.CreateArchive(ctx, ar); err != nil {
			t.Fatal(err)
		}
		use("after an upload through A", int64(i+1))
	}
	if n := b.identity.keys.Load(); n != keys {
		t.Errorf("B read the access key %d more times after uploads through A; the key must stay cached", n-keys)
	}
	if n := b.policies.reads.Load(); n != policies {
		t.Errorf("B read the vault policies %d more times after uploads through A; they must stay cached (the vault's record alone read again)", n-policies)
	}

	const policy = `{"Version":"2012-10-17","Statement":[]}`
	if err := a.db.SetAccessPolicy(ctx, acct, "v", policy); err != nil {
		t.Fatal(err)
	}
	if vp, err := b.cached.Policies.VaultPolicies(ctx, acct, "v"); err != nil || vp.AccessPolicy != policy || vp.Vault.NumberOfArchives != 2 {
		t.Errorf("B's VaultPolicies after a policy set through A = %+v, %v", vp, err)
	}
	if err := a.db.DeleteAccessKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.cached.Identity.GetAccessKey(ctx, k.ID); !glacier.IsNotFound(err) {
		t.Errorf("B's GetAccessKey after the key was deleted through A: %v, want KindNotFound", err)
	}
}
