package policy

import (
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file parses the typed values of §4.3, for policy values at Parse
// and for request values at Evaluate; the request-side parsers do not
// allocate.

// number is a Numeric operand: integers compare exactly, anything with a
// fraction or exponent as float64.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// parseNumber accepts [+-]digits[.digits][(e|E)[+-]digits] (either side of
// the point may be empty, not both). ParseFloat alone would also take
// "Inf", "NaN", hex and underscores, which are not policy numbers.
func parseNumber(s string) (number, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	isInt := true
	if i < len(s) && s[i] == '.' {
		isInt = false
		for i++; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return number{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInt = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			exp++
		}
		if exp == 0 {
			return number{}, false
		}
	}
	if i != len(s) {
		return number{}, false
	}
	if isInt {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{isInt: true, i: n, f: float64(n)}, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return number{}, false
	}
	return number{f: f}, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func compareNumbers(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// parseDate accepts the W3C ISO-8601 profile (§4.3) and epoch seconds:
//
//	1700000000 or 1700000000.25             epoch seconds (all digits: never a year)
//	2018-12-31                              midnight UTC
//	2018-12-31T23:59[:59[.999999999]][zone] zone: Z, ±hh:mm, ±hhmm or ±hh; none means UTC
//
// 'T' and 'Z' may be lower-case, and ',' may mark the fraction.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if isDigit(s[0]) && (len(s) < 5 || s[4] != '-') || s[0] == '-' || s[0] == '+' {
		n, ok := parseNumber(s)
		if !ok || strings.ContainsAny(s, "eE") {
			return time.Time{}, false
		}
		if n.isInt {
			return time.Unix(n.i, 0).UTC(), true
		}
		if math.Abs(n.f) > 1e15 { // far beyond any date; keeps int64 conversion exact
			return time.Time{}, false
		}
		sec := math.Floor(n.f)
		return time.Unix(int64(sec), int64((n.f-sec)*1e9)).UTC(), true
	}
	year, ok1 := digitsAt(s, 0, 4)
	month, ok2 := digitsAt(s, 5, 2)
	day, ok3 := digitsAt(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	var hour, minute, sec, nsec, offset int
	if len(s) > 10 {
		if s[10] != 'T' && s[10] != 't' {
			return time.Time{}, false
		}
		var ok bool
		if hour, ok = digitsAt(s, 11, 2); !ok || len(s) < 16 || s[13] != ':' {
			return time.Time{}, false
		}
		if minute, ok = digitsAt(s, 14, 2); !ok {
			return time.Time{}, false
		}
		i := 16
		if i < len(s) && s[i] == ':' {
			if sec, ok = digitsAt(s, i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				start, scale := i, 100000000
				for ; i < len(s) && isDigit(s[i]); i++ {
					nsec += int(s[i]-'0') * scale
					scale /= 10
				}
				if i == start {
					return time.Time{}, false
				}
			}
		}
		if offset, ok = parseZone(s[i:]); !ok {
			return time.Time{}, false
		}
		if hour > 23 || minute > 59 || sec > 59 {
			return time.Time{}, false
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if month < 1 || month > 12 || t.Day() != day {
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// parseZone reads "", Z, ±hh:mm, ±hhmm or ±hh, returning seconds east of UTC.
func parseZone(z string) (int, bool) {
	switch {
	case z == "" || z == "Z" || z == "z":
		return 0, true
	case z[0] != '+' && z[0] != '-':
		return 0, false
	}
	h, ok := digitsAt(z, 1, 2)
	if !ok {
		return 0, false
	}
	m := 0
	switch len(z) {
	case 3:
	case 5:
		m, ok = digitsAt(z, 3, 2)
	case 6:
		m, ok = digitsAt(z, 4, 2)
		ok = ok && z[3] == ':'
	default:
		ok = false
	}
	if !ok || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

// digitsAt reads the n-digit decimal number at s[i:i+n].
func digitsAt(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseBool reads "true" or "false" in any case (§4.3 Bool, [CHOICE]).
func parseBool(s string) (value, ok bool) {
	switch {
	case equalFoldASCII(s, "true"):
		return true, true
	case equalFoldASCII(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix reads a policy IpAddress value: a CIDR, or a bare address
// meaning that one address (/32 or /128). IPv4-mapped IPv6 forms are
// unmapped so that they match IPv4 callers.
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') < 0 {
		a, ok := parseAddr(s)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// parseAddr reads a request aws:SourceIp value.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// parseBinary decodes a BinaryEquals policy value: base64, padded or not.
func parseBinary(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return "", false
		}
	}
	return string(b), true
}
