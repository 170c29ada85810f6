package policy

import "strings"

// template is policy text containing policy variables (§3.3, §4.3): only
// documents of Version 2012-10-17 have them; in 2008-10-17 "${...}" is
// plain text. It is compiled at Parse and resolved per request.
type template struct {
	parts []part
}

// part is a piece of a template: literal text, or a variable.
type part struct {
	lit     string // literal text
	escaped bool   // lit came from ${*}, ${?} or ${$}: never a wildcard
	isVar   bool
	key     keyRef // the variable's key
	def     string // default value, from ${key, 'default'}
	hasDef  bool
}

// parseTemplate returns the template for s, or nil when s has no variable
// and no escape, so plain text keeps its fast path. A "${" without a
// closing brace, or with a malformed name, is literal text.
func parseTemplate(s string) *template {
	if !strings.Contains(s, "${") {
		return nil
	}
	var t template
	found := false
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		inner := s[i+2 : i+j]
		p, ok := parseVariable(inner)
		if !ok {
			t.addLit(s[:i+j+1])
			s = s[i+j+1:]
			continue
		}
		found = true
		t.addLit(s[:i])
		t.parts = append(t.parts, p)
		s = s[i+j+1:]
	}
	if !found {
		return nil
	}
	t.addLit(s)
	return &t
}

func (t *template) addLit(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && !t.parts[n-1].isVar && !t.parts[n-1].escaped {
		t.parts[n-1].lit += s
		return
	}
	t.parts = append(t.parts, part{lit: s})
}

// parseVariable reads the inside of ${...}.
func parseVariable(inner string) (part, bool) {
	switch inner {
	case "*", "?", "$":
		return part{lit: inner, escaped: true}, true
	}
	name, def, hasDef := strings.Cut(inner, ",")
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\r\n${}") {
		return part{}, false
	}
	p := part{isVar: true, key: newKeyRef(name)}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return part{}, false
		}
		p.def, p.hasDef = def[1:len(def)-1], true
	}
	return p, true
}

// resolve substitutes the variables. With asGlob the result is in glob
// internal syntax: literal text keeps its wildcards, while escapes and
// variable values are made literal (including ':' so that a value cannot
// add an ARN segment). ok is false when a variable has no single value and
// no default.
func (t *template) resolve(e *evaluation, asGlob bool) (string, bool) {
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		switch {
		case !p.isVar && !p.escaped:
			if asGlob {
				b.WriteString(globText(p.lit))
			} else {
				b.WriteString(p.lit)
			}
		case p.escaped:
			if asGlob {
				writeLiteral(&b, p.lit)
			} else {
				b.WriteString(p.lit)
			}
		default:
			vals := e.lookup(&p.key)
			var v string
			switch {
			case len(vals) == 1:
				v = vals[0]
			case len(vals) == 0 && p.hasDef:
				v = p.def
			default:
				return "", false
			}
			if asGlob {
				writeLiteral(&b, v)
			} else {
				b.WriteString(v)
			}
		}
	}
	return b.String(), true
}

// writeLiteral writes v in glob internal syntax, escaping every byte the
// matchers give a meaning to.
func writeLiteral(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '*', '?', '\\', ':':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
}
