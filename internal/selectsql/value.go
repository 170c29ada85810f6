package selectsql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

type kind uint8

const (
	kNull kind = iota
	kMissing
	kBool
	kInt
	kFloat
	kString
	kTime
)

// Value is the result of evaluating an expression.
type Value struct {
	k kind
	b bool
	i int64
	f float64
	s string
	t time.Time
}

var (
	null    = Value{k: kNull}
	missing = Value{k: kMissing}
)

func boolV(b bool) Value      { return Value{k: kBool, b: b} }
func intV(i int64) Value      { return Value{k: kInt, i: i} }
func floatV(f float64) Value  { return Value{k: kFloat, f: f} }
func strV(s string) Value     { return Value{k: kString, s: s} }
func timeV(t time.Time) Value { return Value{k: kTime, t: t} }

func (v Value) isNull() bool { return v.k == kNull || v.k == kMissing }

func (k kind) String() string {
	switch k {
	case kNull:
		return "NULL"
	case kMissing:
		return "MISSING"
	case kBool:
		return "BOOL"
	case kInt:
		return "INT"
	case kFloat:
		return "FLOAT"
	case kString:
		return "STRING"
	case kTime:
		return "TIMESTAMP"
	}
	return "?"
}

// timeLayout is how timestamps are written to results.
const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

// String renders a value as an output field: NULL and MISSING are empty.
func (v Value) String() string {
	switch v.k {
	case kBool:
		return strconv.FormatBool(v.b)
	case kInt:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		if v.f == math.Trunc(v.f) && math.Abs(v.f) < 1e15 {
			return strconv.FormatFloat(v.f, 'f', 1, 64)
		}
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case kString:
		return v.s
	case kTime:
		return v.t.Format(timeLayout)
	}
	return ""
}

// RuntimeError is an error evaluating an expression over a record.
type RuntimeError struct{ Msg string }

func (e *RuntimeError) Error() string { return e.Msg }

func rtErr(format string, args ...any) error { return &RuntimeError{fmt.Sprintf(format, args...)} }

func quoteVal(v Value) string {
	if v.k == kString {
		return "'" + v.s + "'"
	}
	if v.isNull() {
		return v.k.String()
	}
	return v.String()
}

// toNumber converts a value to INT or FLOAT; CSV fields are strings, so a
// string that reads as a number counts as one.
func toNumber(v Value) (Value, error) {
	switch v.k {
	case kInt, kFloat:
		return v, nil
	case kString:
		s := strings.TrimSpace(v.s)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intV(i), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXnN") {
			return floatV(f), nil
		}
	}
	return null, rtErr("cannot convert %s to a number", quoteVal(v))
}

func asFloat(v Value) float64 {
	if v.k == kInt {
		return float64(v.i)
	}
	return v.f
}

func toBool(v Value) (Value, error) {
	switch v.k {
	case kBool:
		return v, nil
	case kString:
		switch strings.ToLower(strings.TrimSpace(v.s)) {
		case "true":
			return boolV(true), nil
		case "false":
			return boolV(false), nil
		}
	case kInt:
		return boolV(v.i != 0), nil
	}
	return null, rtErr("cannot convert %s to a boolean", quoteVal(v))
}

func toTime(v Value) (Value, error) {
	switch v.k {
	case kTime:
		return v, nil
	case kString:
		t, err := parseTimestamp(strings.TrimSpace(v.s))
		if err != nil {
			return null, err
		}
		return timeV(t), nil
	}
	return null, rtErr("cannot convert %s to a timestamp", quoteVal(v))
}

// compare orders a and b (both non-null): -1, 0 or 1. Strings compared
// with numbers or timestamps are converted to them.
func compare(a, b Value) (int, error) {
	if a.k == kString && b.k == kString {
		return strings.Compare(a.s, b.s), nil
	}
	num := func(v Value) bool { return v.k == kInt || v.k == kFloat }
	var err error
	switch {
	case num(a) || num(b):
		if a, err = toNumber(a); err != nil {
			return 0, err
		}
		if b, err = toNumber(b); err != nil {
			return 0, err
		}
		if a.k == kInt && b.k == kInt {
			return cmpOrdered(a.i, b.i), nil
		}
		return cmpOrdered(asFloat(a), asFloat(b)), nil
	case a.k == kTime || b.k == kTime:
		if a, err = toTime(a); err != nil {
			return 0, err
		}
		if b, err = toTime(b); err != nil {
			return 0, err
		}
		return a.t.Compare(b.t), nil
	case a.k == kBool || b.k == kBool:
		if a, err = toBool(a); err != nil {
			return 0, err
		}
		if b, err = toBool(b); err != nil {
			return 0, err
		}
		switch {
		case a.b == b.b:
			return 0, nil
		case !a.b:
			return -1, nil
		}
		return 1, nil
	}
	return 0, rtErr("cannot compare %s with %s", quoteVal(a), quoteVal(b))
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// castTo implements CAST(v AS typ).
func castTo(v Value, typ string) (Value, error) {
	if v.isNull() {
		return v, nil
	}
	switch typ {
	case "INT", "INTEGER", "BIGINT", "SMALLINT":
		switch v.k {
		case kInt:
			return v, nil
		case kFloat:
			return intV(int64(v.f)), nil
		case kBool:
			if v.b {
				return intV(1), nil
			}
			return intV(0), nil
		case kString:
			n, err := toNumber(v)
			if err != nil {
				return null, rtErr("cannot cast %s to INT", quoteVal(v))
			}
			if n.k == kFloat {
				return intV(int64(n.f)), nil
			}
			return n, nil
		}
	case "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC":
		switch v.k {
		case kInt:
			return floatV(float64(v.i)), nil
		case kFloat:
			return v, nil
		case kString:
			n, err := toNumber(v)
			if err != nil {
				return null, rtErr("cannot cast %s to %s", quoteVal(v), typ)
			}
			return floatV(asFloat(n)), nil
		}
	case "STRING", "VARCHAR", "CHAR", "TEXT":
		return strV(v.String()), nil
	case "BOOL", "BOOLEAN":
		b, err := toBool(v)
		if err != nil {
			return null, rtErr("cannot cast %s to BOOL", quoteVal(v))
		}
		return b, nil
	case "TIMESTAMP":
		return toTime(v)
	}
	return null, rtErr("cannot cast %s to %s", quoteVal(v), typ)
}
