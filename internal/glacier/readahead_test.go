package glacier

import (
	"bytes"
	"context"
	"crypto/rand"
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

// streamBlobs is a BlobStore in memory whose readers are plain streams (no
// WriteTo, no ReadAt), like the S3 store's, and count the bytes they hand
// out.
type streamBlobs struct {
	blobs map[string][]byte
	read  *atomic.Int64
}

func (b streamBlobs) Put(context.Context, string, io.Reader) (int64, error) { panic("unused") }
func (b streamBlobs) Delete(context.Context, string) error                  { panic("unused") }
func (b streamBlobs) List(context.Context, func(string, time.Time) error) error {
	panic("unused")
}

type countingStream struct {
	r    io.Reader
	read *atomic.Int64
}

func (c countingStream) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}
func (c countingStream) Close() error { return nil }

func (b streamBlobs) Open(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	data, ok := b.blobs[key]
	if !ok {
		return nil, Errorf(KindNotFound, "blob %s not found", key)
	}
	data = data[off:]
	if n >= 0 && n < int64(len(data)) {
		data = data[:n]
	}
	return countingStream{bytes.NewReader(data), b.read}, nil
}

// segmented stores data as blobs of the given sizes (the last takes the
// rest) and returns the service and the archive.
func segmented(data []byte, sizes ...int64) (*Service, Archive, streamBlobs) {
	mb := streamBlobs{blobs: map[string][]byte{}, read: new(atomic.Int64)}
	a := Archive{ID: "a", Size: int64(len(data))}
	rest := data
	for i := 0; len(rest) > 0; i++ {
		n := int64(len(rest))
		if i < len(sizes) && sizes[i] < n {
			n = sizes[i]
		}
		key := fmt.Sprintf("seg%d", i)
		mb.blobs[key] = bytes.Clone(rest[:n])
		a.Segments = append(a.Segments, Segment{BlobKey: key, Size: n})
		rest = rest[n:]
	}
	return &Service{Blobs: mb}, a, mb
}

// recorder is a destination that records what it was given and can fail
// after a number of bytes (a client that went away) or check, at each
// write, a condition on what was read so far.
type recorder struct {
	got     bytes.Buffer
	failAt  int64 // fail the write that would pass this many bytes; 0: never
	onWrite func(written int64) error
}

var errGone = errors.New("client went away")

func (w *recorder) Write(p []byte) (int, error) {
	if w.onWrite != nil {
		if err := w.onWrite(int64(w.got.Len())); err != nil {
			return 0, err
		}
	}
	if w.failAt > 0 && int64(w.got.Len()+len(p)) > w.failAt {
		k := int(w.failAt) - w.got.Len()
		w.got.Write(p[:k])
		return k, errGone
	}
	return w.got.Write(p)
}

// noLeak fails t when goroutines started since before are still running.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left running (were %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func randomData(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// The read-ahead serves exactly the asked bytes, in order, across
// segments whose boundaries fall inside MiBs, for MiB-aligned,
// tree-hash-aligned and unaligned ranges.
func TestWriteAheadRangesAcrossSegments(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(21*mib + 777)
	s, a, _ := segmented(data, 4*mib, 3*mib+5, 8*mib)
	leaves := treehash.Leaves(data)
	size := int64(len(data))
	ranges := [][2]int64{
		{0, size - 1}, {0, 16*mib - 1}, {8 * mib, 16*mib - 1}, // whole, tree-hash aligned
		{mib + 3, 19*mib + 11}, {7*mib - 1, 7*mib + 5}, {3*mib + 1, size - 1}, {size - 3*mib - 1, size - 2},
	}
	before := runtime.NumGoroutine()
	for _, rg := range ranges {
		r, err := s.newVerifiedReader(context.Background(), a, leaves, rg[0], rg[1], "")
		if err != nil {
			t.Fatal(err)
		}
		var w recorder
		n, err := r.WriteTo(&w)
		r.Close()
		if err != nil || n != rg[1]-rg[0]+1 {
			t.Fatalf("range %v: %d bytes, %v", rg, n, err)
		}
		if !bytes.Equal(w.got.Bytes(), data[rg[0]:rg[1]+1]) {
			t.Fatalf("range %v: the bytes served differ from the archive's", rg)
		}
	}
	noLeak(t, before)
}

