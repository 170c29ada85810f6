// Package selectsql implements the SQL subset of Glacier Select over CSV
// records: a lexer, a parser that reports error positions, and an
// evaluator that turns one input record into zero or one output record.
// It imports the standard library only.
package selectsql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is a problem found while parsing an expression. Line and
// Column are 1-based and count characters.
type SyntaxError struct {
	Offset       int // byte offset into the expression
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at line %d, column %d", e.Msg, e.Line, e.Column)
}

func newSyntaxError(src string, off int, format string, args ...any) *SyntaxError {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuotedIdent
	tString
	tInt
	tFloat
	tOp   // punctuation and operators
	tTime // `timestamp`
)

type token struct {
	kind tokKind
	text string // identifier (as written), literal value or operator
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "'" + t.text + "'"
	case tTime:
		return "`" + t.text + "`"
	case tQuotedIdent:
		return `"` + t.text + `"`
	}
	return t.text
}

// is reports whether t is the keyword or operator s (case-insensitive).
func (t token) is(s string) bool {
	return (t.kind == tIdent || t.kind == tOp) && strings.EqualFold(t.text, s)
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, newSyntaxError(src, i, "unterminated comment")
			}
			i += end + 4
		case c == '\'':
			start := i
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, newSyntaxError(src, start, "unterminated string literal")
				}
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{tString, b.String(), start})
		case c == '`':
			// An Ion timestamp literal, as in `2010-01-01T`.
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return nil, newSyntaxError(src, i, "unterminated timestamp literal")
			}
			toks = append(toks, token{tTime, src[i+1 : i+1+end], i})
			i += end + 2
		case c == '"':
			start := i
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, newSyntaxError(src, start, "unterminated quoted identifier")
				}
				if src[i] == '"' {
					if i+1 < len(src) && src[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{tQuotedIdent, b.String(), start})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			float := false
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i < len(src) && src[i] == '.' {
				float = true
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && src[j] >= '0' && src[j] <= '9' {
					float = true
					i = j
					for i < len(src) && src[i] >= '0' && src[i] <= '9' {
						i++
					}
				}
			}
			k := tInt
			if float {
				k = tFloat
			}
			toks = append(toks, token{k, src[start:i], start})
		case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)) || c >= utf8.RuneSelf:
			start := i
			for i < len(src) {
				r, n := utf8.DecodeRuneInString(src[i:])
				if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					i += n
					continue
				}
				if r == utf8.RuneError && n <= 1 && i == start {
					return nil, newSyntaxError(src, i, "invalid character")
				}
				break
			}
			if i == start {
				return nil, newSyntaxError(src, i, "unexpected character %q", src[i:i+1])
			}
			toks = append(toks, token{tIdent, src[start:i], start})
		default:
			start := i
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "<=", ">=", "<>", "!=", "||":
				toks = append(toks, token{tOp, two, start})
				i += 2
				continue
			}
			switch c {
			case '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.', '[', ']', ';':
				toks = append(toks, token{tOp, string(c), start})
				i++
			default:
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, newSyntaxError(src, i, "unexpected character %q", r)
			}
		}
	}
	toks = append(toks, token{tEOF, "", len(src)})
	return toks, nil
}
