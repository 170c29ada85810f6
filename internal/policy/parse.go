package policy

import "strings"

// Parse validates doc per policies.md §2–4 and §9 and returns the parsed policy. Any problem returns an
// error of type *Error whose Message names exactly what is wrong (e.g. `Statement[1]: Effect must be "Allow" or "Deny", got "allow"`,
// `Statement[0].Condition: unknown operator "StringEqualz"`, `policy is 20481 bytes; the limit is 20480`,
// `Statement[0]: exactly one of Action or NotAction is required`). Never panics on any input.
func Parse(doc string, kind DocKind) (*Policy, error) {
	if len(doc) > MaxSize {
		return nil, errorf("policy is %d bytes; the limit is %d", len(doc), MaxSize)
	}
	if kind != ResourcePolicy && kind != IdentityPolicy {
		return nil, errorf("unknown document kind %d", int(kind))
	}
	if strings.TrimSpace(doc) == "" {
		return nil, errorf("policy is empty")
	}
	root, err := decode(doc)
	if err != nil {
		return nil, err
	}
	if root.kind != kindObject {
		return nil, errorf("policy must be a JSON object, got %s", root.kind)
	}
	p := &Policy{kind: kind}
	var stmts *node
	for i, key := range root.keys {
		v := root.vals[i]
		switch key {
		case "Version":
			if v.kind != kindString || v.text != Version2012 && v.text != Version2008 {
				return nil, errorf(`Version must be "%s" or "%s", got %s`, Version2012, Version2008, describe(v))
			}
			p.version = v.text
		case "Id":
			if v.kind != kindString {
				return nil, errorf("Id must be a string, got %s", v.kind)
			}
			p.id = v.text
		case "Statement":
			stmts = v
		default:
			return nil, errorf(`unknown top-level element %q (allowed: "Version", "Id", "Statement")`, key)
		}
	}
	if stmts == nil {
		return nil, errorf("policy has no Statement")
	}
	list := []*node{stmts}
	if stmts.kind == kindArray {
		if len(stmts.elems) == 0 {
			return nil, errorf("Statement must not be an empty array")
		}
		list = stmts.elems
	}
	vars := p.version == Version2012
	for i, n := range list {
		s, deny, err := parseStatement(n, indexPath("Statement", i), kind, vars)
		if err != nil {
			return nil, err
		}
		if deny {
			p.deny = append(p.deny, s)
		} else {
			p.allow = append(p.allow, s)
		}
	}
	return p, nil
}

// describe renders a JSON value for an error message: strings quoted,
// other values by kind.
func describe(n *node) string {
	switch n.kind {
	case kindString:
		return `"` + strings.ReplaceAll(n.text, `"`, `\"`) + `"`
	case kindNumber, kindBool:
		return n.text
	}
	return n.kind.String()
}

// parseStatement compiles one statement; path is "Statement[i]".
func parseStatement(n *node, path string, kind DocKind, vars bool) (s statement, deny bool, err error) {
	if n.kind != kindObject {
		return s, false, errorf("%s: a statement must be a JSON object, got %s", path, n.kind)
	}
	el := map[string]*node{}
	for i, key := range n.keys {
		switch key {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
			el[key] = n.vals[i]
		default:
			return s, false, errorf("%s: unknown element %q", path, key)
		}
	}
	// Sid is any string and need not be unique (§2); it does not affect
	// evaluation.
	if v := el["Sid"]; v != nil && v.kind != kindString {
		return s, false, errorf("%s: Sid must be a string, got %s", path, v.kind)
	}

	switch v := el["Effect"]; {
	case v == nil:
		return s, false, errorf("%s: Effect is required", path)
	case v.kind == kindString && v.text == "Deny":
		deny = true
	case v.kind == kindString && v.text == "Allow":
	default:
		return s, false, errorf(`%s: Effect must be "Allow" or "Deny", got %s`, path, describe(v))
	}

	pr, npr := el["Principal"], el["NotPrincipal"]
	switch {
	case kind == IdentityPolicy && pr != nil:
		return s, false, errorf("%s: Principal is not allowed in an identity policy", path)
	case kind == IdentityPolicy && npr != nil:
		return s, false, errorf("%s: NotPrincipal is not allowed in an identity policy", path)
	case kind == IdentityPolicy:
	case (pr == nil) == (npr == nil):
		return s, false, errorf("%s: exactly one of Principal or NotPrincipal is required", path)
	case pr != nil:
		s.principals, err = parsePrincipal(pr, path+".Principal", false)
	default:
		s.principals, err = parsePrincipal(npr, path+".NotPrincipal", true)
	}
	if err != nil {
		return s, false, err
	}

	if s.actions, err = parseActions(el["Action"], el["NotAction"], path); err != nil {
		return s, false, err
	}
	if s.resources, err = parseResources(el["Resource"], el["NotResource"], path, vars); err != nil {
		return s, false, err
	}
	if c := el["Condition"]; c != nil {
		if s.conditions, err = parseConditions(c, path+".Condition", vars); err != nil {
			return s, false, err
		}
	}
	return s, deny, nil
}

