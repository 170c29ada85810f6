package treehash

import (
	"crypto/sha256"
	"fmt"
	"math"
	"testing"
)

func TestAlignmentTable(t *testing.T) {
	const (
		m      = int64(mib)
		n5half = 5*m + m/2
		tib    = int64(1) << 40
	)
	for _, tc := range []struct {
		start, end, size int64
		mib, tree        bool
		why              string
	}{
		{0, 7*m - 1, 7 * m, true, true, "whole archive"},
		{0, m - 1, 7 * m, true, true, "first leaf"},
		{m, 2*m - 1, 7 * m, true, true, "second leaf"},
		{6 * m, 7*m - 1, 7 * m, true, true, "last leaf"},
		{0, 2*m - 1, 7 * m, true, true, "level-1 node"},
		{4 * m, 6*m - 1, 7 * m, true, true, "level-1 node (1, 2)"},
		{0, 4*m - 1, 7 * m, true, true, "level-2 node"},
		{4 * m, 7*m - 1, 7 * m, true, true, "truncated last level-2 node (§1.2 vector)"},
		{2 * m, 6*m - 1, 7 * m, true, false, "4 MiB not on a 4 MiB boundary (§1.2 vector)"},
		{m, 3*m - 1, 7 * m, true, false, "2 MiB not on a 2 MiB boundary"},
		{0, 3*m - 1, 7 * m, true, false, "3 MiB from 0 is not a node"},
		{2 * m, 7*m - 1, 7 * m, true, false, "to the end, but from a 2 MiB boundary with 5 MiB left"},
		{6 * m, 6 * m, 7 * m, false, false, "one byte mid-archive"},
		{1, m - 1, 7 * m, false, false, "start off MiB"},
		{0, m, 7 * m, false, false, "end one past a MiB"},
		{0, m - 2, 7 * m, false, false, "end one short of a MiB"},
		{0, 7 * m, 7 * m, false, false, "end past the archive"},
		{3 * m, 2 * m, 7 * m, false, false, "start after end"},
		{-m, m - 1, 7 * m, false, false, "negative start"},

		{0, n5half - 1, n5half, true, true, "whole 5.5 MiB"},
		{4 * m, n5half - 1, n5half, true, true, "truncated 1.5 MiB node at the end"},
		{5 * m, n5half - 1, n5half, true, true, "short last leaf"},
		{4 * m, 5*m - 1, n5half, true, true, "full leaf 4"},
		{2 * m, n5half - 1, n5half, true, false, "3.5 MiB to the end from 2 MiB"},
		{5 * m, 5*m + 100, n5half, false, false, "ends inside the short last leaf"},

		{0, m, m + 1, true, true, "whole 1 MiB + 1"},
		{m, m, m + 1, true, true, "one-byte last leaf"},
		{0, 0, 1, true, true, "one-byte archive"},
		{0, 2, 3, true, true, "abc"},
		{2 * m, 3*m - 1, 3 * m, true, true, "last full leaf of 3 MiB"},
		{m, 3*m - 1, 3 * m, true, false, "last 2 MiB of 3 MiB"},
		{8 * m, 9*m - 1, 9 * m, true, true, "leaf 8 of 9"},
		{0, 8*m - 1, 9 * m, true, true, "first 8 of 9"},
		{4 * m, 9*m - 1, 9 * m, true, false, "last 5 of 9"},

		{0, -1, 0, false, false, "empty archive has no ranges"},
		{0, 0, 0, false, false, "byte 0 of an empty archive"},

		{0, 40*tib - 1, 40 * tib, true, true, "whole 40 TiB"},
		{32 * tib, 40*tib - 1, 40 * tib, true, true, "8 TiB node at the end of 40 TiB"},
		{16 * tib, 40*tib - 1, 40 * tib, true, false, "24 TiB at the end of 40 TiB"},
		{0, math.MaxInt64 - 1, math.MaxInt64, true, true, "whole of the largest archive"},
		{0, 1<<62 - 1, math.MaxInt64, true, true, "2^62-byte node"},
		{1 << 62, math.MaxInt64 - 1, math.MaxInt64, true, true, "truncated 2^62 node at the end"},
		{m, math.MaxInt64 - 1, math.MaxInt64, true, false, "all but the first MiB of the largest archive"},
	} {
		if got := IsMiBAligned(tc.start, tc.end, tc.size); got != tc.mib {
			t.Errorf("%s: IsMiBAligned(%d, %d, %d) = %v, want %v", tc.why, tc.start, tc.end, tc.size, got, tc.mib)
		}
		if got := IsTreeHashAligned(tc.start, tc.end, tc.size); got != tc.tree {
			t.Errorf("%s: IsTreeHashAligned(%d, %d, %d) = %v, want %v", tc.why, tc.start, tc.end, tc.size, got, tc.tree)
		}
		if got := specAligned(tc.start, tc.end, tc.size); got != tc.tree {
			t.Errorf("%s: the pseudocode of §1.3 says %v, want %v", tc.why, got, tc.tree)
		}
	}
}

