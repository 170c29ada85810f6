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

// TestCheckRetrievalRange: a parsed range must lie within the archive and
// be MiB-aligned (the wire layer checks its syntax).
func TestCheckRetrievalRange(t *testing.T) {
	const mib = 1 << 20
	size := int64(5*mib + 100)
	for _, c := range []struct {
		r  RetrievalRange
		ok bool
	}{
		{RetrievalRange{0, mib - 1}, true},
		{RetrievalRange{mib, size - 1}, true},
		{RetrievalRange{0, size - 1}, true},
		{RetrievalRange{1, mib - 1}, false},  // start not aligned
		{RetrievalRange{0, mib}, false},      // end not aligned
		{RetrievalRange{0, size}, false},     // beyond the end
		{RetrievalRange{0, 2*mib - 1}, true}, // two MiB
	} {
		err := checkRetrievalRange(c.r, size)
		if c.ok != (err == nil) {
			t.Errorf("checkRetrievalRange(%v) = %v; want ok=%v", c.r, err, c.ok)
		}
		if err != nil && KindOf(err) != KindInvalidParameter {
			t.Errorf("checkRetrievalRange(%v): error kind %v, want invalid parameter", c.r, KindOf(err))
		}
	}
}
