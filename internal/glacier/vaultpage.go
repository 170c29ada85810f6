package glacier

import "context"

// VaultPage is one page of ListVaults as the vault store returned it,
// before the counts are adjusted for clients (reported). Stored may be
// the store's cached slice, shared between requests: it must not be
// modified. The same Stored slice (same first element and length) from
// the same service always stands for the same answer, so it may key a
// rendered form of that answer.
type VaultPage struct {
	Stored []Vault // len ≤ the limit asked for
	Next   string  // the name of the vault that starts the next page, "" at the end
	s      *Service
}

// Vault returns the page's i-th vault as clients see it.
func (p *VaultPage) Vault(i int) Vault { return p.s.reported(p.Stored[i]) }

// ListVaultPage is ListVaults without copying the page: up to limit vaults
// whose names are >= from, as the store holds them.
func (s *Service) ListVaultPage(ctx context.Context, c *Caller, accountID, from string, limit int) (VaultPage, error) {
	err := s.authorize(ctx, Access{Caller: c, Action: "glacier:ListVaults", AccountID: accountID, Resource: "*", Now: s.Clock.Now()})
	if err != nil {
		return VaultPage{}, err
	}
	vs, err := s.Vaults.ListVaults(ctx, accountID, from, limit+1)
	if err != nil {
		return VaultPage{}, err
	}
	p := VaultPage{Stored: vs, s: s}
	if len(vs) > limit {
		p.Stored, p.Next = vs[:limit:limit], vs[limit].Name
	}
	return p, nil
}
