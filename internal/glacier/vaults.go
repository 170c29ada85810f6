package glacier

import (
	"context"
)

// CreateVault creates a vault, or returns the existing one of that name
// (operations.md §4.1: idempotent).
func (s *Service) CreateVault(ctx context.Context, c *Caller, accountID, name string) (Vault, error) {
	if err := validateVaultName(name); err != nil {
		return Vault{}, err
	}
	// Identity policies only: a vault that does not exist has no resource
	// policy, and an existing one is not consulted for creation.
	if err := s.authorize(ctx, s.vaultAccess(c, "CreateVault", accountID, name, nil)); err != nil {
		return Vault{}, err
	}
	v := Vault{AccountID: accountID, Name: name, CreatedAt: s.Clock.Now()}
	got, _, err := s.Vaults.CreateVault(ctx, v, s.maxVaults())
	if KindOf(err) == KindLimitExceeded {
		return Vault{}, Errorf(KindLimitExceeded, "The maximum number of vaults (%d) has been reached for account %s", s.maxVaults(), accountID)
	}
	return got, err
}

// DescribeVault returns a vault's metadata, with the counts as of its last
// inventory (operations.md §4.3).
func (s *Service) DescribeVault(ctx context.Context, c *Caller, accountID, name string) (Vault, error) {
	v, err := s.authorizeVault(ctx, c, "DescribeVault", accountID, name)
	return s.reported(v), err
}

// reported returns v with NumberOfArchives, SizeInBytes and
// LastInventoryAt as clients see them: from the last inventory snapshot,
// or, when inventories are always current (InventoryInterval 0), the live
// counts as of the last write.
func (s *Service) reported(v Vault) Vault {
	if s.InventoryInterval > 0 {
		v.NumberOfArchives, v.SizeInBytes = v.Inventory.Count, v.Inventory.Size
	} else if v.LastWriteAt.After(v.LastInventoryAt) {
		v.LastInventoryAt = v.LastWriteAt
	}
	return v
}

// ListVaults returns up to limit vaults whose names are >= from, and the
// name of the vault that starts the next page ("" at the end).
func (s *Service) ListVaults(ctx context.Context, c *Caller, accountID, from string, limit int) ([]Vault, string, error) {
	p, err := s.ListVaultPage(ctx, c, accountID, from, limit)
	if err != nil {
		return nil, "", err
	}
	vs := make([]Vault, len(p.Stored)) // p.Stored may be shared with the store's cache
	for i := range vs {
		vs[i] = p.Vault(i)
	}
	return vs, p.Next, nil
}

// DeleteVault deletes a vault that held no archives as of its last
// inventory and has had no write since (operations.md §4.2). The live
// count is checked too, inside the deleting transaction: a vault that
// holds an archive is never deleted, whatever its inventory says.
func (s *Service) DeleteVault(ctx context.Context, c *Caller, accountID, name string) error {
	if _, err := s.authorizeVault(ctx, c, "DeleteVault", accountID, name); err != nil {
		return err
	}
	orphans, err := s.Vaults.DeleteVault(ctx, accountID, name, func(v Vault) error {
		if v.NumberOfArchives > 0 || s.InventoryInterval > 0 && (v.Inventory.Count > 0 || v.LastWriteAt.After(v.LastInventoryAt)) {
			return Errorf(KindInvalidParameter, "Vault not empty or recently written to: %s", s.VaultARN(accountID, name))
		}
		return nil
	})
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, name)
	}
	if err != nil {
		return err
	}
	s.deleteBlobs(ctx, orphans)
	return nil
}
