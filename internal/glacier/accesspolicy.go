package glacier

import "context"

// SetVaultAccessPolicy creates or replaces the vault's access policy
// (operations.md §5.1). It takes effect with the next request.
func (s *Service) SetVaultAccessPolicy(ctx context.Context, c *Caller, accountID, vault, policy string) error {
	if _, err := s.authorizeVault(ctx, c, "SetVaultAccessPolicy", accountID, vault); err != nil {
		return err
	}
	if err := validatePolicy(policy); err != nil {
		return err
	}
	err := s.Policies.SetAccessPolicy(ctx, accountID, vault, policy)
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, vault)
	}
	return err
}

// GetVaultAccessPolicy returns the stored policy text as it was set (§5.2).
func (s *Service) GetVaultAccessPolicy(ctx context.Context, c *Caller, accountID, vault string) (string, error) {
	if _, err := s.authorizeVault(ctx, c, "GetVaultAccessPolicy", accountID, vault); err != nil {
		return "", err
	}
	p, err := s.Policies.GetAccessPolicy(ctx, accountID, vault)
	if IsNotFound(err) {
		if _, verr := s.Vaults.GetVault(ctx, accountID, vault); IsNotFound(verr) {
			return "", s.vaultNotFound(accountID, vault)
		}
		return "", Errorf(KindNotFound, "No vault access policy is set for: %s", vault)
	}
	return p, err
}

// DeleteVaultAccessPolicy removes the access policy; it succeeds when none
// is set (§5.3).
func (s *Service) DeleteVaultAccessPolicy(ctx context.Context, c *Caller, accountID, vault string) error {
	if _, err := s.authorizeVault(ctx, c, "DeleteVaultAccessPolicy", accountID, vault); err != nil {
		return err
	}
	err := s.Policies.DeleteAccessPolicy(ctx, accountID, vault)
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, vault)
	}
	return err
}