// specAligned is the pseudocode of §1.3 transcribed, with the range checks
// the pseudocode leaves implicit.
func specAligned(s, e, n int64) bool {
	if s < 0 || e < s || e >= n {
		return false
	}
	if s%mib != 0 {
		return false
	}
	L := e + 1 - s
	for i := 0; i < 63; i++ {
		B := int64(mib) << i
		if B <= 0 { // overflow: only the whole-archive case remains
			return s == 0 && e == n-1
		}
		if s%B != 0 {
			return false
		}
		if L == B {
			return true
		}
		if e == n-1 && L < B {
			return true
		}
		if L < B {
			return false
		}
	}
	return false
}

// archiveSizes are archive sizes around every MiB multiple up to 17 MiB.
func archiveSizes() []int64 {
	var sizes []int64
	for k := int64(0); k <= 17; k++ {
		for _, n := range []int64{k*mib - 1, k * mib, k*mib + 1, k*mib + mib/2} {
			if n > 0 {
				sizes = append(sizes, n)
			}
		}
	}
	return sizes
}

// mibAlignedRanges lists every MiB-aligned inclusive range of an archive of
// size n.
func mibAlignedRanges(n int64) [][2]int64 {
	var out [][2]int64
	for s := int64(0); s < n; s += mib {
		for e := s + mib - 1; ; e += mib {
			if e >= n-1 {
				out = append(out, [2]int64{s, n - 1})
				break
			}
			out = append(out, [2]int64{s, e})
		}
	}
	return out
}

// TestTreeNodesMatchFormula checks the node ranges of §1.1 (consequences)
// on trees built by merging children.
func TestTreeNodesMatchFormula(t *testing.T) {
	for _, n := range archiveSizes() {
		leaves := make([]Hash, LeafCount(n))
		for _, nd := range refNodes(leaves, n) {
			b := int64(mib) << nd.level
			if want := int64(nd.index) * b; nd.start != want {
				t.Errorf("size %d: node (%d, %d) starts at %d, want %d", n, nd.level, nd.index, nd.start, want)
			}
			if want := min(int64(nd.index+1)*b, n); nd.end != want {
				t.Errorf("size %d: node (%d, %d) ends at %d, want %d", n, nd.level, nd.index, nd.end, want)
			}
		}
	}
}

