package policy

import "strings"

// Principal is the caller identity as evaluation sees it.
type Principal struct {
	AccountID string            // 12 digits
	ARN       string            // arn:aws:iam::<acct>:root, arn:aws:iam::<acct>:user/<path><name>
	Type      string            // "Account" for an account root, "User" for an IAM user ("AssumedRole", "FederatedUser" possible later)
	UserName  string            // "" for root
	UserID    string            // root: account id; user: AIDA… unique id
	Tags      map[string]string // principal tags (aws:PrincipalTag/<k>), may be nil
}

// Principal types (aws:PrincipalType values, §5.2).
const (
	TypeAccount       = "Account" // an account root
	TypeUser          = "User"
	TypeAssumedRole   = "AssumedRole"
	TypeFederatedUser = "FederatedUser"
)

// IsRoot reports whether p is the root of its account.
func (p *Principal) IsRoot() bool { return p.Type == TypeAccount }

// principalSet is a compiled Principal or NotPrincipal element (§3.1).
type principalSet struct {
	not     bool
	entries []principalEntry
}

type principalEntry struct {
	kind    principalKind
	account string // principalAccount, principalRole
	arn     string // principalExact
	role    string // principalRole: the role name
}

type principalKind uint8

const (
	principalAny     principalKind = iota // "*"
	principalAccount                      // an account id or its root ARN
	principalExact                        // a user, role-session or federated-user ARN, compared exactly
	principalRole                         // a role ARN: matches the role's sessions
	principalNever                        // Service, Federated, CanonicalUser: valid, never a Glacier caller
)

// parsePrincipal compiles the element named elem ("Principal" or
// "NotPrincipal") at path.
func parsePrincipal(n *node, path string, not bool) (*principalSet, error) {
	ps := &principalSet{not: not}
	if n.kind == kindString {
		if n.text != "*" {
			return nil, errorf(`%s must be "*" or an object, got %q`, path, n.text)
		}
		ps.entries = []principalEntry{{kind: principalAny}}
		return ps, nil
	}
	if n.kind != kindObject {
		return nil, errorf(`%s must be "*" or an object, got %s`, path, n.kind)
	}
	if len(n.keys) == 0 {
		return nil, errorf("%s must name at least one principal", path)
	}
	for i, typ := range n.keys {
		vpath := path + "." + typ
		vals, err := stringList(n.vals[i], vpath)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "AWS":
			for _, v := range vals {
				e, err := parseAWSPrincipal(v)
				if err != nil {
					return nil, errorf("%s: %v", vpath, err)
				}
				ps.entries = append(ps.entries, e)
			}
		case "Service", "Federated", "CanonicalUser":
			ps.entries = append(ps.entries, principalEntry{kind: principalNever})
		default:
			return nil, errorf(`%s: unknown principal type %q (want "AWS", "Service", "Federated" or "CanonicalUser")`, path, typ)
		}
	}
	return ps, nil
}

