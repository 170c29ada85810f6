package api

import (
	"fmt"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last int64
		ok          bool
	}{
		{"bytes 0-1048575/*", 0, 1048575, true},
		{"bytes 1048576-2097151/*", 1048576, 2097151, true},
		{"bytes 0-0/*", 0, 0, true},
		{"bytes 0-99/100", 0, 99, true}, // numeric total accepted
		{"bytes=0-1048575/*", 0, 0, false},
		{"bytes 0-1048575", 0, 0, false},
		{"bytes 10-5/*", 0, 0, false},
		{"bytes -5-10/*", 0, 0, false},
		{"bytes 0--1/*", 0, 0, false},
		{"bytes a-b/*", 0, 0, false},
		{"bytes 0-1/x", 0, 0, false},
		{"0-1/*", 0, 0, false},
		{"bytes  0-1/*", 0, 0, false},
		{"bytes 0-99999999999999999999/*", 0, 0, false},
		{"", 0, 0, false},
	} {
		first, last, err := parseContentRange(tc.in)
		if tc.ok != (err == nil) || tc.ok && (first != tc.first || last != tc.last) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, first, last, err)
		}
		if err != nil && glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("parseContentRange(%q): kind %v", tc.in, glacier.KindOf(err))
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-1048575/*", "bytes=0-1/*", "bytes 5-1/*", "bytes 0-1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, err := parseContentRange(s)
		if err != nil {
			return
		}
		if first < 0 || last < first {
			t.Fatalf("%q parsed to an invalid range %d-%d", s, first, last)
		}
		if back := fmt.Sprintf("bytes %d-%d/", first, last); len(s) < len(back) || s[:len(back)] != back {
			t.Fatalf("%q parsed to %d-%d, which does not print back", s, first, last)
		}
	})
}
