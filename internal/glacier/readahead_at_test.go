package glacier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// atBlobs is streamBlobs whose readers of the keys in at also read at
// offsets (BlobReaderAt, like the disk store's large readers), counting
// the reads in flight and the most seen at once.
type atBlobs struct {
	streamBlobs
	at       map[string]bool
	delay    time.Duration
	inFlight *atomic.Int64
	most     *atomic.Int64
	opened   *atomic.Int64 // readers open now
}

type atReader struct {
	countingStream
	b    atBlobs
	data []byte
}

func (r atReader) ReadBlobAt(p []byte, off int64) (int, error) {
	n := r.b.inFlight.Add(1)
	defer r.b.inFlight.Add(-1)
	for m := r.b.most.Load(); n > m && !r.b.most.CompareAndSwap(m, n); m = r.b.most.Load() {
	}
	time.Sleep(r.b.delay)
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	k := copy(p, r.data[off:])
	r.b.read.Add(int64(k))
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (atBlobs) ReadsAt() bool { return true }

func (r atReader) Close() error { r.b.opened.Add(-1); return nil }

func (b atBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := b.streamBlobs.Open(ctx, key, off, n)
	if err != nil || !b.at[key] {
		return rc, err
	}
	data := b.blobs[key][off:]
	if n >= 0 && n < int64(len(data)) {
		data = data[:n]
	}
	b.opened.Add(1)
	return atReader{rc.(countingStream), b, data}, nil
}

// segmentedAt is segmented with the segments in at read at offsets.
func segmentedAt(data []byte, at []int, sizes ...int64) (*Service, Archive, atBlobs) {
	_, a, mb := segmented(data, sizes...)
	b := atBlobs{streamBlobs: mb, at: map[string]bool{}, inFlight: new(atomic.Int64), most: new(atomic.Int64), opened: new(atomic.Int64)}
	for _, i := range at {
		b.at[fmt.Sprintf("seg%d", i)] = true
	}
	return &Service{Blobs: b}, a, b
}

// With a blob reader that reads at offsets, the read-ahead serves exactly
// the asked bytes across segments (those that read at offsets and those
// that do not, boundaries inside MiBs), keeps several reads in flight but
// never more than aheadReadsAt, and closes every reader it opened.
func TestWriteAheadReadsAt(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(21*mib + 777)
	leaves := treehash.Leaves(data)
	size := int64(len(data))
	ranges := [][2]int64{
		{0, size - 1}, {0, 16*mib - 1}, {8 * mib, 16*mib - 1},
		{mib + 3, 19*mib + 11}, {3*mib + 1, size - 1}, {size - 3*mib - 1, size - 2},
	}
	before := runtime.NumGoroutine()
	for _, at := range [][]int{{0, 1, 2, 3}, {0, 2}, {1, 3}} {
		s, a, b := segmentedAt(data, at, 4*mib, 3*mib+5, 8*mib)
		b.delay = time.Millisecond
		for _, rg := range ranges {
			r, err := s.newVerifiedReader(context.Background(), a, leaves, rg[0], rg[1], "")
			if err != nil {
				t.Fatal(err)
			}
			var w recorder
			n, err := r.WriteTo(&w)
			r.Close()
			if err != nil || n != rg[1]-rg[0]+1 {
				t.Fatalf("at %v, range %v: %d bytes, %v", at, rg, n, err)
			}
			if !bytes.Equal(w.got.Bytes(), data[rg[0]:rg[1]+1]) {
				t.Fatalf("at %v, range %v: the bytes served differ from the archive's", at, rg)
			}
			if k := b.opened.Load(); k != 0 {
				t.Fatalf("at %v, range %v: %d blob readers left open", at, rg, k)
			}
		}
		if m := b.most.Load(); m > aheadReadsAt || at[0] == 0 && m < 2 {
			t.Errorf("at %v: at most %d reads in flight, want 2 to %d", at, m, aheadReadsAt)
		}
	}
	noLeak(t, before)
}

// Reading at offsets, damage stops the download exactly before the first
// damaged MiB, whichever MiB a worker finds first; a client gone or a
// missing blob ends it with every goroutine gone and no reader left open;
// and memory stays bounded by aheadDepth MiBs.
func TestWriteAheadReadsAtStops(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(20*mib + 99)
	leaves := treehash.Leaves(data)
	before := runtime.NumGoroutine()
	for _, bad := range [][]int{{5}, {5, 7}, {9, 6}, {1}, {20}} {
		s, a, b := segmentedAt(data, []int{0, 1, 2}, 6*mib, 6*mib)
		first := bad[0]
		for _, m := range bad {
			first = min(first, m)
			off := min(int64(m)*mib+12345, int64(len(data))-1)
			seg := min(int(off/(6*mib)), 2)
			b.blobs[fmt.Sprintf("seg%d", seg)][off-int64(seg)*6*mib] ^= 0x5a
		}
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
		var w recorder
		_, err := r.WriteTo(&w)
		r.Close()
		var de *DamageError
		if !errors.As(err, &de) || !strings.Contains(de.Problem, fmt.Sprintf("offset %d ", int64(first)*mib)) {
			t.Fatalf("damage at %v: err %v, want a DamageError at MiB %d", bad, err, first)
		}
		if !bytes.Equal(w.got.Bytes(), data[:first*mib]) {
			t.Errorf("damage at %v: served %d bytes, want exactly the %d intact ones", bad, w.got.Len(), first*mib)
		}
		if k := b.opened.Load(); k != 0 {
			t.Errorf("damage at %v: %d blob readers left open", bad, k)
		}
	}
	for _, failAt := range []int64{1, mib + 17, 10 * mib, 19 * mib} {
		s, a, b := segmentedAt(data, []int{0, 1, 2}, 7*mib, 7*mib)
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
		w := recorder{failAt: failAt}
		if n, err := r.WriteTo(&w); !errors.Is(err, errGone) || n != failAt {
			t.Fatalf("client gone after %d bytes: wrote %d, err %v", failAt, n, err)
		}
		r.Close()
		if k := b.opened.Load(); k != 0 {
			t.Errorf("client gone after %d bytes: %d blob readers left open", failAt, k)
		}
	}
	s, a, b := segmentedAt(data, []int{0, 1, 2}, 7*mib, 7*mib)
	delete(b.blobs, "seg1")
	r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
	var w recorder
	_, err := r.WriteTo(&w)
	r.Close()
	var de *DamageError
	if !errors.As(err, &de) || w.got.Len() != 7*mib {
		t.Fatalf("missing middle blob: served %d bytes, err %v; want 7 MiB and a DamageError", w.got.Len(), err)
	}
	noLeak(t, before)

	s, a, b = segmentedAt(data, []int{0})
	r, _ = s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
	defer r.Close()
	var most int64
	w = recorder{onWrite: func(written int64) error {
		time.Sleep(2 * time.Millisecond)
		most = max(most, b.read.Load()-written)
		return nil
	}}
	if _, err := r.WriteTo(&w); err != nil || !bytes.Equal(w.got.Bytes(), data) {
		t.Fatalf("slow destination: %v", err)
	}
	if most > aheadDepth*mib || most < 2*mib {
		t.Errorf("%d bytes read ahead of a slow destination, want 2 MiB to %d", most, aheadDepth*mib)
	}
}

// hiddenBlobs hides a store's abilities (a wrapper without
// UnwrapBlobStore).
type hiddenBlobs struct{ BlobStore }

// The read-ahead reads at offsets only for a store that says it may
// (found through InlineBlobs, which keeps inline keys on the normal
// path); behind a wrapper that hides it, or for a store that does not say
// so, it reads the sequential way and opens nothing more.
func TestWriteAheadReadsAtFoundThroughWrappers(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(9*mib + 5)
	leaves := treehash.Leaves(data)
	for _, c := range []struct {
		name string
		wrap func(BlobStore) BlobStore
		at   bool
	}{
		{"bare", func(b BlobStore) BlobStore { return b }, true},
		{"inline blobs", func(b BlobStore) BlobStore { return InlineBlobs(b, nil) }, true},
		{"hidden", func(b BlobStore) BlobStore { return hiddenBlobs{b} }, false},
	} {
		_, a, b := segmentedAt(data, []int{0})
		s := &Service{Blobs: c.wrap(b)}
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
		var w recorder
		if _, err := r.WriteTo(&w); err != nil || !bytes.Equal(w.got.Bytes(), data) {
			t.Fatalf("%s: %v", c.name, err)
		}
		r.Close()
		if got := b.most.Load() > 0; got != c.at {
			t.Errorf("%s: read at offsets %v, want %v", c.name, got, c.at)
		}
	}
}
