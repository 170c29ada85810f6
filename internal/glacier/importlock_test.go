package glacier_test

import (
	"context"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestCopyVaultLock: an import locks the destination with the source's
// lock policy once; a vault Locked with another policy is refused.
func TestCopyVaultLock(t *testing.T) {
	ctx := context.Background()
	s, db := identityService(t)
	s.Region = "eu-west-1"
	const acct, vault = "111122223333", "copied"
	if _, err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	root := &glacier.Caller{Principal: glacier.RootPrincipal(acct, "")}
	if _, err := s.CreateVault(ctx, root, acct, vault); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"keep","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` +
		glacier.VaultARN("eu-west-1", acct, vault) + `"}]}`

	copied, err := s.CopyVaultLock(ctx, root, acct, vault, policy)
	if err != nil || !copied {
		t.Fatalf("CopyVaultLock = %v, %v; want copied", copied, err)
	}
	l, err := db.GetLock(ctx, acct, vault)
	if err != nil || l == nil || l.State != glacier.LockLocked || l.Policy != policy {
		t.Fatalf("lock after the copy: %+v, %v; want Locked with the policy", l, err)
	}
	if copied, err := s.CopyVaultLock(ctx, root, acct, vault, policy); err != nil || copied {
		t.Errorf("CopyVaultLock again = %v, %v; want nothing to do", copied, err)
	}
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteVault","Resource":"*"}]}`
	_, err = s.CopyVaultLock(ctx, root, acct, vault, other)
	if glacier.KindOf(err) != glacier.KindInvalidParameter {
		t.Errorf("CopyVaultLock with another policy = %v, want invalid parameter", err)
	}
	if l, _ := db.GetLock(ctx, acct, vault); l == nil || l.Policy != policy {
		t.Errorf("the refused copy changed the lock: %+v", l)
	}
	if _, err := s.CopyVaultLock(ctx, root, acct, "missing", policy); err == nil {
		t.Errorf("CopyVaultLock on a missing vault succeeded")
	}
}
