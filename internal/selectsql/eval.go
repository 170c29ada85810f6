package selectsql

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

type env struct {
	fields []string
	now    time.Time
}

type expr interface {
	eval(*env) (Value, error)
}

type constant struct{ v Value }

func (c *constant) eval(*env) (Value, error) { return c.v, nil }

type colRef struct {
	qual       *token
	name       string
	exact      bool // a "quoted" name: case-sensitive
	positional bool // _N
	index      int  // resolved field index; -1 when the name is unknown
	pos        int
}

func (c *colRef) eval(e *env) (Value, error) {
	if c.index < 0 || c.index >= len(e.fields) {
		return missing, nil
	}
	return strV(e.fields[c.index]), nil
}

// Bind resolves column names against the header record (nil when the
// input has no header, FileHeaderInfo NONE or IGNORE). Unquoted names
// match case-insensitively; names the header lacks read as MISSING.
func (q *Query) Bind(header []string) {
	for _, c := range q.cols {
		if c.positional {
			continue
		}
		c.index = -1
		for i, h := range header {
			if sameName(h, c.name, c.exact) {
				c.index = i
				break
			}
		}
	}
}

// Eval evaluates the query over one record: ok is false when the WHERE
// clause drops it. out is reused between calls when given.
func (q *Query) Eval(fields []string, now time.Time, out []string) (res []string, ok bool, err error) {
	e := &env{fields: fields, now: now}
	if q.where != nil {
		v, err := q.where.eval(e)
		if err != nil {
			return nil, false, err
		}
		if v.isNull() {
			return nil, false, nil
		}
		b, err := toBool(v)
		if err != nil {
			return nil, false, rtErr("WHERE clause: %v", err)
		}
		if !b.b {
			return nil, false, nil
		}
	}
	out = out[:0]
	if q.star {
		return append(out, fields...), true, nil
	}
	for _, it := range q.items {
		v, err := it.e.eval(e)
		if err != nil {
			return nil, false, err
		}
		out = append(out, v.String())
	}
	return out, true, nil
}

type logicOp struct {
	or   bool
	l, r expr
}

// eval is three-valued: NULL AND FALSE is FALSE, NULL OR TRUE is TRUE.
func (o *logicOp) eval(e *env) (Value, error) {
	l, err := evalBool(o.l, e)
	if err != nil {
		return null, err
	}
	if !l.isNull() && l.b == o.or {
		return l, nil
	}
	r, err := evalBool(o.r, e)
	if err != nil {
		return null, err
	}
	if !r.isNull() && r.b == o.or {
		return r, nil
	}
	if l.isNull() || r.isNull() {
		return null, nil
	}
	return boolV(!o.or), nil
}

func evalBool(x expr, e *env) (Value, error) {
	v, err := x.eval(e)
	if err != nil || v.isNull() {
		return null, err
	}
	return toBool(v)
}

type notOp struct{ e expr }

func (o *notOp) eval(e *env) (Value, error) {
	v, err := evalBool(o.e, e)
	if err != nil || v.isNull() {
		return null, err
	}
	return boolV(!v.b), nil
}

type cmpOp struct {
	op   string
	l, r expr
}

func (o *cmpOp) eval(e *env) (Value, error) {
	l, err := o.l.eval(e)
	if err != nil {
		return null, err
	}
	r, err := o.r.eval(e)
	if err != nil || l.isNull() || r.isNull() {
		return null, err
	}
	c, err := compare(l, r)
	if err != nil {
		return null, err
	}
	switch o.op {
	case "=":
		return boolV(c == 0), nil
	case "<>", "!=":
		return boolV(c != 0), nil
	case "<":
		return boolV(c < 0), nil
	case "<=":
		return boolV(c <= 0), nil
	case ">":
		return boolV(c > 0), nil
	}
	return boolV(c >= 0), nil
}

type isOp struct {
	e    expr
	what kind
	neg  bool
}

func (o *isOp) eval(e *env) (Value, error) {
	v, err := o.e.eval(e)
	if err != nil {
		return null, err
	}
	r := v.isNull()
	if o.what == kMissing {
		r = v.k == kMissing
	}
	return boolV(r != o.neg), nil
}

type betweenOp struct {
	e, lo, hi expr
	neg       bool
}

func (o *betweenOp) eval(e *env) (Value, error) {
	var vs [3]Value
	for i, x := range []expr{o.e, o.lo, o.hi} {
		v, err := x.eval(e)
		if err != nil {
			return null, err
		}
		if v.isNull() {
			return null, nil
		}
		vs[i] = v
	}
	a, err := compare(vs[0], vs[1])
	if err != nil {
		return null, err
	}
	b, err := compare(vs[0], vs[2])
	if err != nil {
		return null, err
	}
	return boolV((a >= 0 && b <= 0) != o.neg), nil
}

type inOp struct {
	e    expr
	list []expr
	neg  bool
}

