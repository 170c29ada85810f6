package api

import (
	"net/http"

	"github.com/permafrost/permafrost/internal/glacier"
)

// VaultAccessPolicy is the body of SetVaultAccessPolicy and
// GetVaultAccessPolicy.
type VaultAccessPolicy struct {
	Policy *string
}

// VaultLockPolicy is the body of InitiateVaultLock.
type VaultLockPolicy struct {
	Policy *string
}

// GetVaultLockOutput is GetVaultLock's body.
type GetVaultLockOutput struct {
	Policy         string
	State          string
	ExpirationDate *string
	CreationDate   string
}

// policyText returns the Policy member, reporting its absence as missing.
func policyText(p *string) (string, error) {
	if p == nil {
		return "", glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: Policy")
	}
	return *p, nil
}

// handleSetVaultAccessPolicy: PUT /{account}/vaults/{vault}/access-policy
// (operations.md §5.1).
func (s *Server) handleSetVaultAccessPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	var in VaultAccessPolicy
	if err := decodeJSON(r, &in, "policy"); err != nil {
		return err
	}
	doc, err := policyText(in.Policy)
	if err != nil {
		return err
	}
	if err := s.Service.SetVaultAccessPolicy(r.Context(), c.caller, c.account, r.PathValue("vault"), doc); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleGetVaultAccessPolicy: GET /{account}/vaults/{vault}/access-policy
// (§5.2).
func (s *Server) handleGetVaultAccessPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	doc, err := s.Service.GetVaultAccessPolicy(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, VaultAccessPolicy{Policy: &doc})
	return nil
}

// handleDeleteVaultAccessPolicy: DELETE /{account}/vaults/{vault}/access-policy
// (§5.3).
func (s *Server) handleDeleteVaultAccessPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.DeleteVaultAccessPolicy(r.Context(), c.caller, c.account, r.PathValue("vault")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleInitiateVaultLock: POST /{account}/vaults/{vault}/lock-policy
// (§6.1). The lock id travels in x-amz-lock-id.
func (s *Server) handleInitiateVaultLock(w http.ResponseWriter, r *http.Request, c *call) error {
	var in VaultLockPolicy
	if err := decodeJSON(r, &in, "policy"); err != nil {
		return err
	}
	doc, err := policyText(in.Policy)
	if err != nil {
		return err
	}
	id, err := s.Service.InitiateVaultLock(r.Context(), c.caller, c.account, r.PathValue("vault"), doc)
	if err != nil {
		return err
	}
	w.Header().Set("x-amz-lock-id", id)
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleGetVaultLock: GET /{account}/vaults/{vault}/lock-policy (§6.4).
// ExpirationDate is kept once Locked (vault-lock.md §4 allows either).
func (s *Server) handleGetVaultLock(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := s.Service.GetVaultLock(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, GetVaultLockOutput{
		Policy:         l.Policy,
		State:          l.State.String(),
		ExpirationDate: optTime(l.ExpiresAt),
		CreationDate:   formatTime(l.CreatedAt),
	})
	return nil
}

// handleCompleteVaultLock: POST /{account}/vaults/{vault}/lock-policy/{lock}
// (§6.2).
func (s *Server) handleCompleteVaultLock(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.CompleteVaultLock(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("lock")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleAbortVaultLock: DELETE /{account}/vaults/{vault}/lock-policy (§6.3).
func (s *Server) handleAbortVaultLock(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.AbortVaultLock(r.Context(), c.caller, c.account, r.PathValue("vault")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
