package inventory

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// BenchmarkSnapshotAndGenerate1M runs both passes over a vault of
// 1,000,000 synthetic items (138-byte ids, descriptions up to 40 bytes) on
// one goroutine: the snapshot into a reused buffer, then the output to
// io.Discard. allocs/op is per million items.
func BenchmarkSnapshotAndGenerate1M(b *testing.B) {
	const n = 1_000_000
	s := newSynth()
	var snap bytes.Buffer
	snap.Grow(n * 200) // about 198 bytes an item; growing it is not the subject
	for _, format := range []Format{JSON, CSV} {
		b.Run(string(format), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				snap.Reset()
				w := NewSnapshotWriter(&snap)
				for i := range n {
					if err := w.Add(s.item(i)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				written, _, err := Generate(bytes.NewReader(snap.Bytes()), io.Discard, format, testARN, testInventoryDate, Filter{})
				if err != nil || written != n {
					b.Fatalf("Generate = %d, %v", written, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
			b.ReportMetric(float64(snap.Len())/n, "snapshot-B/item")
		})
	}
}

// benchSnapshot returns a snapshot of n synthetic items.
func benchSnapshot(b *testing.B, n int) []byte {
	s := newSynth()
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	for i := range n {
		if err := w.Add(s.item(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// The benchmarks below are per item (one op is one item).

func BenchmarkAdd(b *testing.B) {
	s := newSynth()
	w := NewSnapshotWriter(io.Discard)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := w.Add(s.item(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkReadSnapshot(b *testing.B) {
	const n = 100_000
	snap := benchSnapshot(b, n)
	b.ReportAllocs()
	for b.Loop() {
		if err := ReadSnapshot(bytes.NewReader(snap), func(Item) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

func BenchmarkGenerate(b *testing.B) {
	const n = 100_000
	snap := benchSnapshot(b, n)
	for _, format := range []Format{JSON, CSV} {
		b.Run(string(format), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Generate(bytes.NewReader(snap), io.Discard, format, testARN, testInventoryDate, Filter{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
		})
	}
}

// BenchmarkCreationDate compares appendCreationDate with the time package
// doing the same.
func BenchmarkCreationDate(b *testing.B) {
	ms := base.UnixMilli()
	buf := make([]byte, 0, 64)
	b.Run("civil", func(b *testing.B) {
		for b.Loop() {
			buf = appendCreationDate(buf[:0], ms)
			ms += 37
		}
	})
	b.Run("time", func(b *testing.B) {
		for b.Loop() {
			buf = time.UnixMilli(ms).UTC().AppendFormat(buf[:0], creationDateLayout)
			ms += 37
		}
	})
}
