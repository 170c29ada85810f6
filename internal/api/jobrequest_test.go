package api

import (
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestRetrievalRangeSyntax: RetrievalByteRange is "start-end" with
// 0 <= start <= end; the service checks it against the archive.
func TestRetrievalRangeSyntax(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-1048575", 0, mib - 1, true},
		{"1048576-5242979", mib, 5*mib + 99, true},
		{"1-1048575", 1, mib - 1, true},    // alignment is the service's check
		{"2097152-1048575", 0, 0, false},   // end before start
		{"abc", 0, 0, false},               // not a range
		{"-1-1048575", 0, 0, false},        // negative
		{"1048576-1048575", 0, 0, false},   // empty
		{" 0-1048575", 0, 0, false},        // spaces
		{"0-1048575-2097151", 0, 0, false}, // three numbers
	} {
		r, err := retrievalRange(c.in)
		if c.ok != (err == nil) || c.ok && (r.Start != c.start || r.End != c.end) {
			t.Errorf("retrievalRange(%q) = %v, %v; want %d-%d, ok=%v", c.in, r, err, c.start, c.end, c.ok)
		}
		if err != nil && glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("retrievalRange(%q): error kind %v, want invalid parameter", c.in, glacier.KindOf(err))
		}
	}
}
