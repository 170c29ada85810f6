package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	pf "github.com/permafrost/permafrost/internal/glacier"
)

// TestMultiNodeAuthCacheExact: node B keeps keys, users and vaults with
// their policies in memory (internal/meta/authcache). A key, a user, an
// access policy, a lock and the vault's counters changed through node A
// (or its store) are seen by the very next request on B, each time after B
// had just used, and so cached, the old state.
func TestMultiNodeAuthCacheExact(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	authCacheExact(t, nodes[0], nodes[1])
}

// TestAuthCacheExact is the same on one embedded server, with the key and
// user changes made through a second handle on its database (as the
// operator commands do beside a running server).
func TestAuthCacheExact(t *testing.T) {
	ts := mustServe(t)
	authCacheExact(t, ts, ts)

	// And through the operator commands run as separate processes beside
	// the server: a key created, used (cached), deleted — refused at once.
	bin := permafrostBinary(t)
	cli := func(args ...string) []byte {
		t.Helper()
		args = append(append(args[:2:2], storeArgs(t, ts.Config.DataDir)...), args[2:]...)
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("permafrost %v: %v", args, err)
		}
		return out
	}
	var k struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(cli("keys", "create", "--account-id", ts.AccountID, "--json"), &k); err != nil || k.AccessKeyID == "" {
		t.Fatalf("keys create --json: %v %+v", err, k)
	}
	c := ts.clientFor(k.AccessKeyID, k.SecretAccessKey)
	ctx := context.Background()
	for range 3 {
		if _, err := c.ListVaults(ctx, &glacier.ListVaultsInput{}); err != nil {
			t.Fatalf("new key from another process: %v", err)
		}
	}
	cli("keys", "delete", k.AccessKeyID)
	_, err := c.ListVaults(ctx, &glacier.ListVaultsInput{})
	if err == nil {
		t.Fatal("a key deleted by another process still works on the server")
	}
	wantAPIError(t, err, "UnrecognizedClientException", 400)
}

