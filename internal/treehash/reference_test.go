package treehash

import (
	"crypto/sha256"
	"math/rand/v2"
)

// This file holds a deliberately naive reference implementation of §1.1,
// written as literally as possible, for the tests and the fuzz test to
// compare the package against.

const mib = ChunkSize

// refLeaves cuts data into 1 MiB chunks and hashes each; zero bytes give
// one leaf, SHA-256 of "" (§1.1 step 1).
func refLeaves(data []byte) [][32]byte {
	var out [][32]byte
	for off := 0; off < len(data); off += mib {
		end := min(off+mib, len(data))
		out = append(out, sha256.Sum256(data[off:end]))
	}
	if len(out) == 0 {
		out = append(out, sha256.Sum256(nil))
	}
	return out
}

// refReduce applies §1.1 steps 2–3 level by level, recursively: pair left
// to right, promote an odd last element unchanged, repeat.
func refReduce(level [][32]byte) [32]byte {
	if len(level) == 1 {
		return level[0]
	}
	var next [][32]byte
	for i := 0; i < len(level); i += 2 {
		if i+1 == len(level) {
			next = append(next, level[i]) // promoted, not re-hashed
			continue
		}
		cat := append(append([]byte{}, level[i][:]...), level[i+1][:]...)
		next = append(next, sha256.Sum256(cat))
	}
	return refReduce(next)
}

// refTreeHash is the reference tree hash of data.
func refTreeHash(data []byte) [32]byte {
	return refReduce(refLeaves(data))
}

// node is one node of an archive's tree with the byte range it covers,
// [start, end) exclusive, found by merging its children's ranges rather
// than by the formula of §1.1, so that the tests check the formula too.
type node struct {
	level      int
	index      int
	start, end int64
	hash       Hash
}

// refNodes enumerates every node of the tree over leaves for an archive of
// size bytes, level by level as §1.1 builds it. A promoted node appears once
// per level it is promoted through, with the same range and hash.
func refNodes(leaves []Hash, size int64) []node {
	var level []node
	for j, l := range leaves {
		level = append(level, node{0, j, int64(j) * mib, min(int64(j+1)*mib, size), l})
	}
	all := append([]node{}, level...)
	for i := 1; len(level) > 1; i++ {
		var next []node
		for j := 0; j < len(level); j += 2 {
			if j+1 == len(level) {
				n := level[j]
				n.level, n.index = i, j/2
				next = append(next, n)
				continue
			}
			a, b := level[j], level[j+1]
			next = append(next, node{i, j / 2, a.start, b.end, combine(a.hash, b.hash)})
		}
		all = append(all, next...)
		level = next
	}
	return all
}

// patternData returns n bytes with byte i = i mod 251, the 7 MiB vector of §1.2.
func patternData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// randomData returns n pseudo-random bytes determined by seed.
func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x7265656861736821))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < n; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// writeInSplits writes data to a new Hasher in pieces whose sizes cycle
// through sizes (every size at least 1) and returns the Hasher.
func writeInSplits(data []byte, sizes []int) *Hasher {
	h := New()
	for i := 0; len(data) > 0; i++ {
		k := min(sizes[i%len(sizes)], len(data))
		if n, err := h.Write(data[:k]); n != k || err != nil {
			panic("Hasher.Write failed")
		}
		data = data[k:]
	}
	return h
}
