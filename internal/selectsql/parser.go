package selectsql

import (
	"strconv"
	"strings"
)

// Query is a parsed Glacier Select expression.
type Query struct {
	src   string
	star  bool // SELECT * (or alias.*)
	items []selectItem
	where expr
	alias string
	cols  []*colRef // every column reference, resolved by Bind
}

// selectItem is one expression of the SELECT list. Its alias, if any, is
// parsed and dropped: the CSV output has no header row, so an item's name
// is never written.
type selectItem struct {
	e expr
}

type parser struct {
	src  string
	toks []token
	i    int
	q    *Query
	// starQual is the qualifier of SELECT alias.*.
	starQual *token
	depth    int
}

// MaxExpressionLen is the longest expression Glacier Select accepts.
const MaxExpressionLen = 128000

// Parse parses a Glacier Select SQL expression. Errors are *SyntaxError.
func Parse(src string) (*Query, error) {
	if len(src) > MaxExpressionLen {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: "expression longer than " + strconv.Itoa(MaxExpressionLen) + " characters"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, q: &Query{src: src}}
	if err := p.query(); err != nil {
		return nil, err
	}
	return p.q, nil
}

func (p *parser) peek() token        { return p.toks[p.i] }
func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return newSyntaxError(p.src, t.pos, format, args...)
}

func (p *parser) unexpected(t token, want string) error {
	if want != "" {
		return p.errAt(t, "unexpected %s, expected %s", t, want)
	}
	return p.errAt(t, "unexpected %s", t)
}

