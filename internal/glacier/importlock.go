package glacier

import (
	"context"
	"fmt"
)

// CopyVaultLock locks a vault with policy at once, as an import copies a
// source vault's Locked lock: InitiateVaultLock and CompleteVaultLock as
// c, so that every check and the authorization of both apply. It does
// nothing (copied false) when the vault is already Locked with that
// policy, and refuses (KindInvalidParameter) when it is Locked with
// another one.
func (s *Service) CopyVaultLock(ctx context.Context, c *Caller, accountID, vault, policy string) (copied bool, err error) {
	cur, err := s.Policies.GetLock(ctx, accountID, vault)
	if err != nil {
		return false, err
	}
	if cur != nil && cur.State == LockLocked {
		if cur.Policy != policy {
			return false, Errorf(KindInvalidParameter, "vault %s is already locked with another lock policy; the source's lock was not copied", vault)
		}
		return false, nil
	}
	id, err := s.InitiateVaultLock(ctx, c, accountID, vault, policy)
	if err != nil {
		return false, fmt.Errorf("copying the vault lock: %w", err)
	}
	if err := s.CompleteVaultLock(ctx, c, accountID, vault, id); err != nil {
		return false, fmt.Errorf("completing the vault lock: %w", err)
	}
	return true, nil
}
