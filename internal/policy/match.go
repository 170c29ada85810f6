package policy

import "strings"

// glob is a compiled wildcard pattern (§3.2, §3.3, StringLike). Its text
// is in the package's internal syntax: '*' matches any run of characters
// (including none), '?' exactly one character, and '\' makes the next byte
// literal. Policy text reaches this syntax through globText, which escapes
// backslashes, so the escape exists only for the literal '*', '?' and ':'
// that policy variables produce (${*}, ${?} and variable values).
type glob struct {
	kind globKind
	text string // the whole pattern, internal syntax
	lit  string // globExact: the literal; globPrefix: the literal before the trailing '*'
	fold bool   // ASCII case-insensitive (actions); text and lit are lower-cased
	prog *wild  // globGeneral: the compiled matcher (wild.go)
}

type globKind uint8

const (
	globAll     globKind = iota // "*"
	globExact                   // no wildcard
	globPrefix                  // a literal then a single trailing '*': "glacier:delete*"
	globGeneral                 // anything else: wildcardMatch
)

// globText turns policy text (no variables) into internal syntax.
func globText(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// compileGlob classifies text so that the common shapes match without the
// general matcher. fold lower-cases the pattern for case-insensitive use.
func compileGlob(text string, fold bool) glob {
	if fold {
		text = lowerASCII(text)
	}
	g := glob{text: text, fold: fold, kind: globGeneral}
	if text == "*" {
		g.kind = globAll
		return g
	}
	lit, rest := literalPrefix(text)
	switch rest {
	case "":
		g.kind, g.lit = globExact, lit
	case "*":
		g.kind, g.lit = globPrefix, lit
	default:
		g.prog = compileWild(text)
	}
	return g
}

// literalPrefix splits text at its first unescaped wildcard, returning the
// unescaped literal before it and the rest of the pattern from it.
func literalPrefix(text string) (lit, rest string) {
	var b []byte // built only when an escape is seen
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '*' || c == '?':
			if b == nil {
				return text[:i], text[i:]
			}
			return string(b), text[i:]
		case c == '\\' && i+1 < len(text):
			if b == nil {
				b = append(make([]byte, 0, len(text)), text[:i]...)
			}
			i++
			b = append(b, text[i])
		case b != nil:
			b = append(b, c)
		}
	}
	if b == nil {
		return text, ""
	}
	return string(b), ""
}

func (g *glob) match(s string) bool { return g.matchDone(s, nil) }

// matchDone is match that gives up, reporting false, when done is closed
// (see wild.match).
func (g *glob) matchDone(s string, done <-chan struct{}) bool {
	switch g.kind {
	case globAll:
		return true
	case globExact:
		if g.fold {
			return equalFoldASCII(s, g.lit)
		}
		return s == g.lit
	case globPrefix:
		if len(s) < len(g.lit) {
			return false
		}
		if g.fold {
			return equalFoldASCII(s[:len(g.lit)], g.lit)
		}
		return s[:len(g.lit)] == g.lit
	}
	return g.prog.match(s, g.fold, done)
}

// wildcardMatch reports whether the whole of s matches the internal-syntax
// pattern p (see glob). With fold, p is lower-case and s is compared ASCII
// case-insensitively. It compiles p each time; glob.match uses the compiled
// form.
func wildcardMatch(p, s string, fold bool) bool {
	prog := compileWild(p)
	return prog.match(s, fold, nil)
}

// arnGlob is an ARN pattern compiled per colon-separated segment (§3.3):
// six segments, the sixth being the rest of the string, so '*' never
// crosses a colon except in the resource part.
type arnGlob struct {
	all  bool // the pattern "*": matches anything, ARN or not
	ok   bool // the pattern has six segments; otherwise it matches nothing
	segs [arnSegments]glob
}

const arnSegments = 6

// compileARN compiles text (internal syntax). Colons inside escapes do not
// separate segments.
func compileARN(text string) arnGlob {
	if text == "*" {
		return arnGlob{all: true, ok: true}
	}
	var a arnGlob
	for i := 0; i < arnSegments-1; i++ {
		j := indexSeparator(text)
		if j < 0 {
			return arnGlob{}
		}
		a.segs[i] = compileGlob(text[:j], false)
		text = text[j+1:]
	}
	a.segs[arnSegments-1] = compileGlob(text, false)
	a.ok = true
	return a
}

// indexSeparator returns the index of the first unescaped ':' in text.
func indexSeparator(text string) int {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case ':':
			return i
		}
	}
	return -1
}

func (a *arnGlob) match(s string) bool {
	if a.all {
		return true
	}
	if !a.ok {
		return false
	}
	for i := 0; i < arnSegments-1; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 || !a.segs[i].match(s[:j]) {
			return false
		}
		s = s[j+1:]
	}
	return a.segs[arnSegments-1].match(s)
}

// countSegments counts the colon-separated segments of policy text,
// ignoring colons inside ${...} variables.
func countSegments(s string, vars bool) int {
	n := 1
	for i := 0; i < len(s); i++ {
		if vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i:], '}'); j > 0 {
				i += j
				continue
			}
		}
		if s[i] == ':' {
			n++
		}
	}
	return n
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII lower-cases ASCII letters only; actions and key names are
// ASCII, and ASCII-only folding keeps the per-request comparison a byte
// loop.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}