func (p *parser) accept(s string) bool {
	if p.peek().is(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(s string) error {
	if !p.accept(s) {
		return p.unexpected(p.peek(), s)
	}
	return nil
}

// unsupported are keywords of SQL that Glacier Select does not have.
var unsupported = map[string]string{
	"LIMIT":     "LIMIT is not supported by Glacier Select",
	"ORDER":     "ORDER BY is not supported by Glacier Select",
	"GROUP":     "GROUP BY is not supported by Glacier Select",
	"HAVING":    "HAVING is not supported by Glacier Select",
	"UNION":     "UNION is not supported by Glacier Select",
	"INTERSECT": "INTERSECT is not supported by Glacier Select",
	"EXCEPT":    "EXCEPT is not supported by Glacier Select",
	"JOIN":      "joins are not supported by Glacier Select",
	"INNER":     "joins are not supported by Glacier Select",
	"LEFT":      "joins are not supported by Glacier Select",
	"RIGHT":     "joins are not supported by Glacier Select",
	"FULL":      "joins are not supported by Glacier Select",
	"CROSS":     "joins are not supported by Glacier Select",
	"OFFSET":    "OFFSET is not supported by Glacier Select",
}

var aggregates = map[string]bool{"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

// reserved words cannot be aliases or bare column names.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "AS": true,
	"LIKE": true, "ESCAPE": true, "BETWEEN": true, "IN": true, "IS": true, "NULL": true, "MISSING": true,
	"TRUE": true, "FALSE": true, "CASE": true, "WHEN": true, "THEN": true, "ELSE": true, "END": true,
	"CAST": true, "DISTINCT": true, "ALL": true, "ON": true,
}

func isReserved(t token) bool {
	if t.kind != tIdent {
		return false
	}
	u := strings.ToUpper(t.text)
	_, unsup := unsupported[u]
	return reserved[u] || unsup
}

func (p *parser) query() error {
	if err := p.expect("SELECT"); err != nil {
		return err
	}
	if t := p.peek(); t.is("DISTINCT") {
		return p.errAt(t, "DISTINCT is not supported by Glacier Select")
	}
	p.accept("ALL")
	if p.accept("*") {
		p.q.star = true
	} else if t, t1, t2 := p.peek(), p.peekAt(1), p.peekAt(2); (t.kind == tIdent || t.kind == tQuotedIdent) && t1.is(".") && t2.is("*") {
		p.next()
		p.next()
		p.next()
		p.q.star = true
		p.starQual = &t
	} else {
		for {
			it, err := p.selectItem()
			if err != nil {
				return err
			}
			p.q.items = append(p.q.items, it)
			if !p.accept(",") {
				break
			}
		}
	}
	if err := p.expect("FROM"); err != nil {
		return err
	}
	t := p.next()
	if t.kind != tIdent || !(strings.EqualFold(t.text, "ARCHIVE") || strings.EqualFold(t.text, "OBJECT") || strings.EqualFold(t.text, "S3OBJECT")) {
		if t.is("(") && p.peek().is("SELECT") {
			return p.errAt(t, "subqueries are not supported by Glacier Select")
		}
		return p.unexpected(t, "ARCHIVE or OBJECT")
	}
	if p.accept("AS") {
		a := p.next()
		if a.kind != tIdent && a.kind != tQuotedIdent || isReserved(a) {
			return p.unexpected(a, "an alias")
		}
		p.q.alias = a.text
	} else if a := p.peek(); a.kind == tQuotedIdent || a.kind == tIdent && !isReserved(a) {
		p.next()
		p.q.alias = a.text
	}
	if t := p.peek(); t.is(",") {
		return p.errAt(t, "joins are not supported by Glacier Select")
	}
	if p.accept("WHERE") {
		e, err := p.expr()
		if err != nil {
			return err
		}
		p.q.where = e
	}
	p.accept(";")
	t = p.peek()
	if t.kind == tIdent {
		if msg, ok := unsupported[strings.ToUpper(t.text)]; ok {
			return p.errAt(t, "%s", msg)
		}
	}
	if t.kind != tEOF {
		return p.unexpected(t, "end of expression")
	}
	return p.resolveAliases()
}

// checkAlias and resolveAliases check that qualified column names use the
// FROM alias; they run once the alias is known.
func (p *parser) checkAlias(t token) error {
	if p.q.alias == "" || !sameName(p.q.alias, t.text, t.kind == tQuotedIdent) {
		return p.errAt(t, "unknown table alias %s", t)
	}
	return nil
}

func (p *parser) resolveAliases() error {
	if p.starQual != nil {
		if err := p.checkAlias(*p.starQual); err != nil {
			return err
		}
	}
	for _, c := range p.q.cols {
		if c.qual != nil {
			if err := p.checkAlias(*c.qual); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameName(a, b string, exact bool) bool {
	if exact {
		return a == b
	}
	return strings.EqualFold(a, b)
}

func (p *parser) selectItem() (selectItem, error) {
	e, err := p.expr()
	if err != nil {
		return selectItem{}, err
	}
	// An alias (AS name, or a bare name) is checked and dropped.
	if p.accept("AS") {
		if a := p.next(); a.kind != tIdent && a.kind != tQuotedIdent {
			return selectItem{}, p.unexpected(a, "an alias")
		}
	} else if a := p.peek(); a.kind == tQuotedIdent || a.kind == tIdent && !isReserved(a) {
		p.next()
	}
	return selectItem{e: e}, nil
}

// Expression grammar, loosest first:
//
//	or:      and {OR and}
//	and:     not {AND not}
//	not:     NOT not | pred
//	pred:    concat [cmp concat | [NOT] LIKE concat [ESCAPE concat] |
//	         [NOT] BETWEEN concat AND concat | [NOT] IN (list) | IS [NOT] NULL|MISSING]
//	concat:  add {|| add}
//	add:     mul {+|- mul}
//	mul:     unary {*|/|% unary}
//	unary:   -unary | +unary | primary
func (p *parser) expr() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.or()
}

// maxDepth bounds the nesting of expressions.
const maxDepth = 200

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(p.peek(), "expression nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.accept("OR") {
		var r expr
		if r, err = p.and(); err == nil {
			l = &logicOp{or: true, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.accept("AND") {
		var r expr
		if r, err = p.not(); err == nil {
			l = &logicOp{l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (expr, error) {
	if p.accept("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notOp{e}, nil
	}
	return p.pred()
}

func (p *parser) pred() (expr, error) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tOp && (t.text == "=" || t.text == "<>" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		r, err := p.concat()
		if err != nil {
			return nil, err
		}
		return &cmpOp{op: t.text, l: l, r: r}, nil
	case t.is("IS"):
		p.next()
		neg := p.accept("NOT")
		var what kind
		switch {
		case p.accept("NULL"):
			what = kNull
		case p.accept("MISSING"):
			what = kMissing
		default:
			return nil, p.unexpected(p.peek(), "NULL or MISSING")
		}
		return &isOp{e: l, what: what, neg: neg}, nil
	}
	neg := false
	if t.is("NOT") && (p.peekAt(1).is("LIKE") || p.peekAt(1).is("BETWEEN") || p.peekAt(1).is("IN")) {
		p.next()
		neg = true
		t = p.peek()
	}
	switch {
	case t.is("LIKE"):
		p.next()
		pat, err := p.concat()
		if err != nil {
			return nil, err
		}
		lk := &likeOp{e: l, pat: pat, neg: neg}
		if p.accept("ESCAPE") {
			if lk.esc, err = p.concat(); err != nil {
				return nil, err
			}
		}
		if err := lk.precompile(); err != nil {
			return nil, p.errAt(t, "%s", err.Error())
		}
		return lk, nil
	case t.is("BETWEEN"):
		p.next()
		lo, err := p.concat()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.concat()
		if err != nil {
			return nil, err
		}
		return &betweenOp{e: l, lo: lo, hi: hi, neg: neg}, nil
	case t.is("IN"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		if s := p.peek(); s.is("SELECT") {
			return nil, p.errAt(s, "subqueries are not supported by Glacier Select")
		}
		in := &inOp{e: l, neg: neg}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			in.list = append(in.list, e)
			if !p.accept(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return in, nil
	}
	if neg {
		return nil, p.unexpected(p.peek(), "LIKE, BETWEEN or IN")
	}
	return l, nil
}

func (p *parser) concat() (expr, error) {
	l, err := p.add()
	for err == nil && p.accept("||") {
		var r expr
		if r, err = p.add(); err == nil {
			l = &concatOp{l, r}
		}
	}
	return l, err
}

func (p *parser) add() (expr, error) {
	l, err := p.mul()
	for err == nil && (p.peek().is("+") || p.peek().is("-")) {
		op := p.next().text[0]
		var r expr
		if r, err = p.mul(); err == nil {
			l = &arith{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) mul() (expr, error) {
	l, err := p.unary()
	for err == nil && (p.peek().is("*") || p.peek().is("/") || p.peek().is("%")) {
		op := p.next().text[0]
		var r expr
		if r, err = p.unary(); err == nil {
			l = &arith{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary() (expr, error) {
	if p.accept("-") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		if c, ok := e.(*constant); ok && (c.v.k == kInt || c.v.k == kFloat) {
			c.v.i, c.v.f = -c.v.i, -c.v.f
			return c, nil
		}
		return &arith{op: '-', l: &constant{intV(0)}, r: e}, nil
	}
	if p.accept("+") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		return p.unary()
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return &constant{strV(t.text)}, nil
	case tInt:
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			f, _ := strconv.ParseFloat(t.text, 64)
			return &constant{floatV(f)}, nil
		}
		return &constant{intV(i)}, nil
	case tFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errAt(t, "invalid number %s", t.text)
		}
		return &constant{floatV(f)}, nil
	case tQuotedIdent:
		return p.column(t)
	case tTime:
		ts, err := parseTimestamp(t.text)
		if err != nil {
			return nil, p.errAt(t, "invalid timestamp literal %s", t)
		}
		return &constant{timeV(ts)}, nil
	case tOp:
		if t.text == "(" {
			if s := p.peek(); s.is("SELECT") {
				return nil, p.errAt(s, "subqueries are not supported by Glacier Select")
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		}
		return nil, p.unexpected(t, "an expression")
	case tEOF:
		return nil, p.unexpected(t, "an expression")
	}
	u := strings.ToUpper(t.text)
	switch u {
	case "NULL":
		return &constant{null}, nil
	case "MISSING":
		return &constant{missing}, nil
	case "TRUE":
		return &constant{boolV(true)}, nil
	case "FALSE":
		return &constant{boolV(false)}, nil
	case "CASE":
		return p.caseExpr()
	case "CAST":
		return p.cast(t)
	case "SELECT":
		return nil, p.errAt(t, "subqueries are not supported by Glacier Select")
	}
	if p.peek().is("(") {
		if aggregates[u] {
			return nil, p.errAt(t, "aggregate function %s is not supported by Glacier Select", u)
		}
		return p.call(t, u)
	}
	if isReserved(t) {
		if msg, ok := unsupported[u]; ok {
			return nil, p.errAt(t, "%s", msg)
		}
		return nil, p.unexpected(t, "an expression")
	}
	return p.column(t)
}

func (p *parser) column(t token) (expr, error) {
	c := &colRef{name: t.text, exact: t.kind == tQuotedIdent, pos: t.pos}
	if p.peek().is(".") {
		p.next()
		n := p.next()
		if n.kind != tIdent && n.kind != tQuotedIdent {
			return nil, p.unexpected(n, "a column name")
		}
		q := t
		c.qual = &q
		c.name, c.exact, c.pos = n.text, n.kind == tQuotedIdent, n.pos
	}
	if !c.exact && len(c.name) > 1 && c.name[0] == '_' {
		if n, err := strconv.Atoi(c.name[1:]); err == nil && n > 0 && c.name[1] != '0' {
			c.index = n - 1
			c.positional = true
		}
	}
	p.q.cols = append(p.q.cols, c)
	return c, nil
}

func (p *parser) caseExpr() (expr, error) {
	c := &caseOp{}
	if !p.peek().is("WHEN") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.subject = e
	}
	for p.accept("WHEN") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("THEN"); err != nil {
			return nil, err
		}
		th, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.whens = append(c.whens, w)
		c.thens = append(c.thens, th)
	}
	if len(c.whens) == 0 {
		return nil, p.unexpected(p.peek(), "WHEN")
	}
	if p.accept("ELSE") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.els = e
	}
	if err := p.expect("END"); err != nil {
		return nil, err
	}
	return c, nil
}

var castTypes = map[string]bool{
	"INT": true, "INTEGER": true, "BIGINT": true, "SMALLINT": true, "FLOAT": true, "DOUBLE": true, "REAL": true,
	"DECIMAL": true, "NUMERIC": true, "STRING": true, "VARCHAR": true, "CHAR": true, "TEXT": true,
	"BOOL": true, "BOOLEAN": true, "TIMESTAMP": true,
}

func (p *parser) cast(t token) (expr, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect("AS"); err != nil {
		return nil, err
	}
	ty := p.next()
	u := strings.ToUpper(ty.text)
	if ty.kind != tIdent || !castTypes[u] {
		return nil, p.unexpected(ty, "a type (INT, FLOAT, DECIMAL, STRING, BOOL or TIMESTAMP)")
	}
	if u == "DOUBLE" {
		p.accept("PRECISION")
	}
	// DECIMAL(p, s), VARCHAR(n): the size is accepted and ignored.
	if p.accept("(") {
		for !p.peek().is(")") {
			if p.peek().kind == tEOF {
				return nil, p.unexpected(p.peek(), ")")
			}
			p.next()
		}
		p.next()
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return &castOp{e: e, typ: u}, nil
}

// datePart reads a date part keyword of DATE_ADD, DATE_DIFF or EXTRACT.
func (p *parser) datePart(extract bool) (string, error) {
	t := p.next()
	u := strings.ToUpper(t.text)
	switch u {
	case "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND":
		return u, nil
	case "TIMEZONE_HOUR", "TIMEZONE_MINUTE":
		if extract {
			return u, nil
		}
	}
	if t.kind == tString {
		if pu := strings.ToUpper(t.text); pu == "YEAR" || pu == "MONTH" || pu == "DAY" || pu == "HOUR" || pu == "MINUTE" || pu == "SECOND" {
			return pu, nil
		}
	}
	return "", p.unexpected(t, "a date part (YEAR, MONTH, DAY, HOUR, MINUTE or SECOND)")
}

func (p *parser) call(name token, u string) (expr, error) {
	p.next() // (
	f := &call{name: u, pos: name.pos}
	switch u {
	case "EXTRACT":
		part, err := p.datePart(true)
		if err != nil {
			return nil, err
		}
		if err := p.expect("FROM"); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		f.part, f.args = part, []expr{e}
		return f, p.expect(")")
	case "DATE_ADD", "DATE_DIFF":
		part, err := p.datePart(false)
		if err != nil {
			return nil, err
		}
		f.part = part
		for range 2 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			f.args = append(f.args, e)
		}
		return f, p.expect(")")
	case "SUBSTRING":
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		f.args = []expr{e}
		sep1, sep2 := ",", ","
		if p.peek().is("FROM") {
			sep1, sep2 = "FROM", "FOR"
		}
		if err := p.expect(sep1); err != nil {
			return nil, err
		}
		if e, err = p.expr(); err != nil {
			return nil, err
		}
		f.args = append(f.args, e)
		if p.accept(sep2) {
			if e, err = p.expr(); err != nil {
				return nil, err
			}
			f.args = append(f.args, e)
		}
		return f, p.expect(")")
	case "TRIM":
		f.part = "BOTH"
		if t := p.peek(); t.is("LEADING") || t.is("TRAILING") || t.is("BOTH") {
			f.part = strings.ToUpper(p.next().text)
			if p.accept("FROM") {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				f.args = []expr{e}
				return f, p.expect(")")
			}
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.accept("FROM") {
			s, err := p.expr()
			if err != nil {
				return nil, err
			}
			f.args = []expr{s, e}
		} else {
			f.args = []expr{e}
		}
		return f, p.expect(")")
	}
	arity, ok := functions[u]
	if !ok {
		return nil, p.errAt(name, "unknown function %s", name.text)
	}
	if !p.peek().is(")") {
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			f.args = append(f.args, e)
			if !p.accept(",") {
				break
			}
		}
	}
	if t := p.peek(); !t.is(")") {
		return nil, p.unexpected(t, ", or )")
	}
	if len(f.args) < arity[0] || arity[1] >= 0 && len(f.args) > arity[1] {
		return nil, p.errAt(name, "wrong number of arguments to %s: %d", u, len(f.args))
	}
	p.next()
	return f, nil
}

// functions maps the plain-call functions to their minimum and maximum
// number of arguments (-1: no maximum).
var functions = map[string][2]int{
	"LOWER": {1, 1}, "UPPER": {1, 1}, "CHAR_LENGTH": {1, 1}, "CHARACTER_LENGTH": {1, 1},
	"COALESCE": {1, -1}, "NULLIF": {2, 2}, "TO_STRING": {2, 2}, "TO_TIMESTAMP": {1, 1}, "UTCNOW": {0, 0},
}
