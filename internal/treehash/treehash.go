// Package treehash computes the SHA-256 tree hash of Amazon Glacier
// (data-plane spec §1) and does the leaf and range arithmetic built on it.
//
// The package is a pure core: it uses only the standard library, reads no
// files and opens no connections. Everything it needs arrives as arguments.
//
// Decisions:
//
//   - One pass, no copy. [Hasher] is an io.Writer that feeds each written slice
//     straight into two SHA-256 states, one over the whole stream (the linear
//     hash that x-amz-content-sha256 carries) and one over the current 1 MiB
//     leaf, splitting a write that straddles a leaf boundary. It keeps the
//     32-byte leaf digests and nothing else, so an upload of any size is hashed
//     in constant memory plus 32 bytes per MiB.
//   - The first leaf is free. Until the first MiB is complete, the linear
//     state and the first leaf's state have seen exactly the same bytes from
//     the same initial state, so the Hasher runs only the linear state and
//     takes the first leaf's digest from it. Archives of at most 1 MiB, the
//     common case, therefore cost one SHA-256 pass instead of two.
//   - Digests of unfinished states are taken with hash.Hash.Sum, which
//     finalises a copy of the state and leaves the original untouched; that is
//     the cheapest correct clone (no marshalling), so [Hasher.Linear],
//     [Hasher.Leaves] and [Hasher.TreeHash] may be called mid-stream.
//   - [Reduce] is specified (§1.1 steps 2–3) as level-by-level pairing with
//     the odd element promoted unchanged. That tree is the same as splitting
//     the leaves at the largest power of two below their count, so Reduce
//     folds the leaves through a binary-counter stack of at most 64 digests:
//     no allocation, and the pairing order is exactly the spec's. The tests
//     check it against a literal level-by-level implementation.
//   - The tree hash of zero bytes is SHA-256 of the empty string (one empty
//     leaf, §1.1 step 1), and so is Reduce of an empty list, so that
//     Reduce(Leaves(nil)) and Reduce(nil) agree instead of panicking.
//   - Ranges are inclusive [start, end] in archive offsets, as in
//     RetrievalByteRange. [IsMiBAligned] and [IsTreeHashAligned] follow §1.3;
//     [RangeTreeHash] serves the hash of a MiB-aligned range from stored leaf
//     hashes without reading the bytes (§5.5–5.6).
//   - Leaf lists are stored as one blob: the 32-byte digests concatenated in
//     order ([EncodeLeaves], [DecodeLeaves]); no header, no version, since the
//     length alone determines the count.
//
// Values of type Hasher are not safe for concurrent use.
package treehash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ChunkSize is the size of a tree-hash leaf: 1 MiB (the M of §1.1).
const ChunkSize = 1 << 20

// hashSize is the length in bytes of a Hash.
const hashSize = sha256.Size

// Hash is a SHA-256 digest: a linear payload hash, a leaf hash or a tree hash.
type Hash [hashSize]byte

// emptyHash is SHA-256 of the empty string, the tree hash of zero bytes.
var emptyHash = Hash(sha256.Sum256(nil))

// ErrInvalidHash is wrapped by the errors of [ParseHex] and [DecodeLeaves].
var ErrInvalidHash = errors.New("treehash: invalid hash")

// String returns h as 64 lowercase hexadecimal digits, the wire form (§1.1 step 4).
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}

// ParseHex parses a hash written as exactly 64 hexadecimal digits in either
// case. Any other input returns an error wrapping [ErrInvalidHash].
func ParseHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*hashSize {
		return Hash{}, fmt.Errorf("%w: want %d hex digits, got %d characters", ErrInvalidHash, 2*hashSize, len(s))
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := fromHexChar(s[i])
		lo, ok2 := fromHexChar(s[i+1])
		if !ok1 || !ok2 {
			return Hash{}, fmt.Errorf("%w: not a hex digit at offset %d", ErrInvalidHash, i+boolInt(ok1))
		}
		h[i/2] = hi<<4 | lo
	}
	return h, nil
}

