package glacier

import (
	"context"
	"time"
)

// Access is one authorization question: may this caller perform this
// action on this resource, given these facts? Every operation builds one
// and asks authorize before acting.
type Access struct {
	Caller    *Caller
	Action    string // glacier:OperationName
	AccountID string // the account that owns the resource
	Resource  string // the resource ARN, or "*"
	Vault     *Vault // nil when the vault does not exist (yet)
	// ArchiveAge is set for requests on one archive (DeleteArchive,
	// archive-retrieval jobs): whole days since the archive was created.
	ArchiveAge *int64
	Now        time.Time
}

// authorize is the single authorization decision. For now it grants an
// account's principals everything in their own account and denies every
// cross-account request; vault access policies, lock policies and identity
// policies plug in here.
func (s *Service) authorize(ctx context.Context, a Access) error {
	if a.Caller == nil {
		return Errorf(KindAccessDenied, "Access denied: no authenticated principal")
	}
	if a.Caller.Principal.AccountID != a.AccountID {
		return Errorf(KindAccessDenied, "Access denied for account ID: %s", a.AccountID)
	}
	return nil
}

// vaultAccess builds the Access for an action on an existing or future
// vault.
func (s *Service) vaultAccess(c *Caller, action, accountID, vault string, v *Vault) Access {
	return Access{
		Caller:    c,
		Action:    "glacier:" + action,
		AccountID: accountID,
		Resource:  s.VaultARN(accountID, vault),
		Vault:     v,
		Now:       s.Clock.Now(),
	}
}

// authorizeVault loads the vault and authorizes action on it, in the order
// of operations.md §2.4: a missing vault is reported only to callers that
// are allowed to ask.
func (s *Service) authorizeVault(ctx context.Context, c *Caller, action, accountID, name string) (Vault, error) {
	if err := validateVaultName(name); err != nil {
		return Vault{}, err
	}
	v, err := s.Meta.GetVault(ctx, accountID, name)
	switch {
	case IsNotFound(err):
		if err := s.authorize(ctx, s.vaultAccess(c, action, accountID, name, nil)); err != nil {
			return Vault{}, err
		}
		return Vault{}, s.vaultNotFound(accountID, name)
	case err != nil:
		return Vault{}, err
	}
	if err := s.authorize(ctx, s.vaultAccess(c, action, accountID, name, &v)); err != nil {
		return Vault{}, err
	}
	return v, nil
}
