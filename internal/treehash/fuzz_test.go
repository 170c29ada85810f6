package treehash

import (
	"math"
	"testing"
)

// fuzzLength picks the payload length for FuzzTreeHash from sel, so that
// the fuzzer reaches the leaf boundaries without having to grow its input
// to megabytes: the low two bits choose a mode and the rest a length.
func fuzzLength(sel uint32, raw int) (n int, useRaw bool) {
	const maxLen = 3*mib + mib/2
	v := int(sel >> 2)
	switch sel % 4 {
	case 0:
		return raw, true // the fuzzer's own bytes
	case 1:
		return v % 4097, false // small
	case 2:
		k, delta := v%4, (v>>2)%401-200 // near 0, 1, 2 or 3 MiB
		return max(0, k*mib+delta), false
	default:
		return v % (maxLen + 1), false // anywhere up to 3.5 MiB
	}
}

// fuzzSplits turns bytes into write sizes from 1 byte to about 4 MiB,
// dense at the small end.
func fuzzSplits(b []byte) []int {
	if len(b) == 0 {
		return []int{math.MaxInt32}
	}
	sizes := make([]int, len(b))
	for i, x := range b {
		c := int(x)
		sizes[i] = 1 + c*c*c/4
	}
	return sizes
}

// FuzzTreeHash compares Hasher, Sum and Leaves against the naive reference
// implementation for arbitrary payloads and write splits, and checks the
// Hasher's mid-stream results after the first half of the writes.
func FuzzTreeHash(f *testing.F) {
	f.Add([]byte("abc"), uint64(1), uint32(0), []byte{1})
	f.Add([]byte{}, uint64(2), uint32(0), []byte{})
	f.Add([]byte{}, uint64(3), uint32(1|100<<2), []byte{2, 3})
	for k := range 4 {
		for _, d := range []int{0, 199, 200, 201, 400} { // delta = d - 200
			f.Add([]byte{}, uint64(k), uint32(2|(k|d<<2)<<2), []byte{161, 7, 255})
		}
	}
	f.Add([]byte{}, uint64(4), uint32(3|(3*mib+mib/2)<<2), []byte{64, 101})
	f.Add([]byte{}, uint64(5), uint32(3|(mib+1)<<2), []byte{160, 161, 1})
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64, sel uint32, splitBytes []byte) {
		n, useRaw := fuzzLength(sel, len(raw))
		data := raw
		if !useRaw {
			data = randomData(seed, n)
		}
		sizes := fuzzSplits(splitBytes)

		ref := refTreeHash(data)
		if got := Sum(data); got != Hash(ref) {
			t.Fatalf("Sum of %d bytes = %v, want %v", len(data), got, Hash(ref))
		}
		if got := Reduce(Leaves(data)); got != Hash(ref) {
			t.Fatalf("Reduce(Leaves) of %d bytes = %v, want %v", len(data), got, Hash(ref))
		}

		h := New()
		done, half := 0, (len(sizes)+1)/2
		for i := 0; done < len(data); i++ {
			if i == half {
				checkHasher(t, "mid-stream", h, data[:done])
			}
			k := min(sizes[i%len(sizes)], len(data)-done)
			h.Write(data[done : done+k])
			done += k
		}
		checkHasher(t, "final", h, data)
	})
}

// FuzzAlignment checks IsTreeHashAligned against the pseudocode of §1.3 and
// the rule that every tree-hash-aligned range is MiB aligned, for arbitrary
// ranges including huge and negative ones.
func FuzzAlignment(f *testing.F) {
	f.Add(int64(0), int64(mib-1), int64(mib))
	f.Add(int64(4*mib), int64(7*mib-1), int64(7*mib))
	f.Add(int64(2*mib), int64(6*mib-1), int64(7*mib))
	f.Add(int64(1<<62), int64(math.MaxInt64-1), int64(math.MaxInt64))
	f.Add(int64(-1), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, s, e, n int64) {
		// Also try the fuzzer's numbers rounded to MiB, where alignment is likely.
		for _, r := range [][3]int64{{s, e, n}, {s &^ (mib - 1), e | (mib - 1), n}, {s &^ (mib - 1), n - 1, n}} {
			got := IsTreeHashAligned(r[0], r[1], r[2])
			if want := specAligned(r[0], r[1], r[2]); got != want {
				t.Fatalf("IsTreeHashAligned(%d, %d, %d) = %v, §1.3 pseudocode says %v", r[0], r[1], r[2], got, want)
			}
			if got && !IsMiBAligned(r[0], r[1], r[2]) {
				t.Fatalf("(%d, %d, %d) tree-hash aligned but not MiB aligned", r[0], r[1], r[2])
			}
		}
	})
}
