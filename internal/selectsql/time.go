package selectsql

import (
	"strconv"
	"strings"
	"time"
)

// parseTimestamp reads the ISO 8601 forms TO_TIMESTAMP accepts: YYYYT,
// YYYY-MM-T, YYYY-MM-DDT, YYYY-MM-DDThh:mmTZD, YYYY-MM-DDThh:mm:ssTZD and
// YYYY-MM-DDThh:mm:ss.sTZD, plus a plain date YYYY-MM-DD. A missing zone
// is UTC.
func parseTimestamp(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, rtErr("cannot convert '%s' to a timestamp", s)
	}
	num := func(str string) (int, bool) {
		if str == "" {
			return 0, false
		}
		for i := 0; i < len(str); i++ {
			if str[i] < '0' || str[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.Atoi(str)
		return n, err == nil
	}
	date, clock, hasT := strings.Cut(s, "T")
	parts := strings.Split(date, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return bad()
	}
	ymd := []int{0, 1, 1}
	for i, p := range parts {
		if p == "" && i == len(parts)-1 && i > 0 {
			break
		}
		n, ok := num(p)
		if !ok || i > 0 && len(p) != 2 {
			return bad()
		}
		ymd[i] = n
	}
	if !hasT && len(parts) != 3 {
		return bad()
	}
	h, m, sec, nsec := 0, 0, 0, 0
	loc := time.UTC
	if clock != "" {
		zone := ""
		if i := strings.IndexAny(clock, "Z+-"); i >= 0 {
			clock, zone = clock[:i], clock[i:]
		} else {
			return bad()
		}
		hm := strings.Split(clock, ":")
		if len(hm) < 2 || len(hm) > 3 {
			return bad()
		}
		var ok bool
		if h, ok = num(hm[0]); !ok || len(hm[0]) != 2 {
			return bad()
		}
		if m, ok = num(hm[1]); !ok || len(hm[1]) != 2 {
			return bad()
		}
		if len(hm) == 3 {
			whole, frac, hasFrac := strings.Cut(hm[2], ".")
			if sec, ok = num(whole); !ok || len(whole) != 2 {
				return bad()
			}
			if hasFrac {
				if _, ok := num(frac); !ok || len(frac) > 9 {
					return bad()
				}
				nsec, _ = strconv.Atoi((frac + "000000000")[:9])
			}
		}
		if zone != "Z" {
			zh, zm, ok := strings.Cut(zone[1:], ":")
			a, ok1 := num(zh)
			b, ok2 := num(zm)
			if !ok || !ok1 || !ok2 || len(zh) != 2 || len(zm) != 2 {
				return bad()
			}
			off := a*3600 + b*60
			if zone[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	t := time.Date(ymd[0], time.Month(ymd[1]), ymd[2], h, m, sec, nsec, loc)
	if t.Month() != time.Month(ymd[1]) || t.Day() != ymd[2] || h > 23 || m > 59 || sec > 59 {
		return bad()
	}
	return t, nil
}

func extract(t time.Time, part string) int64 {
	switch part {
	case "YEAR":
		return int64(t.Year())
	case "MONTH":
		return int64(t.Month())
	case "DAY":
		return int64(t.Day())
	case "HOUR":
		return int64(t.Hour())
	case "MINUTE":
		return int64(t.Minute())
	case "SECOND":
		return int64(t.Second())
	}
	_, off := t.Zone()
	if part == "TIMEZONE_HOUR" {
		return int64(off / 3600)
	}
	return int64(off % 3600 / 60)
}

func dateAdd(t time.Time, part string, n int) time.Time {
	switch part {
	case "YEAR":
		return t.AddDate(n, 0, 0)
	case "MONTH":
		return t.AddDate(0, n, 0)
	case "DAY":
		return t.AddDate(0, 0, n)
	case "HOUR":
		return t.Add(time.Duration(n) * time.Hour)
	case "MINUTE":
		return t.Add(time.Duration(n) * time.Minute)
	}
	return t.Add(time.Duration(n) * time.Second)
}

// dateDiff counts whole parts from a to b (negative when b is earlier).
func dateDiff(part string, a, b time.Time) int64 {
	switch part {
	case "YEAR", "MONTH":
		a, b := a.UTC(), b.UTC()
		months := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
		// Not a whole month yet when b's day-and-time is before a's.
		rest := func(t time.Time) time.Duration {
			return time.Duration(t.Day())*24*time.Hour + time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
		}
		if months > 0 && rest(b) < rest(a) {
			months--
		} else if months < 0 && rest(b) > rest(a) {
			months++
		}
		if part == "YEAR" {
			return int64(months / 12)
		}
		return int64(months)
	}
	d := b.Sub(a)
	switch part {
	case "DAY":
		return int64(d / (24 * time.Hour))
	case "HOUR":
		return int64(d / time.Hour)
	case "MINUTE":
		return int64(d / time.Minute)
	}
	return int64(d / time.Second)
}

// formatTime renders t with a TO_STRING pattern: y yy yyyy, M MM MMM MMMM
// MMMMM, d dd, a, h hh, H HH, m mm, s ss, S… (fraction), n (nanoseconds),
// X XX XXX XXXX XXXXX and x xx xxx xxxx xxxxx (offsets), 'literal' text;
// other characters are copied.
func formatTime(t time.Time, pat string) (string, error) {
	var b strings.Builder
	pad := func(n, w int) {
		s := strconv.Itoa(n)
		for i := len(s); i < w; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for i := 0; i < len(pat); {
		c := pat[i]
		j := i
		for j < len(pat) && pat[j] == c {
			j++
		}
		n := j - i
		switch c {
		case '\'':
			end := strings.IndexByte(pat[i+1:], '\'')
			if end < 0 {
				return "", rtErr("TO_STRING pattern has an unterminated quote: '%s'", pat)
			}
			if end == 0 {
				b.WriteByte('\'')
			}
			b.WriteString(pat[i+1 : i+1+end])
			i += end + 2
			continue
		case 'y':
			if n == 2 {
				pad(t.Year()%100, 2)
			} else {
				pad(t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 5:
				b.WriteString(t.Month().String()[:1])
			case n == 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()), n)
			}
		case 'd':
			pad(t.Day(), n)
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(h, n)
		case 'H':
			pad(t.Hour(), n)
		case 'm':
			pad(t.Minute(), n)
		case 's':
			pad(t.Second(), n)
		case 'S':
			frac := strconv.Itoa(t.Nanosecond() + 1e9)[1:]
			for len(frac) < n {
				frac += "0"
			}
			b.WriteString(frac[:n])
		case 'n':
			pad(t.Nanosecond(), n)
		case 'X', 'x':
			_, off := t.Zone()
			if c == 'X' && off == 0 {
				b.WriteByte('Z')
				break
			}
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			b.WriteByte(sign)
			pad(off/3600, 2)
			mins := off % 3600 / 60
			switch {
			case n == 1:
				if mins != 0 {
					pad(mins, 2)
				}
			case n == 2 || n == 4:
				pad(mins, 2)
			default:
				b.WriteByte(':')
				pad(mins, 2)
			}
		default:
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
				return "", rtErr("TO_STRING pattern letter %q is not supported", c)
			}
			b.WriteString(pat[i:j])
		}
		i = j
	}
	return b.String(), nil
}