func (o *inOp) eval(e *env) (Value, error) {
	v, err := o.e.eval(e)
	if err != nil || v.isNull() {
		return null, err
	}
	sawNull := false
	for _, x := range o.list {
		w, err := x.eval(e)
		if err != nil {
			return null, err
		}
		if w.isNull() {
			sawNull = true
			continue
		}
		c, err := compare(v, w)
		if err != nil {
			return null, err
		}
		if c == 0 {
			return boolV(!o.neg), nil
		}
	}
	if sawNull {
		return null, nil
	}
	return boolV(o.neg), nil
}

type concatOp struct{ l, r expr }

func (o *concatOp) eval(e *env) (Value, error) {
	l, err := o.l.eval(e)
	if err != nil {
		return null, err
	}
	r, err := o.r.eval(e)
	if err != nil || l.isNull() || r.isNull() {
		return null, err
	}
	return strV(l.String() + r.String()), nil
}

type arith struct {
	op   byte
	l, r expr
}

func (o *arith) eval(e *env) (Value, error) {
	l, err := o.l.eval(e)
	if err != nil {
		return null, err
	}
	r, err := o.r.eval(e)
	if err != nil || l.isNull() || r.isNull() {
		return null, err
	}
	if l, err = toNumber(l); err != nil {
		return null, err
	}
	if r, err = toNumber(r); err != nil {
		return null, err
	}
	if l.k == kInt && r.k == kInt {
		a, b := l.i, r.i
		switch o.op {
		case '+':
			return intV(a + b), nil
		case '-':
			return intV(a - b), nil
		case '*':
			return intV(a * b), nil
		}
		if b == 0 {
			return null, rtErr("division by zero")
		}
		if o.op == '/' {
			return intV(a / b), nil
		}
		return intV(a % b), nil
	}
	a, b := asFloat(l), asFloat(r)
	switch o.op {
	case '+':
		return floatV(a + b), nil
	case '-':
		return floatV(a - b), nil
	case '*':
		return floatV(a * b), nil
	}
	if b == 0 {
		return null, rtErr("division by zero")
	}
	if o.op == '/' {
		return floatV(a / b), nil
	}
	return floatV(math.Mod(a, b)), nil
}

type castOp struct {
	e   expr
	typ string
}

func (o *castOp) eval(e *env) (Value, error) {
	v, err := o.e.eval(e)
	if err != nil {
		return null, err
	}
	return castTo(v, o.typ)
}

type caseOp struct {
	subject      expr
	whens, thens []expr
	els          expr
}

func (o *caseOp) eval(e *env) (Value, error) {
	var subj Value
	if o.subject != nil {
		var err error
		if subj, err = o.subject.eval(e); err != nil {
			return null, err
		}
	}
	for i, w := range o.whens {
		v, err := w.eval(e)
		if err != nil {
			return null, err
		}
		match := false
		if o.subject != nil {
			if !v.isNull() && !subj.isNull() {
				c, err := compare(subj, v)
				if err != nil {
					return null, err
				}
				match = c == 0
			}
		} else if !v.isNull() {
			b, err := toBool(v)
			if err != nil {
				return null, err
			}
			match = b.b
		}
		if match {
			return o.thens[i].eval(e)
		}
	}
	if o.els != nil {
		return o.els.eval(e)
	}
	return null, nil
}

type likeOp struct {
	e, pat, esc expr
	neg         bool
	compiled    []likeTok // set when pattern and escape are constants
}

type likeTok struct {
	kind byte // 'c' literal rune, '_' any rune, '%' any run
	r    rune
}

func (o *likeOp) precompile() error {
	pc, ok := o.pat.(*constant)
	if !ok || pc.v.k != kString {
		return nil
	}
	esc := ""
	if o.esc != nil {
		ec, ok := o.esc.(*constant)
		if !ok || ec.v.k != kString {
			return nil
		}
		esc = ec.v.s
	}
	toks, err := compileLike(pc.v.s, esc)
	if err != nil {
		return err
	}
	o.compiled = toks
	return nil
}

func compileLike(pat, esc string) ([]likeTok, error) {
	if utf8.RuneCountInString(esc) > 1 {
		return nil, rtErr("LIKE escape must be a single character: '%s'", esc)
	}
	escR, _ := utf8.DecodeRuneInString(esc)
	var toks []likeTok
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case esc != "" && r == escR:
			if i+1 >= len(rs) {
				return nil, rtErr("LIKE pattern '%s' ends with the escape character", pat)
			}
			i++
			toks = append(toks, likeTok{'c', rs[i]})
		case r == '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeTok{kind: '%'})
			}
		case r == '_':
			toks = append(toks, likeTok{kind: '_'})
		default:
			toks = append(toks, likeTok{'c', r})
		}
	}
	return toks, nil
}

