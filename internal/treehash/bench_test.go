package treehash

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

var benchSizes = []int{1 << 20, 64 << 20}

const benchWrite = 32 << 10

// BenchmarkHasher measures a full upload: writes of 32 KiB, then the linear
// and tree hashes. Compare with BenchmarkSHA256Linear, the single-pass
// ceiling; above 1 MiB the Hasher runs two SHA-256 passes.
func BenchmarkHasher(b *testing.B) {
	for _, size := range benchSizes {
		data := randomData(1, size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			h := New()
			for b.Loop() {
				h.Reset()
				for off := 0; off < size; off += benchWrite {
					h.Write(data[off:min(off+benchWrite, size)])
				}
				_, _ = h.Linear(), h.TreeHash()
			}
		})
	}
}

// BenchmarkSHA256Linear is plain crypto/sha256 over the same writes: the
// machine's SHA-256 ceiling.
func BenchmarkSHA256Linear(b *testing.B) {
	for _, size := range benchSizes {
		data := randomData(1, size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			d := sha256.New()
			var out [32]byte
			for b.Loop() {
				d.Reset()
				for off := 0; off < size; off += benchWrite {
					d.Write(data[off:min(off+benchWrite, size)])
				}
				d.Sum(out[:0])
			}
		})
	}
}

// BenchmarkSum is the tree hash of an in-memory slice (one pass, leaves only).
func BenchmarkSum(b *testing.B) {
	data := randomData(1, 64<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Sum(data)
	}
}

// BenchmarkReduce combines 4096 leaves, the leaf list of a 4 GiB archive.
func BenchmarkReduce(b *testing.B) {
	leaves := make([]Hash, 4096)
	for i := range leaves {
		leaves[i] = Hash(sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	b.ReportAllocs()
	for b.Loop() {
		Reduce(leaves)
	}
}
