package treehash

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

var _ io.Writer = (*Hasher)(nil)

// checkHasher compares every result of h against the reference for data.
func checkHasher(t *testing.T, label string, h *Hasher, data []byte) {
	t.Helper()
	if got := h.Size(); got != int64(len(data)) {
		t.Errorf("%s: Size = %d, want %d", label, got, len(data))
	}
	if got, want := h.Linear(), Hash(sha256.Sum256(data)); got != want {
		t.Errorf("%s: Linear = %v, want %v", label, got, want)
	}
	ref := refLeaves(data)
	leaves := h.Leaves()
	if len(leaves) != len(ref) {
		t.Errorf("%s: %d leaves, want %d", label, len(leaves), len(ref))
	} else {
		for i := range ref {
			if leaves[i] != Hash(ref[i]) {
				t.Errorf("%s: leaf %d = %v, want %v", label, i, leaves[i], Hash(ref[i]))
			}
		}
	}
	want := Hash(refReduce(ref))
	if got := h.TreeHash(); got != want {
		t.Errorf("%s: TreeHash = %v, want %v", label, got, want)
	}
	if got := Reduce(leaves); got != want {
		t.Errorf("%s: Reduce(Leaves) = %v, want %v", label, got, want)
	}
	if got := Sum(data); got != want {
		t.Errorf("%s: Sum = %v, want %v", label, got, want)
	}
}

func TestHasherWriteSizes(t *testing.T) {
	data := randomData(1, 3*mib+mib/2+3)
	splits := [][]int{
		{1}, {2}, {3}, {63}, {64}, {65}, {1000}, {4095}, {4096}, {32 << 10},
		{mib - 1}, {mib}, {mib + 1}, {2*mib + 3}, {len(data)}, {len(data) + 1},
		{1, mib - 2, 3, 7}, {mib - 1, 2}, {5, 3*mib - 5, 1}, {mib / 2, mib, 1},
	}
	for _, sizes := range splits {
		label := fmt.Sprintf("writes of %v", sizes)
		checkHasher(t, label, writeInSplits(data, sizes), data)
	}
}

func TestHasherRandomWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, n := range []int{0, 1, 64, mib - 1, mib, mib + 1, 2 * mib, 2*mib + 1, 3*mib + 12345} {
		data := randomData(uint64(n), n)
		var sizes []int
		for range 50 {
			sizes = append(sizes, 1+r.IntN(1+r.IntN(2*mib)))
		}
		checkHasher(t, fmt.Sprintf("size %d", n), writeInSplits(data, sizes), data)
	}
}

// TestHasherMidStream checks that Linear, Leaves and TreeHash report the
// bytes written so far and do not disturb later writes.
func TestHasherMidStream(t *testing.T) {
	data := randomData(4, 2*mib+mib/4)
	cuts := []int{0, 1, 100, mib - 1, mib, mib + 1, mib + 64, 2*mib - 1, 2 * mib, 2*mib + 1, len(data)}
	r := rand.New(rand.NewPCG(5, 6))
	for range 15 {
		cuts = append(cuts, r.IntN(len(data)+1))
	}
	slices.Sort(cuts)
	h := New()
	done := 0
	for _, c := range cuts {
		h.Write(data[done:c])
		done = c
		checkHasher(t, fmt.Sprintf("after %d bytes", c), h, data[:c])
	}
}

func TestHasherEmpty(t *testing.T) {
	h := New()
	empty := Hash(sha256.Sum256(nil))
	if got := h.Leaves(); len(got) != 1 || got[0] != empty {
		t.Errorf("Leaves of nothing = %v, want [%v]", got, empty)
	}
	h.Write(nil)
	h.Write([]byte{})
	checkHasher(t, "empty writes", h, nil)
}

func TestHasherLeavesIsACopy(t *testing.T) {
	data := randomData(7, 2*mib+1)
	h := New()
	h.Write(data)
	l := h.Leaves()
	l[0], l[2] = Hash{}, Hash{}
	_ = append(l[:1], Hash{1}) // must not reach into h's slice
	checkHasher(t, "after mutating Leaves", h, data)
}

func TestHasherReset(t *testing.T) {
	h := New()
	h.Write(randomData(8, 3*mib+9))
	h.Reset()
	checkHasher(t, "after Reset", h, nil)
	data := randomData(9, 2*mib+17)
	h.Write(data)
	checkHasher(t, "written after Reset", h, data)
}

func TestHasherWriteDoesNotAllocate(t *testing.T) {
	p := make([]byte, 512)
	// Inside the first leaf, where only the linear state runs.
	h := New()
	if a := testing.AllocsPerRun(100, func() { h.Write(p) }); a != 0 {
		t.Errorf("Write in the first leaf: %v allocations per call", a)
	}
	// Inside a later leaf, where both states run.
	h = New()
	h.Write(make([]byte, mib+1))
	if a := testing.AllocsPerRun(100, func() { h.Write(p) }); a != 0 {
		t.Errorf("Write in the second leaf: %v allocations per call", a)
	}
	// Across many leaf boundaries, the only allocations are the amortised
	// growth of the leaf list.
	h = New()
	big := make([]byte, 32<<10)
	if a := testing.AllocsPerRun(1000, func() { h.Write(big) }); a > 0.05 {
		t.Errorf("Write of 32 KiB: %v allocations per call", a)
	}
}
