package policy

import (
	"net/netip"
	"strings"
	"time"
)

// family is a group of operators sharing a value type and comparison
// (§4.3).
type family uint8

const (
	famString family = iota
	famStringIgnoreCase
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

// relation is how a Numeric or Date request value must relate to the
// policy value.
type relation uint8

const (
	relEq relation = iota
	relLt
	relLe
	relGt
	relGe
)

func (r relation) holds(c int) bool {
	switch r {
	case relLt:
		return c < 0
	case relLe:
		return c <= 0
	case relGt:
		return c > 0
	case relGe:
		return c >= 0
	}
	return c == 0
}

// operator is a base operator: its family, relation and whether it is the
// negation of the family's match (§4.1: negated operators are true only if
// the request value matches none of the policy values).
type operator struct {
	fam     family
	rel     relation
	negated bool
}

// operators is every base operator name of §4.3; the ForAnyValue: and
// ForAllValues: prefixes and the IfExists suffix are peeled off first.
var operators = map[string]operator{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negated: true},
	"StringEqualsIgnoreCase":    {fam: famStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {fam: famStringIgnoreCase, negated: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negated: true},
	"NumericEquals":             {fam: famNumeric, rel: relEq},
	"NumericNotEquals":          {fam: famNumeric, rel: relEq, negated: true},
	"NumericLessThan":           {fam: famNumeric, rel: relLt},
	"NumericLessThanEquals":     {fam: famNumeric, rel: relLe},
	"NumericGreaterThan":        {fam: famNumeric, rel: relGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, rel: relGe},
	"DateEquals":                {fam: famDate, rel: relEq},
	"DateNotEquals":             {fam: famDate, rel: relEq, negated: true},
	"DateLessThan":              {fam: famDate, rel: relLt},
	"DateLessThanEquals":        {fam: famDate, rel: relLe},
	"DateGreaterThan":           {fam: famDate, rel: relGt},
	"DateGreaterThanEquals":     {fam: famDate, rel: relGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negated: true},
	"ArnEquals":                 {fam: famARN},
	"ArnLike":                   {fam: famARN},
	"ArnNotEquals":              {fam: famARN, negated: true},
	"ArnNotLike":                {fam: famARN, negated: true},
	"Null":                      {fam: famNull},
}

type qualifier uint8

const (
	single    qualifier = iota // no set qualifier
	anyValue                   // ForAnyValue:
	allValues                  // ForAllValues:
)

// condition is one key under one operator, compiled.
type condition struct {
	op       operator
	set      qualifier
	ifExists bool
	key      keyRef
	values   []condValue
}

// condValue is one policy value, pre-parsed for its family. ok is false
// when the value does not parse for the family; it then matches nothing.
type condValue struct {
	ok   bool
	str  string    // string families (the literal), binary (the decoded bytes)
	tmpl *template // string and ARN families with policy variables
	glob glob      // StringLike
	arn  arnGlob   // Arn*
	num  number    // Numeric
	time time.Time // Date
	bool bool      // Bool, Null
	pfx  netip.Prefix
}

// parseOperator splits an operator name into qualifier, base and IfExists.
func parseOperator(name string) (op operator, set qualifier, ifExists bool, ok bool) {
	base := name
	if b, cut := strings.CutPrefix(base, "ForAnyValue:"); cut {
		base, set = b, anyValue
	} else if b, cut := strings.CutPrefix(base, "ForAllValues:"); cut {
		base, set = b, allValues
	}
	if b, cut := strings.CutSuffix(base, "IfExists"); cut {
		base, ifExists = b, true
	}
	op, ok = operators[base]
	return op, set, ifExists, ok
}

// parseConditions compiles a Condition element at path.
func parseConditions(n *node, path string, vars bool) ([]condition, error) {
	if n.kind != kindObject {
		return nil, errorf("%s must be an object, got %s", path, n.kind)
	}
	var conds []condition
	for i, name := range n.keys {
		op, set, ifExists, ok := parseOperator(name)
		if !ok {
			return nil, errorf("%s: unknown operator %q", path, name)
		}
		if op.fam == famNull && ifExists {
			return nil, errorf("%s: operator %q: Null has no IfExists form", path, name)
		}
		block := n.vals[i]
		opPath := path + "." + name
		if block.kind != kindObject {
			return nil, errorf("%s must be an object of condition keys, got %s", opPath, block.kind)
		}
		for j, key := range block.keys {
			keyPath := opPath + "." + key
			if key == "" {
				return nil, errorf("%s: empty condition key", opPath)
			}
			texts, err := conditionValues(block.vals[j], keyPath)
			if err != nil {
				return nil, err
			}
			c := condition{op: op, set: set, ifExists: ifExists, key: newKeyRef(key)}
			for _, t := range texts {
				c.values = append(c.values, compileValue(op.fam, t, vars))
			}
			conds = append(conds, c)
		}
	}
	return conds, nil
}

// conditionValues reads a value or an array of values: strings, or JSON
// numbers and booleans taken as their text (§2).
func conditionValues(n *node, path string) ([]string, error) {
	scalar := func(n *node) (string, bool) {
		switch n.kind {
		case kindString, kindNumber, kindBool:
			return n.text, true
		}
		return "", false
	}
	if n.kind == kindArray {
		if len(n.elems) == 0 {
			return nil, errorf("%s must not be an empty array", path)
		}
		out := make([]string, 0, len(n.elems))
		for _, e := range n.elems {
			s, ok := scalar(e)
			if !ok {
				return nil, errorf("%s: values must be strings, numbers or booleans, got %s", path, e.kind)
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := scalar(n)
	if !ok {
		return nil, errorf("%s: value must be a string, number, boolean or an array of them, got %s", path, n.kind)
	}
	return []string{s}, nil
}

// compileValue pre-parses one policy value for fam. Variables apply to the
// String and ARN families only (§4.3).
func compileValue(fam family, s string, vars bool) condValue {
	v := condValue{ok: true, str: s}
	switch fam {
	case famString, famStringIgnoreCase, famStringLike, famARN:
		if vars {
			v.tmpl = parseTemplate(s)
		}
		if v.tmpl == nil {
			switch fam {
			case famStringLike:
				v.glob = compileGlob(globText(s), false)
			case famARN:
				v.arn = compileARN(globText(s))
			}
		}
	case famNumeric:
		v.num, v.ok = parseNumber(s)
	case famDate:
		v.time, v.ok = parseDate(s)
	case famBool, famNull:
		v.bool, v.ok = parseBool(s)
	case famBinary:
		v.str, v.ok = parseBinary(s)
	case famIP:
		v.pfx, v.ok = parsePrefix(s)
	}
	return v
}

// eval is the condition's truth for the request, with the absent-key rules
// of §4.2 and the set qualifiers of §4.3.
func (c *condition) eval(e *evaluation) bool {
	vals := e.lookup(&c.key)
	if c.op.fam == famNull {
		absent := len(vals) == 0
		for i := range c.values {
			if c.values[i].ok && c.values[i].bool == absent {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == allValues:
			return true
		case c.set == anyValue:
			return false
		}
		return c.op.negated
	}
	switch c.set {
	case anyValue:
		for _, r := range vals {
			if c.matchAny(e, r) != c.op.negated {
				return true
			}
		}
		return false
	case allValues:
		for _, r := range vals {
			if c.matchAny(e, r) == c.op.negated {
				return false
			}
		}
		return true
	}
	for _, r := range vals {
		if c.matchAny(e, r) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// matchAny reports whether request value r matches any policy value under
// the family's positive comparison.
func (c *condition) matchAny(e *evaluation, r string) bool {
	switch c.op.fam {
	case famNumeric:
		n, ok := parseNumber(r)
		if !ok {
			return false
		}
		for i := range c.values {
			if v := &c.values[i]; v.ok && c.op.rel.holds(compareNumbers(n, v.num)) {
				return true
			}
		}
	case famDate:
		t, ok := parseDate(r)
		if !ok {
			return false
		}
		for i := range c.values {
			if v := &c.values[i]; v.ok && c.op.rel.holds(t.Compare(v.time)) {
				return true
			}
		}
	case famBool:
		b, ok := parseBool(r)
		if !ok {
			return false
		}
		for i := range c.values {
			if v := &c.values[i]; v.ok && v.bool == b {
				return true
			}
		}
	case famIP:
		a, ok := parseAddr(r)
		if !ok {
			return false
		}
		for i := range c.values {
			if v := &c.values[i]; v.ok && v.pfx.Contains(a) {
				return true
			}
		}
	case famBinary:
		for i := range c.values {
			if v := &c.values[i]; v.ok && v.str == r {
				return true
			}
		}
	default:
		for i := range c.values {
			if e.cancelled() {
				return false
			}
			if c.values[i].matchString(e, c.op.fam, r) {
				return true
			}
		}
	}
	return false
}

// matchString compares r with a value of the String or ARN families,
// resolving policy variables first when the value has them.
func (v *condValue) matchString(e *evaluation, fam family, r string) bool {
	if v.tmpl == nil {
		switch fam {
		case famString:
			return r == v.str
		case famStringIgnoreCase:
			return strings.EqualFold(r, v.str)
		case famStringLike:
			return v.glob.matchDone(r, e.done)
		}
		return v.arn.match(r)
	}
	asGlob := fam == famStringLike || fam == famARN
	s, ok := v.tmpl.resolve(e, asGlob)
	if !ok {
		return false
	}
	switch fam {
	case famString:
		return r == s
	case famStringIgnoreCase:
		return strings.EqualFold(r, s)
	case famStringLike:
		g := compileGlob(s, false)
		return g.matchDone(r, e.done)
	}
	a := compileARN(s)
	return a.match(r)
}