func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// combine returns SHA-256(a ‖ b), the parent of two nodes (§1.1 step 2).
func combine(a, b Hash) Hash {
	var buf [2 * hashSize]byte
	copy(buf[:hashSize], a[:])
	copy(buf[hashSize:], b[:])
	return sha256.Sum256(buf[:])
}

// reducer folds a sequence of leaf hashes into their tree hash in O(log n)
// space. stack holds the roots of complete subtrees of strictly decreasing
// size; n counts the leaves pushed so far.
type reducer struct {
	stack [64]Hash
	top   int
	n     uint64
}

// push adds the next leaf and merges equal-sized subtrees, like carrying in
// a binary counter: after the k-th leaf, the subtrees merged are exactly the
// pairs that the level-by-level walk of §1.1 forms.
func (r *reducer) push(h Hash) {
	r.stack[r.top] = h
	r.top++
	r.n++
	for c := r.n; c&1 == 0; c >>= 1 {
		r.top--
		r.stack[r.top-1] = combine(r.stack[r.top-1], r.stack[r.top])
	}
}

// sum returns the tree hash of the leaves pushed so far. The leftover
// subtrees are combined right to left, which is where promotion of the odd
// node puts them. It does not disturb r.
func (r *reducer) sum() Hash {
	if r.top == 0 {
		return emptyHash
	}
	acc := r.stack[r.top-1]
	for i := r.top - 2; i >= 0; i-- {
		acc = combine(r.stack[i], acc)
	}
	return acc
}

// Reduce combines a list of hashes into one by steps 2–3 of §1.1: pairs are
// hashed left to right, an odd last element is promoted unchanged, and this
// repeats until one hash remains. Given leaf hashes it returns the tree hash;
// given the tree hashes of consecutive 2^k-MiB parts it returns the tree hash
// of the whole (§1.1, consequences). Reduce of one hash is that hash; Reduce
// of an empty list is SHA-256 of the empty string, the tree hash of zero
// bytes. Reduce does not allocate.
func Reduce(hashes []Hash) Hash {
	var r reducer
	for _, h := range hashes {
		r.push(h)
	}
	return r.sum()
}

// Sum returns the tree hash of data. It does not allocate.
func Sum(data []byte) Hash {
	if len(data) <= ChunkSize {
		return sha256.Sum256(data) // one leaf: the tree hash is the leaf hash
	}
	var r reducer
	for len(data) > 0 {
		k := min(len(data), ChunkSize)
		r.push(sha256.Sum256(data[:k]))
		data = data[k:]
	}
	return r.sum()
}

// Leaves returns the leaf hashes of data: SHA-256 of each consecutive 1 MiB
// chunk, the last one possibly shorter. Zero bytes have exactly one leaf,
// SHA-256 of the empty string.
func Leaves(data []byte) []Hash {
	out := make([]Hash, 0, LeafCount(int64(len(data))))
	for {
		k := min(len(data), ChunkSize)
		out = append(out, sha256.Sum256(data[:k]))
		data = data[k:]
		if len(data) == 0 {
			return out
		}
	}
}

// LeafCount returns the number of leaves of an archive of size bytes:
// ceil(size / ChunkSize), and 1 for an empty archive.
func LeafCount(size int64) int64 {
	if size <= 0 {
		return 1
	}
	return (size-1)/ChunkSize + 1
}

// EncodeLeaves returns leaves as one byte slice, the 32-byte digests
// concatenated in order, for storage as a single blob.
func EncodeLeaves(leaves []Hash) []byte {
	b := make([]byte, 0, len(leaves)*hashSize)
	for i := range leaves {
		b = append(b, leaves[i][:]...)
	}
	return b
}

// DecodeLeaves reverses [EncodeLeaves]. It returns an error wrapping
// [ErrInvalidHash] if len(b) is not a multiple of 32; an empty b decodes to
// an empty list.
func DecodeLeaves(b []byte) ([]Hash, error) {
	if len(b)%hashSize != 0 {
		return nil, fmt.Errorf("%w: leaf list of %d bytes is not a multiple of %d", ErrInvalidHash, len(b), hashSize)
	}
	out := make([]Hash, len(b)/hashSize)
	for i := range out {
		copy(out[i][:], b[i*hashSize:])
	}
	return out, nil
}