func authCacheExact(t *testing.T, a, b *testServer) {
	ctx := context.Background()
	ca, cb := a.client(), b.client()
	// Changes to keys and users go through A's store directly (below A's
	// cache), as `permafrost keys|users` do from another process.
	store := a.stores.meta
	vault := aws.String("cached")
	if _, err := ca.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	describe := func(c *glacier.Client) (*glacier.DescribeVaultOutput, error) {
		return c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault})
	}
	mustDescribe := func(what string, c *glacier.Client) *glacier.DescribeVaultOutput {
		t.Helper()
		for range 3 { // several times: the second and third come from memory
			out, err := describe(c)
			if err != nil {
				t.Fatalf("%s: DescribeVault: %v", what, err)
			}
			if out == nil {
				t.Fatalf("%s: no output", what)
			}
		}
		out, _ := describe(c)
		return out
	}
	mustDeny := func(what string, c *glacier.Client, code string, status int) {
		t.Helper()
		_, err := describe(c)
		if err == nil {
			t.Fatalf("%s: DescribeVault succeeded on the other node right after the change", what)
		}
		wantAPIError(t, err, code, status)
	}

	// Counters: an upload through A shows in B's DescribeVault at once.
	mustDescribe("before upload", cb)
	data := []byte("cached counters")
	up, err := ca.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if out := mustDescribe("after upload", cb); out.NumberOfArchives != 1 {
		t.Errorf("after an upload through A, B describes %d archives, want 1", out.NumberOfArchives)
	}
	if _, err := ca.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId}); err != nil {
		t.Fatal(err)
	}
	if out := mustDescribe("after delete", cb); out.NumberOfArchives != 0 {
		t.Errorf("after a delete through A, B describes %d archives, want 0", out.NumberOfArchives)
	}
	// Vault lists show the counters too (uploads do not move either
	// store's authorization stamp, only its data stamp).
	listed := func(what string) int64 {
		t.Helper()
		var n int64 = -1
		for range 3 {
			out, err := cb.ListVaults(ctx, &glacier.ListVaultsInput{})
			if err != nil {
				t.Fatalf("%s: ListVaults: %v", what, err)
			}
			for _, v := range out.VaultList {
				if aws.ToString(v.VaultName) == *vault {
					n = v.NumberOfArchives
				}
			}
		}
		return n
	}
	listed("before upload")
	up, err = ca.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if n := listed("after upload"); n != 1 {
		t.Errorf("after an upload through A, B lists %d archives, want 1", n)
	}
	if _, err := ca.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId}); err != nil {
		t.Fatal(err)
	}
	if n := listed("after delete"); n != 0 {
		t.Errorf("after a delete through A, B lists %d archives, want 0", n)
	}

	// Access policy: set through A, binding on B's next request; removed,
	// lifted on B's next request.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DescribeVault","Resource":"*"}]}`
	if _, err := ca.SetVaultAccessPolicy(ctx, &glacier.SetVaultAccessPolicyInput{VaultName: vault, Policy: &types.VaultAccessPolicy{Policy: aws.String(deny)}}); err != nil {
		t.Fatal(err)
	}
	mustDeny("access policy set", cb, "AccessDeniedException", 403)
	// An upload in between (its counters refreshed under the cached
	// policy) neither lifts the policy nor keeps it once deleted.
	up, err = ca.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	mustDeny("access policy set, after an upload", cb, "AccessDeniedException", 403)
	mustDeny("access policy set, after an upload, again", cb, "AccessDeniedException", 403)
	if _, err := ca.DeleteVaultAccessPolicy(ctx, &glacier.DeleteVaultAccessPolicyInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	if out := mustDescribe("access policy deleted", cb); out.NumberOfArchives != 1 {
		t.Errorf("after the policy's deletion, B describes %d archives, want 1", out.NumberOfArchives)
	}
	if _, err := ca.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId}); err != nil {
		t.Fatal(err)
	}
	if out := mustDescribe("archive deleted", cb); out.NumberOfArchives != 0 {
		t.Errorf("after a delete through A, B describes %d archives, want 0", out.NumberOfArchives)
	}

	// Lock: an in-progress lock's policy binds on B at once; aborting it
	// through A lifts it on B at once.
	if _, err := ca.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &types.VaultLockPolicy{Policy: aws.String(deny)}}); err != nil {
		t.Fatal(err)
	}
	mustDeny("lock initiated", cb, "AccessDeniedException", 403)
	if _, err := ca.AbortVaultLock(ctx, &glacier.AbortVaultLockInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	mustDescribe("lock aborted", cb)

	// Key: a second root key, used (cached) on B, then deleted on A: B
	// refuses it on the next request.
	k := newAccessKey(a.AccountID, "", time.Now().UTC())
	if err := store.CreateAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	ck := b.clientFor(k.ID, k.Secret)
	mustDescribe("new key", ck)
	if err := store.DeleteAccessKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	mustDeny("key deleted", ck, "UnrecognizedClientException", 400)
	mustDescribe("other key after delete", cb)

	// User: allowed by its identity policy, used (cached) on B; deleted and
	// recreated under the same name with the same key but no policy: B
	// denies at once. Deleted again: its key is refused at once.
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:DescribeVault","Resource":"*"}]}`
	u := pf.User{AccountID: a.AccountID, Name: "cached-user", UserID: newUserID(), Policy: allow, CreatedAt: time.Now().UTC()}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	uk := newAccessKey(a.AccountID, u.Name, time.Now().UTC())
	if err := store.CreateAccessKey(ctx, uk); err != nil {
		t.Fatal(err)
	}
	cu := b.clientFor(uk.ID, uk.Secret)
	mustDescribe("user allowed", cu)
	if err := store.DeleteUser(ctx, a.AccountID, u.Name); err != nil {
		t.Fatal(err)
	}
	u.Policy, u.UserID = "", newUserID()
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateAccessKey(ctx, uk); err != nil {
		t.Fatal(err)
	}
	mustDeny("user's policy gone", cu, "AccessDeniedException", 403)
	if err := store.DeleteUser(ctx, a.AccountID, u.Name); err != nil {
		t.Fatal(err)
	}
	mustDeny("user deleted", cu, "UnrecognizedClientException", 400)

	// ListVaults on B sees a vault created and one deleted through A.
	list := func() int {
		out, err := cb.ListVaults(ctx, &glacier.ListVaultsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.VaultList)
	}
	n := list()
	list()
	if _, err := ca.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("cached-2")}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != n+1 {
		t.Errorf("ListVaults on B after CreateVault on A: %d vaults, want %d", got, n+1)
	}
	if _, err := ca.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("cached-2")}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != n {
		t.Errorf("ListVaults on B after DeleteVault on A: %d vaults, want %d", got, n)
	}
}
