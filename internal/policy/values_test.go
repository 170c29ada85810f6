package policy

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	rows := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2018-12-31", utc(2018, 12, 31, 0, 0, 0, 0), true},
		{"2018-12-31T23:59:59Z", utc(2018, 12, 31, 23, 59, 59, 0), true},
		{"2018-12-31t23:59:59z", utc(2018, 12, 31, 23, 59, 59, 0), true},
		{"2018-12-31T23:59Z", utc(2018, 12, 31, 23, 59, 0, 0), true},
		{"2018-12-31T23:59:59", utc(2018, 12, 31, 23, 59, 59, 0), true},
		{"2018-12-31T23:59:59.5Z", utc(2018, 12, 31, 23, 59, 59, 500000000), true},
		{"2018-12-31T23:59:59,25Z", utc(2018, 12, 31, 23, 59, 59, 250000000), true},
		{"2018-12-31T23:59:59.123456789Z", utc(2018, 12, 31, 23, 59, 59, 123456789), true},
		{"2018-12-31T23:59:59.1234567891Z", utc(2018, 12, 31, 23, 59, 59, 123456789), true},
		{"2019-01-01T01:00:00+01:00", utc(2019, 1, 1, 0, 0, 0, 0), true},
		{"2018-12-31T19:00:00-0500", utc(2019, 1, 1, 0, 0, 0, 0), true},
		{"2019-01-01T05:00:00+05", utc(2019, 1, 1, 0, 0, 0, 0), true},
		{"2020-02-29", utc(2020, 2, 29, 0, 0, 0, 0), true},
		{"1546300800", utc(2019, 1, 1, 0, 0, 0, 0), true},
		{"1546300800.5", utc(2019, 1, 1, 0, 0, 0, 500000000), true},
		{"0", utc(1970, 1, 1, 0, 0, 0, 0), true},
		{"-86400", utc(1969, 12, 31, 0, 0, 0, 0), true},
		{"", time.Time{}, false},
		{"2019-02-29", time.Time{}, false},
		{"2019-13-01", time.Time{}, false},
		{"2019-00-10", time.Time{}, false},
		{"2019-01-01T24:00:00Z", time.Time{}, false},
		{"2019-01-01T12:60Z", time.Time{}, false},
		{"2019-01-01T12:00:00.Z", time.Time{}, false},
		{"2019-01-01T12:00:00+25:00", time.Time{}, false},
		{"2019-01-01T12:00:00 UTC", time.Time{}, false},
		{"2019-01-01 12:00:00", time.Time{}, false},
		{"2019-1-1", time.Time{}, false},
		{"2019-01", time.Time{}, false},
		{"1e9", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"1e400", time.Time{}, false},
	}
	for _, r := range rows {
		got, ok := parseDate(r.in)
		if ok != r.ok || ok && !got.Equal(r.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", r.in, got, ok, r.want, r.ok)
		}
	}
}

func TestParseNumber(t *testing.T) {
	rows := []struct {
		in    string
		ok    bool
		isInt bool
		f     float64
	}{
		{"365", true, true, 365},
		{"-1", true, true, -1},
		{"+5", true, true, 5},
		{"007", true, true, 7},
		{"1.5", true, false, 1.5},
		{".5", true, false, 0.5},
		{"5.", true, false, 5},
		{"1e3", true, false, 1000},
		{"1E-2", true, false, 0.01},
		{"99999999999999999999", true, false, 1e20},
		{"", false, false, 0},
		{"-", false, false, 0},
		{".", false, false, 0},
		{"1e", false, false, 0},
		{"0x10", false, false, 0},
		{"1_000", false, false, 0},
		{" 5", false, false, 0},
		{"5 ", false, false, 0},
		{"Inf", false, false, 0},
		{"NaN", false, false, 0},
		{"1e999", false, false, 0},
	}
	for _, r := range rows {
		n, ok := parseNumber(r.in)
		if ok != r.ok || ok && (n.isInt != r.isInt || n.f != r.f) {
			t.Errorf("parseNumber(%q) = %+v, %v; want isInt %v, %v, %v", r.in, n, ok, r.isInt, r.f, r.ok)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	num := func(s string) number { n, _ := parseNumber(s); return n }
	rows := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1}, {"2", "1", 1}, {"10", "10.0", 0}, {"-0", "0", 0},
		{"9223372036854775807", "9223372036854775806", 1}, {"1.25", "1.5", -1},
	}
	for _, r := range rows {
		if got := compareNumbers(num(r.a), num(r.b)); got != r.want {
			t.Errorf("compareNumbers(%s, %s) = %d, want %d", r.a, r.b, got, r.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	rows := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.0/8", "10.0.0.0/8", true},
		{"10.1.2.3/8", "10.0.0.0/8", true},
		{"192.0.2.7", "192.0.2.7/32", true},
		{"2001:db8::/32", "2001:db8::/32", true},
		{"2001:db8::1", "2001:db8::1/128", true},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", true},
		{"::ffff:10.1.2.3", "10.1.2.3/32", true},
		{"10.0.0.0/33", "", false},
		{"10.0.0", "", false},
		{"", "", false},
	}
	for _, r := range rows {
		p, ok := parsePrefix(r.in)
		if ok != r.ok || ok && p.String() != r.want {
			t.Errorf("parsePrefix(%q) = %v, %v; want %s, %v", r.in, p, ok, r.want, r.ok)
		}
	}
}