// Damage in the middle of the read-ahead window — with a later MiB of the
// same window damaged too, so a hasher may find that one first — stops
// the download exactly before the first damaged MiB: every byte before it
// is served, none of it or after.
func TestWriteAheadStopsBeforeDamagedMiB(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(20*mib + 99)
	leaves := treehash.Leaves(data)
	for _, bad := range [][]int{{5}, {5, 7}, {9, 6}, {1}, {20}} {
		s, a, mb := segmented(data, 6*mib, 6*mib)
		for _, m := range bad {
			off := int64(m)*mib + 12345
			if off >= int64(len(data)) {
				off = int64(len(data)) - 1
			}
			seg, in := int(off/(6*mib)), off%(6*mib)
			if seg > 2 {
				seg, in = 2, off-12*mib
			}
			mb.blobs[fmt.Sprintf("seg%d", seg)][in] ^= 0x5a
		}
		first := bad[0]
		for _, m := range bad {
			first = min(first, m)
		}
		before := runtime.NumGoroutine()
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
		var w recorder
		_, err := r.WriteTo(&w)
		r.Close()
		var de *DamageError
		if !errors.As(err, &de) {
			t.Fatalf("damage at %v: err %v, want a DamageError", bad, err)
		}
		if want := fmt.Sprintf("offset %d ", int64(first)*mib); !strings.Contains(de.Problem, want) {
			t.Errorf("damage at %v: problem %q, want the first damaged MiB (%s)", bad, de.Problem, want)
		}
		if w.got.Len() != first*mib || !bytes.Equal(w.got.Bytes(), data[:first*mib]) {
			t.Errorf("damage at %v: served %d bytes, want exactly the %d intact ones before MiB %d", bad, w.got.Len(), first*mib, first)
		}
		noLeak(t, before)
	}
}

// A destination that fails (the client went away) mid-stream, or a blob
// that is missing mid-archive, ends the download with every goroutine of
// the read-ahead gone.
func TestWriteAheadStopsWithoutLeaks(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(30*mib + 5)
	leaves := treehash.Leaves(data)
	before := runtime.NumGoroutine()
	for _, failAt := range []int64{1, mib + 17, 10 * mib, 29 * mib} {
		s, a, _ := segmented(data, 10*mib, 10*mib)
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
		w := recorder{failAt: failAt}
		n, err := r.WriteTo(&w)
		if !errors.Is(err, errGone) || n != failAt {
			t.Fatalf("client gone after %d bytes: wrote %d, err %v", failAt, n, err)
		}
		// The reader stays failed; Read returns the same error.
		if _, err := r.Read(make([]byte, 10)); !errors.Is(err, errGone) {
			t.Errorf("Read after the failed write: %v", err)
		}
		r.Close()
	}
	noLeak(t, before)

	s, a, mb := segmented(data, 10*mib, 10*mib)
	delete(mb.blobs, "seg1")
	r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
	var w recorder
	_, err := r.WriteTo(&w)
	r.Close()
	var de *DamageError
	if !errors.As(err, &de) || w.got.Len() != 10*mib {
		t.Fatalf("missing middle blob: served %d bytes, err %v; want 10 MiB and a DamageError", w.got.Len(), err)
	}
	noLeak(t, before)
}

// However slowly the destination takes the bytes, the read-ahead holds at
// most aheadDepth MiBs that were read and not yet written: its memory is
// fixed, whatever the archive's size.
func TestWriteAheadBounded(t *testing.T) {
	const mib = treehash.ChunkSize
	data := randomData(40 * mib)
	leaves := treehash.Leaves(data)
	s, a, mb := segmented(data)
	r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, int64(len(data))-1, "")
	defer r.Close()
	var most int64
	w := recorder{onWrite: func(written int64) error {
		time.Sleep(2 * time.Millisecond) // let the reader run ahead as far as it may
		most = max(most, mb.read.Load()-written)
		return nil
	}}
	if _, err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.got.Bytes(), data) {
		t.Fatal("the bytes served differ from the archive's")
	}
	if most > aheadDepth*mib {
		t.Errorf("%d bytes read ahead of the destination, want at most %d", most, aheadDepth*mib)
	}
	if most < 2*mib {
		t.Errorf("only %d bytes read ahead of a slow destination: no read-ahead?", most)
	}
}
