package inventory

import (
	"bytes"
	"encoding/json"
	"testing"
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
		got := string(appendJSONString(nil, []byte(s)))
		if want := stdJSON(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s; encoding/json writes %s", s, got, want)
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
		got := string(appendJSONString(nil, []byte(s)))
		if want := stdJSON(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s; encoding/json writes %s", s, got, want)
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
