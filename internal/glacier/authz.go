package glacier

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/policy"
	"github.com/permafrost/permafrost/internal/vaultlock"
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
	// Extra holds request-specific condition keys (aws:RequestTag/…,
	// aws:TagKeys).
	Extra map[string][]string
	Now   time.Time
	// policies, when set, are the vault's policies already read together
	// with the vault, so authorize need not read them again.
	policies *VaultPolicies
}

// authorize is the single authorization decision (policies.md §6): the
// caller's identity policy (users; a root has none and needs none in its
// own account), and, for an existing vault, its access policy and the lock
// policy in force at a.Now, evaluated together. An explicit deny anywhere
// wins; a cross-account caller needs a grant from the vault's policies and
// from its own identity policy.
//
// The lock policy is read in the same snapshot as the access policy and
// tags, and judged with vaultlock.Effective, so an expired draft stops
// binding at its expiry instant without any request touching it.
func (s *Service) authorize(ctx context.Context, a Access) error {
	if a.Caller == nil {
		return Errorf(KindAccessDenied, "Access denied: no authenticated principal")
	}
	p := a.Caller.Principal
	req := policy.Request{
		Principal: policy.Principal{
			AccountID: p.AccountID,
			ARN:       p.ARN,
			Type:      string(p.Type),
			UserName:  p.UserName,
			UserID:    p.AccountID,
		},
		Action:          a.Action,
		Resource:        a.Resource,
		ResourceAccount: a.AccountID,
	}

	var identity []*policy.Policy
	if p.Type == PrincipalUser {
		u, err := s.Identity.GetUser(ctx, p.AccountID, p.UserName)
		if IsNotFound(err) {
			return s.denied(a) // the user was deleted after signing
		}
		if err != nil {
			return err
		}
		req.Principal.UserID = u.UserID
		if u.Policy != "" {
			pol, err := s.policies.parse(u.Policy, policy.IdentityPolicy)
			if err != nil {
				return Wrap(KindInternal, err, "stored identity policy of user "+u.Name+" does not parse")
			}
			identity = append(identity, pol)
		}
	}

	var resource []*policy.Policy
	var tags map[string]string
	if a.Vault != nil {
		vp := a.policies
		if vp == nil {
			loaded, err := s.Policies.VaultPolicies(ctx, a.AccountID, a.Vault.Name)
			if err != nil && !IsNotFound(err) {
				return err
			}
			vp = &loaded
		}
		for _, doc := range []string{vp.AccessPolicy, effectiveLockPolicy(vp.Lock, a.Now)} {
			if doc == "" {
				continue
			}
			pol, err := s.policies.parse(doc, policy.ResourcePolicy)
			if err != nil {
				return Wrap(KindInternal, err, "stored policy of vault "+a.Vault.Name+" does not parse")
			}
			resource = append(resource, pol)
		}
		tags = vp.Tags
	}

	// The condition context is built only when there is a policy whose
	// conditions could read it: with none (a root in its own account on a
	// vault without policies) the decision cannot depend on it.
	if len(identity) > 0 || len(resource) > 0 {
		req.Context = requestContext(a, req.Principal, tags, s.Region)
	}
	d, err := policy.EvaluateContext(ctx, &req, identity, resource)
	if err != nil {
		// The client hung up or the request's deadline passed: the
		// evaluation was abandoned, and nothing is allowed.
		return Wrap(KindRequestTimeout, err, "The request ended before it was authorized")
	}
	if d != policy.Allow {
		return s.denied(a)
	}
	return nil
}

// denied is AWS's AccessDeniedException wording (policies.md §6).
func (s *Service) denied(a Access) error {
	return Errorf(KindAccessDenied, "User: %s is not authorized to perform: %s on resource: %s",
		a.Caller.Principal.ARN, a.Action, a.Resource)
}

// effectiveLockPolicy is the lock policy in force at now, "" when none.
func effectiveLockPolicy(l *Lock, now time.Time) string {
	if l := vaultlock.Effective(l, now); l != nil {
		return l.Policy
	}
	return ""
}

