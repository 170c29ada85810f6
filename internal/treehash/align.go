package treehash

// validRange reports whether [start, end] is a non-empty inclusive range
// inside an archive of size bytes.
func validRange(start, end, size int64) bool {
	return 0 <= start && start <= end && end < size
}

// IsMiBAligned reports whether the inclusive byte range [start, end] of an
// archive of size bytes is megabyte aligned (§1.3): it lies inside the
// archive, starts on a MiB boundary and ends just before one or at the
// archive's last byte. Retrieval ranges must be MiB aligned (§5.5).
func IsMiBAligned(start, end, size int64) bool {
	return validRange(start, end, size) &&
		start%ChunkSize == 0 &&
		((end+1)%ChunkSize == 0 || end == size-1)
}

// IsTreeHashAligned reports whether the inclusive byte range [start, end] of
// an archive of size bytes is tree-hash aligned (§1.3): it covers exactly the
// bytes of one node of the archive's tree, so that its own tree hash is that
// node's hash. The node at level i, index j covers bytes
// [j·2^i·ChunkSize, min((j+1)·2^i·ChunkSize, size)). The whole archive is
// always aligned; every aligned range is MiB aligned, not conversely.
// GetJobOutput returns a tree hash only for aligned ranges (§5.6).
func IsTreeHashAligned(start, end, size int64) bool {
	if !validRange(start, end, size) {
		return false
	}
	// This is the loop of §1.3 with its early exits folded: a start that is
	// off a block boundary is also off every larger one, so only the smallest
	// block B = 2^i·ChunkSize with B >= length needs checking. The range is
	// then node (i, start/B) if it fills the block, or if it is cut short by
	// the archive's end (the truncated last node of level i).
	length := end + 1 - start
	last := end == size-1
	if length > 1<<62 {
		return start == 0 && last // B would be 2^63; only offset 0 is a multiple
	}
	block := int64(ChunkSize)
	for block < length {
		block <<= 1
	}
	return start%block == 0 && (length == block || last)
}

// RangeTreeHash returns the tree hash of bytes [start, end] (inclusive) of an
// archive of size bytes, computed from the archive's leaf hashes without the
// bytes. The range must be MiB aligned, and leaves must hold exactly
// LeafCount(size) hashes; otherwise ok is false. A MiB-aligned range is a run
// of whole leaves (the last possibly the archive's short final leaf), so its
// tree hash is Reduce of those leaves. Whether the value may be sent to a
// client is a separate question: see [IsTreeHashAligned].
func RangeTreeHash(leaves []Hash, start, end, size int64) (Hash, bool) {
	if !IsMiBAligned(start, end, size) || int64(len(leaves)) != LeafCount(size) {
		return Hash{}, false
	}
	return Reduce(leaves[start/ChunkSize : end/ChunkSize+1]), true
}