// matchLike matches s against a compiled pattern, backtracking only to
// the last %.
func matchLike(toks []likeTok, s string) bool {
	rs := []rune(s)
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(rs) {
		if ti < len(toks) && (toks[ti].kind == '_' || toks[ti].kind == 'c' && toks[ti].r == rs[si]) {
			ti++
			si++
			continue
		}
		if ti < len(toks) && toks[ti].kind == '%' {
			starT, starS = ti, si
			ti++
			continue
		}
		if starT >= 0 {
			starS++
			ti, si = starT+1, starS
			continue
		}
		return false
	}
	for ti < len(toks) && toks[ti].kind == '%' {
		ti++
	}
	return ti == len(toks)
}

func (o *likeOp) eval(e *env) (Value, error) {
	v, err := o.e.eval(e)
	if err != nil || v.isNull() {
		return null, err
	}
	toks := o.compiled
	if toks == nil {
		p, err := o.pat.eval(e)
		if err != nil || p.isNull() {
			return null, err
		}
		esc := ""
		if o.esc != nil {
			ev, err := o.esc.eval(e)
			if err != nil || ev.isNull() {
				return null, err
			}
			esc = ev.String()
		}
		if toks, err = compileLike(p.String(), esc); err != nil {
			return null, err
		}
	}
	return boolV(matchLike(toks, v.String()) != o.neg), nil
}

type call struct {
	name string
	part string // date part, or TRIM's LEADING/TRAILING/BOTH
	args []expr
	pos  int
}

func (f *call) eval(e *env) (Value, error) {
	switch f.name {
	case "COALESCE":
		for _, a := range f.args {
			v, err := a.eval(e)
			if err != nil {
				return null, err
			}
			if !v.isNull() {
				return v, nil
			}
		}
		return null, nil
	case "UTCNOW":
		return timeV(e.now.UTC()), nil
	}
	args := make([]Value, len(f.args))
	for i, a := range f.args {
		v, err := a.eval(e)
		if err != nil {
			return null, err
		}
		args[i] = v
	}
	if f.name == "NULLIF" {
		if args[0].isNull() || args[1].isNull() {
			return args[0], nil
		}
		c, err := compare(args[0], args[1])
		if err != nil {
			return null, err
		}
		if c == 0 {
			return null, nil
		}
		return args[0], nil
	}
	for _, a := range args {
		if a.isNull() {
			return null, nil
		}
	}
	switch f.name {
	case "LOWER":
		return strV(strings.ToLower(args[0].String())), nil
	case "UPPER":
		return strV(strings.ToUpper(args[0].String())), nil
	case "CHAR_LENGTH", "CHARACTER_LENGTH":
		return intV(int64(utf8.RuneCountInString(args[0].String()))), nil
	case "SUBSTRING":
		return substring(args)
	case "TRIM":
		chars := " "
		if len(args) == 2 {
			chars = args[1].String()
		}
		s := args[0].String()
		if f.part != "TRAILING" {
			s = strings.TrimLeft(s, chars)
		}
		if f.part != "LEADING" {
			s = strings.TrimRight(s, chars)
		}
		return strV(s), nil
	case "TO_TIMESTAMP":
		return toTime(args[0])
	case "TO_STRING":
		t, err := toTime(args[0])
		if err != nil {
			return null, err
		}
		s, err := formatTime(t.t, args[1].String())
		return strV(s), err
	case "EXTRACT":
		t, err := toTime(args[0])
		if err != nil {
			return null, err
		}
		return intV(extract(t.t, f.part)), nil
	case "DATE_ADD":
		n, err := toNumber(args[0])
		if err != nil {
			return null, err
		}
		if n.k != kInt {
			return null, rtErr("DATE_ADD quantity must be an integer: %s", quoteVal(args[0]))
		}
		t, err := toTime(args[1])
		if err != nil {
			return null, err
		}
		return timeV(dateAdd(t.t, f.part, int(n.i))), nil
	case "DATE_DIFF":
		a, err := toTime(args[0])
		if err != nil {
			return null, err
		}
		b, err := toTime(args[1])
		if err != nil {
			return null, err
		}
		return intV(dateDiff(f.part, a.t, b.t)), nil
	}
	return null, rtErr("unknown function %s", f.name)
}

// substring is SQL SUBSTRING: 1-based start; a start before 1 shortens
// the length by the difference.
func substring(args []Value) (Value, error) {
	rs := []rune(args[0].String())
	st, err := toNumber(args[1])
	if err != nil {
		return null, err
	}
	start := int64(asFloat(st))
	end := int64(len(rs)) + 1
	if len(args) == 3 {
		ln, err := toNumber(args[2])
		if err != nil {
			return null, err
		}
		n := int64(asFloat(ln))
		if n < 0 {
			return null, rtErr("SUBSTRING length must not be negative: %d", n)
		}
		end = min(end, start+n)
	}
	start = max(start, 1)
	if start >= end {
		return strV(""), nil
	}
	return strV(string(rs[start-1 : end-1])), nil
}