// requestContext fills the condition keys of policies.md §5: every global
// key AWS puts in the context of a signed request made with long-term
// access keys, and the Glacier keys of the action. docs/policy-context.md
// is the table of what is present, with which value, and what stays
// absent (MFA, session, organization, VPC and service-to-service keys:
// AWS leaves them out of such a request too). region is the server's,
// used when the caller carries no signing region.
func requestContext(a Access, p policy.Principal, tags map[string]string, region string) map[string][]string {
	c := policy.PrincipalContext(p)
	now := a.Now.UTC()
	c[policy.KeyCurrentTime] = []string{now.Format(time.RFC3339)}
	c[policy.KeyEpochTime] = []string{strconv.FormatInt(now.Unix(), 10)}
	c[policy.KeySecureTransport] = []string{strconv.FormatBool(a.Caller.SecureTransport)}
	if a.Caller.SourceIP != "" {
		c[policy.KeySourceIP] = []string{a.Caller.SourceIP}
	}
	if a.Caller.UserAgent != "" {
		c[policy.KeyUserAgent] = []string{a.Caller.UserAgent}
	}
	if a.Caller.Referer != "" {
		c[policy.KeyReferer] = []string{a.Caller.Referer}
	}
	if r := a.Caller.Region; r != "" {
		region = r
	}
	if region != "" {
		c[policy.KeyRequestedRegion] = []string{region}
	}
	if a.AccountID != "" {
		c[policy.KeyResourceAccount] = []string{a.AccountID}
	}
	// Requests reach permafrost from their principal directly: never
	// through, or from, an AWS service.
	c[policy.KeyViaAWSService] = []string{"false"}
	c[policy.KeyPrincipalIsAWSService] = []string{"false"}
	if a.ArchiveAge != nil {
		c["glacier:ArchiveAgeInDays"] = []string{strconv.FormatInt(*a.ArchiveAge, 10)}
	}
	if policy.ResourceTagActions[a.Action] {
		for k, v := range tags {
			c["glacier:ResourceTag/"+k] = []string{v}
			c["aws:ResourceTag/"+k] = []string{v}
		}
	}
	for k, v := range a.Extra {
		c[k] = v
	}
	return c
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
	return s.authorizeVaultWith(ctx, c, action, accountID, name, nil)
}

// authorizeVaultWith is authorizeVault with request-specific condition
// keys.
func (s *Service) authorizeVaultWith(ctx context.Context, c *Caller, action, accountID, name string, extra map[string][]string) (Vault, error) {
	if err := validateVaultName(name); err != nil {
		return Vault{}, err
	}
	// One read gives the vault and its policies.
	vp, err := s.Policies.VaultPolicies(ctx, accountID, name)
	switch {
	case IsNotFound(err):
		a := s.vaultAccess(c, action, accountID, name, nil)
		a.Extra = extra
		if err := s.authorize(ctx, a); err != nil {
			return Vault{}, err
		}
		return Vault{}, s.vaultNotFound(accountID, name)
	case err != nil:
		return Vault{}, err
	}
	a := s.vaultAccess(c, action, accountID, name, &vp.Vault)
	a.Extra, a.policies = extra, &vp
	if err := s.authorize(ctx, a); err != nil {
		return Vault{}, err
	}
	return vp.Vault, nil
}

// validatePolicy checks a vault access or lock policy document submitted
// by a client (policies.md §9).
func validatePolicy(doc string) error {
	if strings.TrimSpace(doc) == "" {
		return Errorf(KindMissingParameter, "Required parameter missing: Policy")
	}
	if _, err := policy.Parse(doc, policy.ResourcePolicy); err != nil {
		return Errorf(KindInvalidParameter, "Invalid policy: %s", policyMessage(err))
	}
	return nil
}

// ValidateIdentityPolicy checks a user's identity policy document.
func ValidateIdentityPolicy(doc string) error {
	if _, err := policy.Parse(doc, policy.IdentityPolicy); err != nil {
		return Errorf(KindInvalidParameter, "Invalid identity policy: %s", policyMessage(err))
	}
	return nil
}

func policyMessage(err error) string {
	if pe, ok := err.(*policy.Error); ok {
		return pe.Message
	}
	return err.Error()
}