// pick returns whichever of the pair is present, and whether it is the
// negated one; exactly one must be.
func pick(pos, neg *node, path, name string) (*node, string, bool, error) {
	if (pos == nil) == (neg == nil) {
		return nil, "", false, errorf("%s: exactly one of %s or Not%s is required", path, name, name)
	}
	if pos != nil {
		return pos, path + "." + name, false, nil
	}
	return neg, path + ".Not" + name, true, nil
}

// parseActions compiles Action or NotAction (§3.2): case-insensitive
// globs, "*" or "service:pattern".
func parseActions(pos, neg *node, path string) (actionSet, error) {
	n, epath, not, err := pick(pos, neg, path, "Action")
	if err != nil {
		return actionSet{}, err
	}
	vals, err := stringList(n, epath)
	if err != nil {
		return actionSet{}, err
	}
	set := actionSet{not: not}
	for _, v := range vals {
		service, name, ok := strings.Cut(v, ":")
		if v != "*" && (!ok || service == "" || name == "" || strings.Contains(name, ":")) {
			return actionSet{}, errorf(`%s: %q is not an action; want "*" or "<service>:<action>"`, epath, v)
		}
		set.globs = append(set.globs, compileGlob(globText(v), true))
	}
	return set, nil
}

// parseResources compiles Resource or NotResource (§3.3).
func parseResources(pos, neg *node, path string, vars bool) (resourceSet, error) {
	n, epath, not, err := pick(pos, neg, path, "Resource")
	if err != nil {
		return resourceSet{}, err
	}
	vals, err := stringList(n, epath)
	if err != nil {
		return resourceSet{}, err
	}
	set := resourceSet{not: not}
	for _, v := range vals {
		if v != "*" && (!strings.HasPrefix(v, "arn:") || countSegments(v, vars) < arnSegments) {
			return resourceSet{}, errorf(`%s: %q is not a resource; want "*" or an ARN (arn:partition:service:region:account:resource)`, epath, v)
		}
		var r resourcePattern
		if vars {
			r.tmpl = parseTemplate(v)
		}
		if r.tmpl == nil {
			r.arn = compileARN(globText(v))
		}
		set.patterns = append(set.patterns, r)
	}
	return set, nil
}

// stringList reads a string or a non-empty array of strings (§2: a single
// value may stand for an array).
func stringList(n *node, path string) ([]string, error) {
	switch n.kind {
	case kindString:
		return []string{n.text}, nil
	case kindArray:
		if len(n.elems) == 0 {
			return nil, errorf("%s must not be an empty array", path)
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			if e.kind != kindString {
				return nil, errorf("%s must be a string or an array of strings, got %s in the array", path, e.kind)
			}
			out[i] = e.text
		}
		return out, nil
	}
	return nil, errorf("%s must be a string or an array of strings, got %s", path, n.kind)
}