// TestTreeHashAlignedIsANode checks the definition of §1.3 directly: a
// MiB-aligned range is tree-hash aligned exactly when its tree hash is the
// hash of a node of the whole archive's tree. Leaf hashes are distinct
// pseudo-random values, so equal hashes mean equal subtrees.
func TestTreeHashAlignedIsANode(t *testing.T) {
	for _, n := range archiveSizes() {
		leaves := make([]Hash, LeafCount(n))
		for i := range leaves {
			leaves[i] = Hash(sha256.Sum256(fmt.Appendf(nil, "leaf %d of %d", i, n)))
		}
		nodes := refNodes(leaves, n)
		byHash := map[Hash]node{}
		extents := map[[2]int64]bool{}
		for _, nd := range nodes {
			byHash[nd.hash] = nd
			extents[[2]int64{nd.start, nd.end}] = true
		}
		for _, r := range mibAlignedRanges(n) {
			s, e := r[0], r[1]
			if !IsMiBAligned(s, e, n) {
				t.Errorf("IsMiBAligned(%d, %d, %d) = false for a MiB-aligned range", s, e, n)
			}
			h, ok := RangeTreeHash(leaves, s, e, n)
			if !ok {
				t.Fatalf("RangeTreeHash(%d, %d, %d) not ok", s, e, n)
			}
			nd, isNode := byHash[h]
			if isNode && (nd.start != s || nd.end != e+1) {
				t.Fatalf("size %d: range [%d, %d] hashes like node [%d, %d)", n, s, e, nd.start, nd.end)
			}
			if got := IsTreeHashAligned(s, e, n); got != isNode {
				t.Errorf("IsTreeHashAligned(%d, %d, %d) = %v, but being a node is %v", s, e, n, got, isNode)
			}
			if got := specAligned(s, e, n); got != isNode {
				t.Errorf("§1.3 pseudocode (%d, %d, %d) = %v, but being a node is %v", s, e, n, got, isNode)
			}
			// Ranges one byte off are aligned only if they are a node
			// themselves (e.g. dropping a one-byte last leaf).
			for _, d := range [][2]int64{{1, 0}, {0, -1}, {0, 1}, {-1, 0}} {
				s2, e2 := s+d[0], e+d[1]
				if got, want := IsTreeHashAligned(s2, e2, n), extents[[2]int64{s2, e2 + 1}]; got != want {
					t.Errorf("IsTreeHashAligned(%d, %d, %d) = %v, but being a node's range is %v", s2, e2, n, got, want)
				}
				if IsTreeHashAligned(s2, e2, n) && !IsMiBAligned(s2, e2, n) {
					t.Errorf("range [%d, %d] of %d bytes tree-hash aligned but not MiB aligned", s2, e2, n)
				}
			}
		}
		// Every node is aligned.
		for _, nd := range nodes {
			if !IsTreeHashAligned(nd.start, nd.end-1, n) {
				t.Errorf("node (%d, %d) = [%d, %d) of %d bytes not reported aligned", nd.level, nd.index, nd.start, nd.end, n)
			}
		}
	}
}

// TestRangeHashIsSliceSum checks, on real bytes, that the tree hash of every
// MiB-aligned range computed from the leaves equals Sum of the slice, and
// that the slice's tree hash is a node hash of the archive exactly when the
// range is tree-hash aligned.
func TestRangeHashIsSliceSum(t *testing.T) {
	for _, n := range []int64{1, mib, mib + 1, 3 * mib, 5*mib + 3, 7 * mib} {
		data := randomData(uint64(n), int(n))
		leaves := Leaves(data)
		nodeHashes := map[Hash]bool{}
		for _, nd := range refNodes(leaves, n) {
			nodeHashes[nd.hash] = true
		}
		for _, r := range mibAlignedRanges(n) {
			s, e := r[0], r[1]
			want := Sum(data[s : e+1])
			if got, ok := RangeTreeHash(leaves, s, e, n); !ok || got != want {
				t.Errorf("size %d: RangeTreeHash(%d, %d) = %v, %v, want Sum of the slice %v", n, s, e, got, ok, want)
			}
			if got := IsTreeHashAligned(s, e, n); got != nodeHashes[want] {
				t.Errorf("size %d: IsTreeHashAligned(%d, %d) = %v, slice hash is a node hash: %v", n, s, e, got, nodeHashes[want])
			}
		}
	}
}
