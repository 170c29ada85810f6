package policy

import "context"

// Request is one authorization question.
type Request struct {
	Principal       Principal
	Action          string              // e.g. "glacier:DeleteArchive"
	Resource        string              // e.g. "arn:aws:glacier:us-east-1:111122223333:vaults/photos", or "*"
	ResourceAccount string              // account that owns the resource (A_V in §6)
	Context         map[string][]string // condition keys → values; key names matched case-insensitively (the caller may use any case); multi-valued keys like aws:TagKeys have several values
}

// Evaluate is the §6 algorithm: identity = the principal's identity policies (empty for a root),
// resource = the vault's access policy and in-force lock policy (either may be absent).
// Explicit deny anywhere wins (a Deny whose principal is an account covers every principal of that account, root included);
// root of its own account is implicitly allowed; same-account: identity allow OR resource grant; cross-account:
// identity allow (or caller is its account's root) AND resource grant, with the grant rules for account-form principals exactly as in §6.
//
// Nil policies in either slice are skipped. A statement in the resource
// slice without a Principal element (an identity policy passed by
// mistake) applies to nobody; one in the identity slice with a Principal
// element applies only to the principals it names.
func Evaluate(req *Request, identity, resource []*Policy) Decision {
	if req == nil {
		return ImplicitDeny
	}
	e := evaluation{req: req}
	return e.evaluate(identity, resource)
}

// EvaluateContext is Evaluate that stops as soon as ctx is done (the
// client hung up, or the request's deadline passed): it then returns
// ImplicitDeny and ctx's error, never a partial Allow. Cancellation is
// checked before every statement and every policy value, so a document of
// many large patterns is abandoned part-way.
func EvaluateContext(ctx context.Context, req *Request, identity, resource []*Policy) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return ImplicitDeny, err
	}
	if req == nil {
		return ImplicitDeny, nil
	}
	e := evaluation{req: req, done: ctx.Done()}
	d := e.evaluate(identity, resource)
	if e.stopped {
		return ImplicitDeny, ctx.Err()
	}
	return d, nil
}

func (e *evaluation) evaluate(identity, resource []*Policy) Decision {
	req := e.req
	p := &req.Principal

	// 1. An explicit deny anywhere wins.
	for _, pol := range identity {
		if pol != nil && e.anyApplies(pol.deny, false) {
			return ExplicitDeny
		}
	}
	for _, pol := range resource {
		if pol != nil && e.anyApplies(pol.deny, true) {
			return ExplicitDeny
		}
	}

	// 2. Allows. Same account: either side suffices; cross-account: both.
	idAllow := p.IsRoot()
	for _, pol := range identity {
		if idAllow {
			break
		}
		idAllow = pol != nil && e.anyApplies(pol.allow, false)
	}
	sameAccount := p.AccountID == req.ResourceAccount
	switch {
	case sameAccount && idAllow:
		return Allow
	case !sameAccount && !idAllow:
		return ImplicitDeny
	}
	for _, pol := range resource {
		if pol != nil && e.anyGrants(pol.allow) {
			return Allow
		}
	}
	return ImplicitDeny
}

// anyApplies reports whether any statement applies (§6 applies()). In a
// resource policy the principal element must name the caller.
func (e *evaluation) anyApplies(stmts []statement, resourcePolicy bool) bool {
	for i := range stmts {
		s := &stmts[i]
		if e.cancelled() {
			return false
		}
		if !e.matchTarget(s) {
			continue
		}
		if s.principals != nil {
			if !s.principals.applies(&e.req.Principal) {
				continue
			}
		} else if resourcePolicy {
			continue
		}
		if e.conditionsHold(s) {
			return true
		}
	}
	return false
}

// anyGrants reports whether any Allow statement of a resource policy
// applies with its principal element matching the caller as a grant (§6).
func (e *evaluation) anyGrants(stmts []statement) bool {
	for i := range stmts {
		s := &stmts[i]
		if e.cancelled() {
			return false
		}
		if s.principals == nil || !e.matchTarget(s) ||
			!s.principals.grantsTo(&e.req.Principal, e.req.ResourceAccount) {
			continue
		}
		if e.conditionsHold(s) {
			return true
		}
	}
	return false
}

// matchTarget checks the action and resource elements, the cheap part of
// applies, before principals and conditions.
func (e *evaluation) matchTarget(s *statement) bool {
	return s.actions.match(e.req.Action) && s.resources.match(e, e.req.Resource)
}

func (e *evaluation) conditionsHold(s *statement) bool {
	for i := range s.conditions {
		if !s.conditions[i].eval(e) || e.cancelled() {
			return false
		}
	}
	return true
}

func (a *actionSet) match(action string) bool {
	for i := range a.globs {
		if a.globs[i].match(action) {
			return !a.not
		}
	}
	return a.not
}

func (r *resourceSet) match(e *evaluation, resource string) bool {
	for i := range r.patterns {
		if r.patterns[i].match(e, resource) {
			return !r.not
		}
	}
	return r.not
}

// match reports whether the pattern covers resource; a pattern whose
// variables do not resolve covers nothing.
func (r *resourcePattern) match(e *evaluation, resource string) bool {
	if r.tmpl == nil {
		return r.arn.match(resource)
	}
	text, ok := r.tmpl.resolve(e, true)
	if !ok {
		return false
	}
	a := compileARN(text)
	return a.match(resource)
}
