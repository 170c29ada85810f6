package inventory

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// stdJSON is s as encoding/json writes it with HTML escaping off.
func stdJSON(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	cases := append([]string{
		"plain",
		"<tag> & 'apostrophe'",
		"\b\f\n\r\t\x00\x1f\x7f",
		"\u2028 and \u2029",
		"\xed\xa0\x80", // an encoded surrogate is invalid UTF-8
		"\xf4\x90\x80\x80",
		"trailing \xe2\x82",
	}, nastyDescriptions...)
	for _, s := range cases {
		got := string(AppendJSONString(nil, []byte(s), false))
		if want := stdJSON(t, s); got != want {
			t.Errorf("AppendJSONString(%q) = %s; encoding/json writes %s", s, got, want)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range nastyDescriptions {
		if len(s) < 1024 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(AppendJSONString(nil, []byte(s), false))
		if want := stdJSON(t, s); got != want {
			t.Errorf("AppendJSONString(%q) = %s; encoding/json writes %s", s, got, want)
		}
	})
}

// TestCSVQuoting is §6.3's rule: the description always quoted, each "
// written as \", backslashes left alone.
func TestCSVQuoting(t *testing.T) {
	for _, tc := range []struct{ desc, want string }{
		{``, `""`},
		{`plain`, `"plain"`},
		{`a,b`, `"a,b"`},
		{`say "hi"`, `"say \"hi\""`},
		{`a\"b`, `"a\\"b"`}, // the spec's example: a, backslash, quote, b
		{`back\slash`, `"back\slash"`},
		{`\`, `"\"`},
		{`"`, `"\""`},
		{"two\nlines", "\"two\nlines\""},
		{"bytes \xff\x00", "\"bytes \xff\x00\""},
	} {
		if got := string(appendCSVQuoted(nil, []byte(tc.desc))); got != tc.want {
			t.Errorf("appendCSVQuoted(%q) = %s; want %s", tc.desc, got, tc.want)
		}
	}
}

func checkCreationDate(t *testing.T, ms int64) {
	t.Helper()
	want := time.UnixMilli(ms).UTC().Format(creationDateLayout)
	if got := string(appendCreationDate(nil, ms)); got != want {
		t.Fatalf("appendCreationDate(%d) = %s; want %s", ms, got, want)
	}
}

func TestCreationDateMatchesTime(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 1e6, time.UTC),
		time.Date(1900, 2, 28, 23, 59, 59, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(400, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(399, 12, 31, 0, 0, 0, 0, time.UTC),
		base,
	} {
		for _, delta := range []int64{-86_400_000, -1, 0, 1, 86_400_000} {
			if ms := d.UnixMilli() + delta; ms >= minMilli && ms <= maxMilli {
				checkCreationDate(t, ms)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		checkCreationDate(t, minMilli+r.Int64N(maxMilli-minMilli+1))
	}
}

func FuzzCreationDate(f *testing.F) {
	f.Add(int64(0))
	f.Add(base.UnixMilli())
	f.Fuzz(func(t *testing.T, ms int64) {
		span := uint64(maxMilli - minMilli + 1)
		checkCreationDate(t, minMilli+int64(uint64(ms)%span))
	})
}
