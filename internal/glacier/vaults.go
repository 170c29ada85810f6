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
	got, _, err := s.Meta.CreateVault(ctx, v, s.maxVaults())
	if KindOf(err) == KindLimitExceeded {
		return Vault{}, Errorf(KindLimitExceeded, "The maximum number of vaults (%d) has been reached for account %s", s.maxVaults(), accountID)
	}
	return got, err
}

// DescribeVault returns a vault's metadata.
func (s *Service) DescribeVault(ctx context.Context, c *Caller, accountID, name string) (Vault, error) {
	return s.authorizeVault(ctx, c, "DescribeVault", accountID, name)
}

// ListVaults returns up to limit vaults whose names are >= from, and the
// name of the vault that starts the next page ("" at the end).
func (s *Service) ListVaults(ctx context.Context, c *Caller, accountID, from string, limit int) ([]Vault, string, error) {
	err := s.authorize(ctx, Access{Caller: c, Action: "glacier:ListVaults", AccountID: accountID, Resource: "*", Now: s.Clock.Now()})
	if err != nil {
		return nil, "", err
	}
	vs, err := s.Meta.ListVaults(ctx, accountID, from, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(vs) > limit {
		return vs[:limit], vs[limit].Name, nil
	}
	return vs, "", nil
}

// DeleteVault deletes a vault that holds no archives (operations.md §4.2).
// Until inventories exist the check is made against the live archive
// count, as if the inventory were always current.
func (s *Service) DeleteVault(ctx context.Context, c *Caller, accountID, name string) error {
	if _, err := s.authorizeVault(ctx, c, "DeleteVault", accountID, name); err != nil {
		return err
	}
	orphans, err := s.Meta.DeleteVault(ctx, accountID, name, func(v Vault) error {
		if v.NumberOfArchives > 0 {
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