// parseAWSPrincipal compiles one value of an "AWS" principal.
func parseAWSPrincipal(v string) (principalEntry, error) {
	if v == "*" {
		return principalEntry{kind: principalAny}, nil
	}
	if strings.ContainsAny(v, "*?") {
		return principalEntry{}, errorf("partial wildcards are not allowed in principals, got %q", v)
	}
	if !strings.HasPrefix(v, "arn:") {
		if !isAccountID(v) {
			return principalEntry{}, errorf("%q is not a valid account ID (12 digits) or principal ARN", v)
		}
		return principalEntry{kind: principalAccount, account: v}, nil
	}
	seg := strings.SplitN(v, ":", arnSegments)
	if len(seg) != arnSegments || seg[1] == "" || seg[3] != "" {
		return principalEntry{}, errorf("invalid principal ARN %q", v)
	}
	service, account, resource := seg[2], seg[4], seg[5]
	if !isAccountID(account) {
		return principalEntry{}, errorf("invalid account ID %q in principal ARN %q", account, v)
	}
	switch service {
	case "iam":
		switch {
		case resource == "root":
			return principalEntry{kind: principalAccount, account: account}, nil
		case strings.HasPrefix(resource, "user/") && validPathName(resource[len("user/"):]):
			return principalEntry{kind: principalExact, arn: v}, nil
		case strings.HasPrefix(resource, "role/") && validPathName(resource[len("role/"):]):
			name := resource[strings.LastIndexByte(resource, '/')+1:]
			return principalEntry{kind: principalRole, account: account, role: name}, nil
		}
	case "sts":
		if r, ok := strings.CutPrefix(resource, "assumed-role/"); ok {
			role, session, ok := strings.Cut(r, "/")
			if ok && role != "" && session != "" && !strings.Contains(session, "/") {
				return principalEntry{kind: principalExact, arn: v}, nil
			}
		}
		if name, ok := strings.CutPrefix(resource, "federated-user/"); ok && name != "" && !strings.Contains(name, "/") {
			return principalEntry{kind: principalExact, arn: v}, nil
		}
	}
	return principalEntry{}, errorf("invalid principal ARN %q: want …:root, …:user/name, …:role/name, …:assumed-role/role/session or …:federated-user/name", v)
}

// validPathName accepts "[path/]name" with a non-empty name and no empty
// path components.
func validPathName(s string) bool {
	if s == "" || s[len(s)-1] == '/' {
		return false
	}
	return !strings.Contains(s, "//")
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sessionRole splits a role-session ARN
// (arn:aws:sts::<acct>:assumed-role/<role>/<session>) into its account and
// role name.
func sessionRole(arn string) (account, role string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", "", false
	}
	var service string
	_, rest, _ = strings.Cut(rest, ":")        // partition
	service, rest, _ = strings.Cut(rest, ":")  // service
	_, rest, _ = strings.Cut(rest, ":")        // region
	account, rest, ok = strings.Cut(rest, ":") // account
	if !ok || service != "sts" {
		return "", "", false
	}
	if rest, ok = strings.CutPrefix(rest, "assumed-role/"); !ok {
		return "", "", false
	}
	role, _, ok = strings.Cut(rest, "/")
	return account, role, ok && role != ""
}

// matches reports whether the entry names p. An account entry names every
// principal of the account, which is what a Deny and NotPrincipal need
// (§3.1); Allow grants use grants instead.
func (e *principalEntry) matches(p *Principal) bool {
	switch e.kind {
	case principalAny:
		return true
	case principalAccount:
		return p.AccountID == e.account
	case principalExact:
		return p.ARN == e.arn
	case principalRole:
		if p.Type != TypeAssumedRole {
			return false
		}
		acct, role, ok := sessionRole(p.ARN)
		return ok && acct == e.account && role == e.role
	}
	return false
}

// grants reports whether an Allow naming this entry grants to p (§6): an
// account form grants to the account's root, and delegates to the rest of
// a foreign account, whose identity policies must then allow too.
func (e *principalEntry) grants(p *Principal, resourceAccount string) bool {
	if e.kind == principalAccount {
		return e.account == p.AccountID && (p.IsRoot() || p.AccountID != resourceAccount)
	}
	return e.matches(p)
}

// applies reports whether the statement covers p.
func (ps *principalSet) applies(p *Principal) bool {
	for i := range ps.entries {
		if ps.entries[i].matches(p) {
			return !ps.not
		}
	}
	return ps.not
}

// grantsTo reports whether an Allow with this element grants to p. A
// NotPrincipal grants to everyone it does not exclude.
func (ps *principalSet) grantsTo(p *Principal, resourceAccount string) bool {
	if ps.not {
		return ps.applies(p)
	}
	for i := range ps.entries {
		if ps.entries[i].grants(p, resourceAccount) {
			return true
		}
	}
	return false
}
