package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Severity ranks a Finding, with the categories of IAM Access Analyzer's
// policy validation.
type Severity string

const (
	// SeverityError: the document is invalid, or a part of it can never
	// match a Glacier request for this vault. InitiateVaultLock refuses it.
	SeverityError Severity = "ERROR"
	// SeveritySecurityWarning: the document is valid but protects less
	// than it says (a Deny that can never apply, an Allow to everyone not
	// named).
	SeveritySecurityWarning Severity = "SECURITY_WARNING"
	// SeverityWarning: valid, but a part of it has no effect.
	SeverityWarning Severity = "WARNING"
	// SeveritySuggestion: valid and effective; it could be written better.
	SeveritySuggestion Severity = "SUGGESTION"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeveritySecurityWarning:
		return 1
	case SeverityWarning:
		return 2
	}
	return 3
}

// Finding is one result of Analyze.
type Finding struct {
	Severity Severity
	Code     string // stable identifier, e.g. KEY_NEVER_PRESENT
	Path     string // the element, e.g. Statement[0].Condition.NumericLessThan.glacier:ArchiveAgeInDays; "" for the document
	Message  string
}

func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("%s %s: %s", f.Severity, f.Code, f.Message)
	}
	return fmt.Sprintf("%s %s at %s: %s", f.Severity, f.Code, f.Path, f.Message)
}

