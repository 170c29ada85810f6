package glacier

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// memBlobs is a BlobStore in memory, enough for the readers under test.
type memBlobs struct {
	m     map[string][]byte
	opens int
}

func (b *memBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	b.m[key] = data
	return int64(len(data)), err
}

func (b *memBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	b.opens++
	data, ok := b.m[key]
	if !ok {
		return nil, Errorf(KindNotFound, "no blob %s", key)
	}
	data = data[offset:]
	if length >= 0 {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (b *memBlobs) Delete(ctx context.Context, key string) error { delete(b.m, key); return nil }

func (b *memBlobs) List(ctx context.Context, fn func(string, time.Time) error) error { return nil }

// TestSegmentReader reads every range of a three-segment archive through
// Read and through WriteTo, and checks it opens only the segments it needs.
func TestSegmentReader(t *testing.T) {
	archive := []byte(strings.Repeat("abcdefghij", 7)) // 70 bytes in segments of 30, 30, 10
	blobs := &memBlobs{m: map[string][]byte{"s0": archive[:30], "s1": archive[30:60], "s2": archive[60:]}}
	segs := []Segment{{BlobKey: "s0", Size: 30}, {BlobKey: "s1", Size: 30}, {BlobKey: "s2", Size: 10}}
	for start := int64(0); start < 70; start += 7 {
		for end := start; end < 70; end += 11 {
			want := archive[start : end+1]
			for _, how := range []string{"Read", "WriteTo"} {
				blobs.opens = 0
				r := &segmentReader{ctx: context.Background(), blobs: blobs, segs: segs, pos: start, end: end + 1}
				var got []byte
				var err error
				if how == "Read" {
					got, err = io.ReadAll(struct{ io.Reader }{r}) // hide WriteTo
				} else {
					var buf bytes.Buffer
					_, err = r.WriteTo(&buf)
					got = buf.Bytes()
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s [%d, %d]: got %q, %v; want %q", how, start, end, got, err, want)
				}
				if wantOpens := int(end/30 - start/30 + 1); blobs.opens != wantOpens {
					t.Errorf("%s [%d, %d]: opened %d blobs, want %d", how, start, end, blobs.opens, wantOpens)
				}
			}
		}
	}
}

func TestAddMonth(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2026-01-31T10:20:30Z", "2026-02-28T10:20:30Z"},
		{"2028-01-31T10:20:30Z", "2028-02-29T10:20:30Z"},
		{"2026-08-31T00:00:00Z", "2026-09-30T00:00:00Z"},
		{"2026-12-15T23:59:59Z", "2027-01-15T23:59:59Z"},
		{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"},
	} {
		in, _ := time.Parse(time.RFC3339, c.in)
		if got := addMonth(in).Format(time.RFC3339); got != c.want {
			t.Errorf("addMonth(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseRetrievalRange(t *testing.T) {
	const mib = 1 << 20
	size := int64(5*mib + 100)
	for _, c := range []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-1048575", 0, mib - 1, true},
		{"1048576-5242979", mib, size - 1, true},
		{"0-5242979", 0, size - 1, true},
		{"1-1048575", 0, 0, false},         // start not aligned
		{"0-1048576", 0, 0, false},         // end not aligned
		{"0-5242980", 0, 0, false},         // beyond the end
		{"2097152-1048575", 0, 0, false},   // end before start
		{"abc", 0, 0, false},               // not a range
		{"-1-1048575", 0, 0, false},        // negative
		{"1048576-1048575", 0, 0, false},   // empty
		{" 0-1048575", 0, 0, false},        // spaces
		{"0-1048575-2097151", 0, 0, false}, // three numbers
	} {
		start, end, err := parseRetrievalRange(c.in, size)
		if c.ok != (err == nil) || c.ok && (start != c.start || end != c.end) {
			t.Errorf("parseRetrievalRange(%q) = %d, %d, %v; want %d, %d, ok=%v", c.in, start, end, err, c.start, c.end, c.ok)
		}
		if err != nil && KindOf(err) != KindInvalidParameter {
			t.Errorf("parseRetrievalRange(%q): error kind %v, want invalid parameter", c.in, KindOf(err))
		}
	}
}
