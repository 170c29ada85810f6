package treehash

import (
	"crypto/sha256"
	"hash"
)

// Hasher is an io.Writer that computes, in a single pass over the bytes, the
// linear SHA-256 of everything written and the SHA-256 of each 1 MiB leaf,
// from which it derives the tree hash. It feeds each written slice directly
// into the hash states and keeps no copy of the data: its memory is two
// SHA-256 states plus 32 bytes per completed leaf.
//
// The zero Hasher is not usable; create one with [New].
type Hasher struct {
	linear hash.Hash // all bytes written; also the first leaf while size < ChunkSize
	leaf   hash.Hash // the current leaf from the second one on
	size   int64
	leaves []Hash // completed leaves
}

// New returns a Hasher that has seen no bytes.
func New() *Hasher {
	return &Hasher{linear: sha256.New(), leaf: sha256.New()}
}

// Write hashes p. It never fails and never returns a short count. It does
// not retain p and does not allocate, except to grow the leaf list once per
// completed MiB.
func (h *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	if h.size < ChunkSize {
		// First leaf: the linear state is the leaf state (see the package comment).
		k := min(int64(len(p)), ChunkSize-h.size)
		h.linear.Write(p[:k])
		h.size += k
		p = p[k:]
		if h.size < ChunkSize {
			return n, nil
		}
		h.appendLeaf(h.linear)
	}
	// Both states take each piece while it is still in cache; a piece ends
	// at the end of p or of the current leaf.
	for len(p) > 0 {
		k := min(int64(len(p)), ChunkSize-h.size%ChunkSize)
		h.linear.Write(p[:k])
		h.leaf.Write(p[:k])
		h.size += k
		p = p[k:]
		if h.size%ChunkSize == 0 {
			h.appendLeaf(h.leaf)
			h.leaf.Reset()
		}
	}
	return n, nil
}

// appendLeaf appends the digest of d to the leaf list, writing it straight
// into the list's storage so that no temporary escapes to the heap.
func (h *Hasher) appendLeaf(d hash.Hash) {
	h.leaves = append(h.leaves, Hash{})
	d.Sum(h.leaves[len(h.leaves)-1][:0])
}

// digest returns the digest of the bytes written to d so far without
// disturbing d: Sum finalises a copy of the state.
func digest(d hash.Hash) Hash {
	var out Hash
	d.Sum(out[:0])
	return out
}

// Size returns the number of bytes written since New or the last Reset.
func (h *Hasher) Size() int64 {
	return h.size
}

// Linear returns the plain SHA-256 of all bytes written so far. Writing may
// continue afterwards.
func (h *Hasher) Linear() Hash {
	return digest(h.linear)
}

// partial reports the digest of the unfinished last leaf, if there is one.
// Zero bytes count as one empty, unfinished leaf (§1.1 step 1).
func (h *Hasher) partial() (Hash, bool) {
	switch {
	case h.size < ChunkSize:
		return digest(h.linear), true
	case h.size%ChunkSize != 0:
		return digest(h.leaf), true
	}
	return Hash{}, false
}

// Leaves returns a fresh copy of the leaf hashes of all bytes written so
// far, the unfinished last leaf included. For zero bytes it returns exactly
// one leaf, SHA-256 of the empty string. Writing may continue afterwards.
func (h *Hasher) Leaves() []Hash {
	out := make([]Hash, len(h.leaves), len(h.leaves)+1)
	copy(out, h.leaves)
	if p, ok := h.partial(); ok {
		out = append(out, p)
	}
	return out
}

// TreeHash returns the tree hash of all bytes written so far, equal to
// Reduce(h.Leaves()). Writing may continue afterwards.
func (h *Hasher) TreeHash() Hash {
	var r reducer
	for _, l := range h.leaves {
		r.push(l)
	}
	if p, ok := h.partial(); ok {
		r.push(p)
	}
	return r.sum()
}

// Reset returns h to the state of a new Hasher, keeping its allocations.
func (h *Hasher) Reset() {
	h.linear.Reset()
	h.leaf.Reset()
	h.size = 0
	h.leaves = h.leaves[:0]
}