// AnalyzeOptions say what the document is and, when known, the vault it
// is for. Empty Region, AccountID or Vault are not checked.
type AnalyzeOptions struct {
	Kind      DocKind
	Lock      bool // a vault lock policy: permanent once completed
	Region    string
	AccountID string
	Vault     string
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Analyze validates doc in the spirit of IAM Access Analyzer: errors
// (invalid JSON or grammar, actions and resources that can never match a
// Glacier request, resources in another region or account than the
// vault), security warnings (a Deny that can never apply because a
// condition needs a key permafrost never puts in the context of the
// actions it names, Principal entries that never match a Glacier caller,
// an Allow with NotPrincipal), warnings, and suggestions (condition key
// spelling, redundant statements and values). Findings come errors first,
// then in document order.
func Analyze(doc string, o AnalyzeOptions) []Finding {
	p, err := Parse(doc, o.Kind)
	if err != nil {
		return []Finding{{Severity: SeverityError, Code: "INVALID_POLICY", Message: policyMessage(err)}}
	}
	root, err := decode(doc)
	if err != nil { // cannot happen: Parse decoded it
		return []Finding{{Severity: SeverityError, Code: "INVALID_POLICY", Message: policyMessage(err)}}
	}
	a := &analyzer{opt: o, vars: p.version == Version2012}
	var stmts *node
	for i, k := range root.keys {
		if k == "Statement" {
			stmts = root.vals[i]
		}
	}
	list := []*node{stmts}
	if stmts.kind == kindArray {
		list = stmts.elems
	}
	seen := map[string]int{}
	for i, n := range list {
		path := indexPath("Statement", i)
		a.statement(n, path)
		key := canonicalJSON(n, "Sid")
		if j, ok := seen[key]; ok {
			a.add(SeveritySuggestion, "REDUNDANT_STATEMENT", path, "this statement repeats %s; remove one", indexPath("Statement", j))
		} else {
			seen[key] = i
		}
	}
	if o.Lock && len(p.deny) == 0 {
		a.add(SeverityWarning, "LOCK_WITHOUT_DENY", "", "a vault lock policy without a Deny statement enforces nothing once locked; retention rules are Deny statements")
	}
	sort.SliceStable(a.out, func(i, j int) bool { return a.out[i].Severity.rank() < a.out[j].Severity.rank() })
	return a.out
}

func policyMessage(err error) string {
	if pe, ok := err.(*Error); ok {
		return pe.Message
	}
	return err.Error()
}

type analyzer struct {
	opt  AnalyzeOptions
	vars bool
	out  []Finding
}

func (a *analyzer) add(sev Severity, code, path, format string, args ...any) {
	a.out = append(a.out, Finding{Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}

// actionBits is a set of GlacierActions, bit i for GlacierActions[i].
type actionBits uint64

func matchedActions(g *glob) actionBits {
	var b actionBits
	for i, name := range GlacierActions {
		if g.match(name) {
			b |= 1 << i
		}
	}
	return b
}

// statement analyses one statement of a document that Parse accepted, so
// every element is known to be well formed.
func (a *analyzer) statement(n *node, path string) {
	el := map[string]*node{}
	for i, k := range n.keys {
		el[k] = n.vals[i]
	}
	deny := el["Effect"].text == "Deny"
	effect := "Allow"
	if deny {
		effect = "Deny"
	}

	covered := a.actions(el, path)
	a.resources(el, path, deny)
	a.principals(el, path, deny)
	if c := el["Condition"]; c != nil {
		a.conditions(c, path+".Condition", covered, deny, effect)
	}
}

// actions checks Action/NotAction and returns the Glacier actions the
// statement covers.
func (a *analyzer) actions(el map[string]*node, path string) actionBits {
	n, epath, not := el["Action"], path+".Action", false
	if n == nil {
		n, epath, not = el["NotAction"], path+".NotAction", true
	}
	vals, _ := stringList(n, epath)
	var all actionBits
	sets := make([]actionBits, len(vals))
	for i, v := range vals {
		g := compileGlob(globText(v), true)
		sets[i] = matchedActions(&g)
		all |= sets[i]
		if sets[i] != 0 || v == "*" {
			continue
		}
		service, _, _ := strings.Cut(v, ":")
		sg := compileGlob(globText(service), true)
		switch {
		case not:
			a.add(SeverityWarning, "NOT_ACTION_NOT_GLACIER", epath, "%q excludes no Glacier action", v)
		case !sg.match("glacier"):
			a.add(SeverityError, "ACTION_NOT_GLACIER", epath, "%q is not a Glacier action; a vault request is always one of the 33 glacier: actions", v)
		default:
			a.add(SeverityError, "UNKNOWN_ACTION", epath, "%q matches no Glacier action", v)
		}
	}
	for i, v := range vals {
		for j, w := range vals {
			// Report a value covered by another; of two that cover the
			// same actions, the later one.
			if i == j || sets[i] == 0 || sets[i]&^sets[j] != 0 || sets[i] == sets[j] && j > i {
				continue
			}
			if v == w {
				a.add(SeveritySuggestion, "DUPLICATE_VALUE", epath, "%q is listed twice", v)
			} else {
				a.add(SeveritySuggestion, "REDUNDANT_ACTION", epath, "%q is already covered by %q", v, w)
			}
			break
		}
	}
	if not {
		return (actionBits(1)<<len(GlacierActions) - 1) &^ all
	}
	return all
}

// resources checks Resource values: a Glacier ARN, in the vault's region
// and account, naming the vault.
func (a *analyzer) resources(el map[string]*node, path string, deny bool) {
	n := el["Resource"]
	if n == nil {
		return // NotResource: whatever it excludes, the rest is covered
	}
	epath := path + ".Resource"
	vals, _ := stringList(n, epath)
	seen := map[string]bool{}
	for _, v := range vals {
		if seen[v] {
			a.add(SeveritySuggestion, "DUPLICATE_VALUE", epath, "%q is listed twice", v)
		}
		seen[v] = true
		if v == "*" || a.vars && strings.Contains(v, "${") {
			continue
		}
		arn := compileARN(globText(v))
		if !arn.ok {
			continue
		}
		s := &arn.segs
		switch {
		case !s[1].match("aws") || !s[2].match("glacier"):
			a.add(SeverityError, "RESOURCE_NOT_GLACIER", epath, "%q is not a Glacier ARN (arn:aws:glacier:REGION:ACCOUNT:vaults/NAME)", v)
			continue
		case !glacierResource(&s[5]):
			a.add(SeverityError, "RESOURCE_NOT_GLACIER", epath, "%q names no Glacier resource; want …:vaults/NAME or …:policies/retrieval-limit-policy", v)
			continue
		}
		if r := a.opt.Region; r != "" && !s[3].match(r) {
			a.add(SeverityError, "RESOURCE_OTHER_REGION", epath, "%q is not in region %s, the vault's region; it never matches a request to this server", v, r)
			continue
		}
		if acct := a.opt.AccountID; acct != "" && !s[4].match(acct) {
			a.add(SeverityError, "RESOURCE_OTHER_ACCOUNT", epath, "%q is not in account %s, which owns the vault; a vault policy only ever sees its own vault", v, acct)
			continue
		}
		if vault := a.opt.Vault; vault != "" && a.opt.Kind == ResourcePolicy && !s[5].match("vaults/"+vault) {
			if deny {
				a.add(SeveritySecurityWarning, "RESOURCE_OTHER_VAULT", epath, "%q does not match vault %s; this Deny value never applies to it", v, vault)
			} else {
				a.add(SeverityWarning, "RESOURCE_OTHER_VAULT", epath, "%q does not match vault %s; this Allow value never applies to it", v, vault)
			}
		}
	}
}

// glacierResource reports whether the resource segment of an ARN pattern
// can match a Glacier resource: a vault or the retrieval-limit policy.
func glacierResource(g *glob) bool {
	if g.kind == globAll || g.match("policies/retrieval-limit-policy") {
		return true
	}
	// A vault name is 1–255 of [A-Za-z0-9_.-]; the pattern must begin in a
	// way some vault ARN can.
	lit, rest := literalPrefix(g.text)
	if rest == "" {
		name, ok := strings.CutPrefix(lit, "vaults/")
		return ok && validVaultName(name)
	}
	return strings.HasPrefix(lit, "vaults/") || strings.HasPrefix("vaults/", lit)
}

func validVaultName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// principals flags entries that can never be a Glacier caller and Allow
// with NotPrincipal.
func (a *analyzer) principals(el map[string]*node, path string, deny bool) {
	if n := el["NotPrincipal"]; n != nil {
		if !deny {
			a.add(SeveritySecurityWarning, "ALLOW_WITH_NOT_PRINCIPAL", path+".NotPrincipal", "an Allow with NotPrincipal grants every principal of every account except those listed; name the principals to allow in Principal instead")
		}
		return
	}
	n := el["Principal"]
	if n == nil || n.kind != kindObject {
		return
	}
	for i, typ := range n.keys {
		switch typ {
		case "AWS":
			// Roles and their sessions are valid principals, but
			// permafrost has no roles and issues no session credentials,
			// so no request ever comes from one.
			vals, _ := stringList(n.vals[i], path+".Principal.AWS")
			for _, v := range vals {
				e, err := parseAWSPrincipal(v)
				if err != nil || !(e.kind == principalRole || e.kind == principalExact && strings.Contains(v, ":sts:")) {
					continue
				}
				p := path + ".Principal.AWS"
				if deny {
					a.add(SeveritySecurityWarning, "PRINCIPAL_NEVER_MATCHES", p, "%q is a role or a session; permafrost callers are account roots and users, so this Deny never applies through it", v)
				} else {
					a.add(SeverityWarning, "PRINCIPAL_NEVER_MATCHES", p, "%q is a role or a session; permafrost callers are account roots and users, so this Allow grants nothing through it", v)
				}
			}
		case "Service", "Federated", "CanonicalUser":
			p := path + ".Principal." + typ
			if deny {
				a.add(SeveritySecurityWarning, "PRINCIPAL_NEVER_MATCHES", p, "a Glacier request never comes from a %s principal, so this Deny never applies through it (%s); name accounts, users or \"*\"", typ, describe(n.vals[i]))
			} else {
				a.add(SeverityWarning, "PRINCIPAL_NEVER_MATCHES", p, "a Glacier request never comes from a %s principal, so this Allow grants nothing through it", typ)
			}
		}
	}
}

// conditions checks each key of a Condition element against what the
// request context holds for the covered actions.
func (a *analyzer) conditions(n *node, path string, covered actionBits, deny bool, effect string) {
	conds, err := parseConditions(n, path, a.vars)
	if err != nil {
		return
	}
	k := 0
	for i, op := range n.keys {
		block := n.vals[i]
		for _, key := range block.keys {
			c := &conds[k]
			k++
			cpath := path + "." + op + "." + key
			if canon := canonicalSpelling(key); canon != "" && canon != key {
				a.add(SeveritySuggestion, "KEY_CASE", cpath, "condition keys are case-insensitive, but write %q as documented", canon)
			}
			if covered == 0 {
				continue
			}
			pres, typ := a.presence(c.key.lower, covered)
			absentFalse := falseWhenAbsent(c)
			switch {
			case pres == never && absentFalse && deny:
				a.add(SeveritySecurityWarning, "KEY_NEVER_PRESENT", cpath, "%s is never in the request context of %s, so %s is false and this Deny can never apply", key, coveredNames(covered), op)
			case pres == never && absentFalse:
				a.add(SeverityWarning, "KEY_NEVER_PRESENT", cpath, "%s is never in the request context of %s, so %s is false and this Allow never grants", key, coveredNames(covered), op)
			case pres == never:
				a.add(SeveritySuggestion, "CONDITION_ALWAYS_TRUE", cpath, "%s is never in the request context of %s, so %s is always true; the condition has no effect", key, coveredNames(covered), op)
			case c.op.fam != famNull && !typeAccepts(c.op.fam, typ):
				sev := SeverityWarning
				if deny && !c.op.negated {
					sev = SeveritySecurityWarning
				}
				a.add(sev, "OPERATOR_TYPE_MISMATCH", cpath, "%s compares values of another type than %s holds (%s); the %s cannot work as written", op, key, typeName(typ), effect)
			}
		}
	}
}

// presence is the most a key can be present over the covered actions, and
// its type.
func (a *analyzer) presence(lower string, covered actionBits) (presence, keyType) {
	best, typ := never, typeString
	for i, name := range GlacierActions {
		if covered&(1<<i) == 0 {
			continue
		}
		p, t := keyInfo(lower, name)
		if p > best {
			best = p
		}
		typ = t
	}
	return best, typ
}

// falseWhenAbsent reports whether the condition is false when its key is
// absent (§4.2), which makes the statement never apply.
func falseWhenAbsent(c *condition) bool {
	if c.op.fam == famNull {
		for _, v := range c.values {
			if v.ok && v.bool {
				return false // "Null": "true" holds for an absent key
			}
		}
		return true
	}
	if c.ifExists || c.set == allValues {
		return false
	}
	return c.set == anyValue || !c.op.negated
}

func coveredNames(b actionBits) string {
	var names []string
	for i, name := range GlacierActions {
		if b&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if len(names) > 3 {
		return "any of the " + strconv.Itoa(len(names)) + " Glacier actions the statement covers"
	}
	return strings.Join(names, ", ")
}

func typeName(t keyType) string {
	return [...]string{"a string", "a number", "a date", "a date or number", "a boolean", "an IP address", "an ARN"}[t]
}

// canonicalJSON renders n with object members sorted and the named member
// left out at the top level, to compare statements.
func canonicalJSON(n *node, omit string) string {
	var b strings.Builder
	var walk func(n *node, top bool)
	walk = func(n *node, top bool) {
		switch n.kind {
		case kindObject:
			idx := make([]int, 0, len(n.keys))
			for i, k := range n.keys {
				if !(top && k == omit) {
					idx = append(idx, i)
				}
			}
			sort.Slice(idx, func(x, y int) bool { return n.keys[idx[x]] < n.keys[idx[y]] })
			b.WriteByte('{')
			for _, i := range idx {
				b.WriteString(strconv.Quote(n.keys[i]))
				b.WriteByte(':')
				walk(n.vals[i], false)
				b.WriteByte(',')
			}
			b.WriteByte('}')
		case kindArray:
			b.WriteByte('[')
			for _, e := range n.elems {
				walk(e, false)
				b.WriteByte(',')
			}
			b.WriteByte(']')
		case kindString:
			b.WriteString(strconv.Quote(n.text))
		default:
			b.WriteString(n.text)
		}
	}
	walk(n, true)
	return b.String()
}
