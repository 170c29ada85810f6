package inventory

import (
	"io"
	"runtime"
	"testing"
	"time"
)

func TestAddAllocatesNothing(t *testing.T) {
	s := newSynth()
	w := NewSnapshotWriter(io.Discard)
	i := 0
	allocs := testing.AllocsPerRun(200000, func() {
		if err := w.Add(s.item(i)); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("Add allocates %v times per item; want 0", allocs)
	}
}

// heapSampler is an output sink that records the peak HeapInuse, sampled
// every 4 MiB of output.
type heapSampler struct {
	n, next int64
	peak    uint64
	ms      runtime.MemStats
}

func (h *heapSampler) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.n >= h.next {
		h.next = h.n + 4<<20
		runtime.ReadMemStats(&h.ms)
		h.peak = max(h.peak, h.ms.HeapInuse)
	}
	return len(p), nil
}

// streamed snapshots n synthetic items into a pipe from one goroutine while
// Generate turns the other end into output, and reports the peak heap in
// use and the number of allocations of the whole run.
func streamed(t *testing.T, n int, format Format) (peak, mallocs uint64) {
	t.Helper()
	s := newSynth()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	pr, pw := io.Pipe()
	go func() {
		w := NewSnapshotWriter(pw)
		for i := range n {
			if err := w.Add(s.item(i)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close())
	}()
	sink := &heapSampler{}
	written, next, err := Generate(pr, sink, format, testARN, time.Now(), Filter{})
	if err != nil || written != int64(n) || next != "" {
		t.Fatalf("Generate = %d, %q, %v; want %d items", written, next, err, n)
	}
	runtime.ReadMemStats(&ms)
	return sink.peak, ms.Mallocs - before
}

// TestMemoryDoesNotGrowWithItemCount streams a small and a five times
// larger vault through both passes. Neither the peak heap nor the number of
// allocations may grow with the count: both passes reuse their buffers.
func TestMemoryDoesNotGrowWithItemCount(t *testing.T) {
	small, large := 200_000, 1_000_000
	if testing.Short() {
		small, large = 20_000, 100_000
	}
	for _, format := range []Format{JSON, CSV} {
		peakS, mallocsS := streamed(t, small, format)
		peakL, mallocsL := streamed(t, large, format)
		t.Logf("%s: %d items: peak heap %.1f MiB, %d allocations; %d items: %.1f MiB, %d allocations",
			format, small, float64(peakS)/(1<<20), mallocsS, large, float64(peakL)/(1<<20), mallocsL)
		if peakL > peakS+4<<20 {
			t.Errorf("%s: peak heap in use grew from %d to %d bytes with %d times the items", format, peakS, peakL, large/small)
		}
		// Some tens vary with the runtime (GC cycles, pipe wake-ups). One
		// allocation per 64 KiB frame would add about 2,700 here, one per
		// item 800,000.
		if mallocsL > mallocsS+1000 {
			t.Errorf("%s: %d allocations for %d items, %d for %d; want no growth", format, mallocsL, large, mallocsS, small)
		}
	}
}
