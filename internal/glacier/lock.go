package glacier

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/policy"
	"github.com/permafrost/permafrost/internal/vaultlock"
)

// The four Vault Lock operations (operations.md §6, vault-lock.md). Each
// authorizes first — the lock policy itself governs the lock actions —
// then applies its vaultlock transition through Policies.UpdateLock, the
// per-vault compare-and-swap, at the clock's "now". A Locked record is
// never changed or removed by any of them: vaultlock refuses, and no other
// code path writes lock records.

// InitiateVaultLock installs policy as an InProgress lock and returns the
// new lock id.
func (s *Service) InitiateVaultLock(ctx context.Context, c *Caller, accountID, vault, policy string) (string, error) {
	if _, err := s.authorizeVault(ctx, c, "InitiateVaultLock", accountID, vault); err != nil {
		return "", err
	}
	if err := validatePolicy(policy); err != nil {
		return "", err
	}
	if err := s.analyzeLockPolicy(ctx, accountID, vault, policy); err != nil {
		return "", err
	}
	id, now := newLockID(), s.Clock.Now()
	audit.Note(ctx, "lockId", id)
	err := s.Policies.UpdateLock(ctx, accountID, vault, func(cur *Lock) (*Lock, error) {
		return vaultlock.Initiate(cur, policy, id, now)
	})
	if err != nil {
		return "", s.lockError(err, accountID, vault)
	}
	return id, nil
}

// lockPolicyFindings runs policy validation (policy.Analyze) on doc as the
// lock policy of the vault: what InitiateVaultLock checks, and what
// `permafrost policy validate --lock` with the vault's ARN reports.
func (s *Service) lockPolicyFindings(accountID, vault, doc string) []policy.Finding {
	return policy.Analyze(doc, policy.AnalyzeOptions{
		Kind: policy.ResourcePolicy, Lock: true, Region: s.Region, AccountID: accountID, Vault: vault,
	})
}

// analyzeLockPolicy refuses a lock policy with errors, as AWS refuses a
// malformed one (vault-lock.md §6): InvalidParameterValueException naming
// the first problem, nothing stored. A permanent policy must not hold a
// part that can never match a request to this vault. Warnings and
// suggestions do not refuse it; they are logged, and `permafrost policy
// validate --vault` shows them, since the wire shapes have no place for
// them.
func (s *Service) analyzeLockPolicy(ctx context.Context, accountID, vault, doc string) error {
	fs := s.lockPolicyFindings(accountID, vault, doc)
	arn := s.VaultARN(accountID, vault)
	for _, f := range fs {
		if f.Severity == policy.SeverityError {
			msg := f.Message
			if f.Path != "" {
				msg = f.Path + ": " + msg
			}
			return Errorf(KindInvalidParameter, "Invalid policy: %s", msg)
		}
	}
	for _, f := range fs {
		level := slog.LevelWarn
		if f.Severity == policy.SeveritySuggestion {
			level = slog.LevelInfo
		}
		s.logger().Log(ctx, level, "vault lock policy finding", "vault", arn, "severity", string(f.Severity),
			"code", f.Code, "path", f.Path, "message", f.Message)
	}
	return nil
}

// GetVaultLock returns the lock in force; ResourceNotFound when there is
// none (never initiated, aborted or expired).
func (s *Service) GetVaultLock(ctx context.Context, c *Caller, accountID, vault string) (Lock, error) {
	if _, err := s.authorizeVault(ctx, c, "GetVaultLock", accountID, vault); err != nil {
		return Lock{}, err
	}
	cur, err := s.Policies.GetLock(ctx, accountID, vault)
	if err != nil {
		return Lock{}, s.lockError(err, accountID, vault)
	}
	l := vaultlock.Effective(cur, s.Clock.Now())
	if l == nil {
		return Lock{}, Errorf(KindNotFound, "No vault lock policy found for vault: %s", s.VaultARN(accountID, vault))
	}
	return *l, nil
}

// CompleteVaultLock locks the InProgress lock whose id is lockID.
func (s *Service) CompleteVaultLock(ctx context.Context, c *Caller, accountID, vault, lockID string) error {
	if _, err := s.authorizeVault(ctx, c, "CompleteVaultLock", accountID, vault); err != nil {
		return err
	}
	if lockID == "" {
		return Errorf(KindMissingParameter, "Required parameter missing: lockId")
	}
	now := s.Clock.Now() // read before: the callback must not reach the store, nor a clock kept in it
	err := s.Policies.UpdateLock(ctx, accountID, vault, func(cur *Lock) (*Lock, error) {
		return vaultlock.Complete(cur, lockID, now)
	})
	if err == nil {
		s.startRetention(accountID, vault)
	}
	return s.lockError(err, accountID, vault)
}

// AbortVaultLock removes an InProgress lock; it succeeds when there is none.
func (s *Service) AbortVaultLock(ctx context.Context, c *Caller, accountID, vault string) error {
	if _, err := s.authorizeVault(ctx, c, "AbortVaultLock", accountID, vault); err != nil {
		return err
	}
	now := s.Clock.Now()
	err := s.Policies.UpdateLock(ctx, accountID, vault, func(cur *Lock) (*Lock, error) {
		return vaultlock.Abort(cur, now)
	})
	return s.lockError(err, accountID, vault)
}

// lockError maps a vaultlock refusal to its Glacier error family and a
// vault that vanished meanwhile to AWS's not-found message.
func (s *Service) lockError(err error, accountID, vault string) error {
	var r *vaultlock.Refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &r) && r.Denied:
		return Errorf(KindAccessDenied, "%s", r.Message)
	case errors.As(err, &r):
		return Errorf(KindInvalidParameter, "%s", r.Message)
	case IsNotFound(err):
		return s.vaultNotFound(accountID, vault)
	}
	return err
}

// newLockID returns 24 characters of [A-Za-z0-9] (≈142 bits), the shape of
// AWS's lock ids (vault-lock.md §4).
func newLockID() string {
	return base62(24)
}

const base62Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// base62 returns n uniformly random characters of base62Alphabet.
func base62(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, b := range buf {
			// 62*4 = 248: rejecting bytes >= 248 keeps the choice uniform.
			if b < 248 && len(out) < n {
				out = append(out, base62Alphabet[b%62])
			}
		}
	}
	return string(out)
}
