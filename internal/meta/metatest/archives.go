package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// archiveOf returns an archive of the given segments (with leaves), named
// id, in vault v of acct, created at created.
func archiveOf(id, vault string, created time.Time, segs ...glacier.Segment) glacier.Archive {
	var size int64
	for _, s := range segs {
		size += s.Size
	}
	return glacier.Archive{
		ID: id, AccountID: acct, VaultName: vault, CreatedAt: created,
		Size: size, TreeHash: hashOf(id), Description: "archive " + id, Segments: segs,
	}
}

// segmentOf returns a segment of size bytes stored under key, with leaves.
func segmentOf(key string, size int64) glacier.Segment {
	return glacier.Segment{BlobKey: key, Size: size, TreeHash: hashOf(key), Leaves: leavesOf(key, int(treehash.LeafCount(size)))}
}

// stripLeaves returns a as GetArchive returns it: segments without leaves.
func stripLeaves(a glacier.Archive) glacier.Archive {
	a.Segments = slices.Clone(a.Segments)
	for i := range a.Segments {
		a.Segments[i].Leaves = nil
	}
	return a
}

func testCreateArchive(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	a1 := archiveOf("a1", "v", at(time.Minute), segmentOf("a1/0", 100))
	wantKind(t, "CreateArchive in a missing vault", s.CreateArchive(ctx, a1), glacier.KindNotFound)
	_, err := s.GetArchive(ctx, "a1")
	wantKind(t, "GetArchive after a refused CreateArchive", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	a2 := archiveOf("a2", "v", at(2*time.Minute), segmentOf("a2/0", 3*mib), segmentOf("a2/1", 5))
	must(t, "CreateArchive", s.CreateArchive(ctx, a1))
	must(t, "CreateArchive", s.CreateArchive(ctx, a2))

	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "vault counters after two archives", v, glacier.Vault{
		AccountID: acct, Name: "v", CreatedAt: t0,
		NumberOfArchives: 2, SizeInBytes: 100 + 3*mib + 5, LastWriteAt: at(2 * time.Minute),
	})
	w, err := s.GetVault(ctx, acct, "w")
	must(t, "GetVault", err)
	same(t, "counters of another vault", w, glacier.Vault{AccountID: acct, Name: "w", CreatedAt: t0})

	got, err := s.GetArchive(ctx, "a2")
	must(t, "GetArchive", err)
	same(t, "GetArchive", got, stripLeaves(a2))
	wantReferenced(t, s, true, "a1/0", "a2/0", "a2/1")
}

func testGetArchive(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	_, err := s.GetArchive(ctx, "missing")
	wantKind(t, "GetArchive of a missing archive", err, glacier.KindNotFound)
	_, err = s.ArchiveLeaves(ctx, "missing")
	wantKind(t, "ArchiveLeaves of a missing archive", err, glacier.KindNotFound)

	mustVault(t, s, acct2, "v")
	// Segment keys deliberately not in key order, to catch sorting by key.
	a := archiveOf("multi", "v", t0, segmentOf("z", 2*mib), segmentOf("a", 2*mib), segmentOf("m", mib+1))
	a.AccountID = acct2
	must(t, "CreateArchive", s.CreateArchive(ctx, a))

	// By id alone, from any account.
	got, err := s.GetArchive(ctx, "multi")
	must(t, "GetArchive", err)
	same(t, "GetArchive (segments in order, without leaves)", got, stripLeaves(a))
	for i, seg := range got.Segments {
		if len(seg.Leaves) != 0 {
			t.Errorf("GetArchive segment %d has %d leaves, want them not loaded", i, len(seg.Leaves))
		}
	}

	leaves, err := s.ArchiveLeaves(ctx, "multi")
	must(t, "ArchiveLeaves", err)
	var want []treehash.Hash
	for _, seg := range a.Segments {
		want = append(want, seg.Leaves...)
	}
	same(t, "ArchiveLeaves (segments' leaves concatenated)", leaves, want)
}

func testDeleteArchive(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	a1 := archiveOf("a1", "v", at(time.Minute), segmentOf("a1/0", mib), segmentOf("a1/1", 7))
	a2 := archiveOf("a2", "v", at(2*time.Minute), segmentOf("a2/0", 100))
	must(t, "CreateArchive", s.CreateArchive(ctx, a1))
	must(t, "CreateArchive", s.CreateArchive(ctx, a2))

	_, err := s.DeleteArchive(ctx, acct, "w", "a1", at(time.Hour))
	wantKind(t, "DeleteArchive in another vault", err, glacier.KindNotFound)
	_, err = s.DeleteArchive(ctx, acct, "missing", "a1", at(time.Hour))
	wantKind(t, "DeleteArchive in a missing vault", err, glacier.KindNotFound)
	_, err = s.DeleteArchive(ctx, acct2, "v", "a1", at(time.Hour))
	wantKind(t, "DeleteArchive in another account", err, glacier.KindNotFound)
	_, err = s.DeleteArchive(ctx, acct, "v", "missing", at(time.Hour))
	wantKind(t, "DeleteArchive of a missing archive", err, glacier.KindNotFound)
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 2 || !v.LastWriteAt.Equal(at(2*time.Minute)) {
		t.Errorf("refused deletes changed the vault: %+v", v)
	}

	got, err := s.DeleteArchive(ctx, acct, "v", "a1", at(time.Hour))
	must(t, "DeleteArchive", err)
	same(t, "DeleteArchive returns the archive", stripLeaves(got), stripLeaves(a1))
	_, err = s.GetArchive(ctx, "a1")
	wantKind(t, "GetArchive after delete", err, glacier.KindNotFound)
	_, err = s.ArchiveLeaves(ctx, "a1")
	wantKind(t, "ArchiveLeaves after delete", err, glacier.KindNotFound)
	wantReferenced(t, s, false, "a1/0", "a1/1")
	wantReferenced(t, s, true, "a2/0")

	v, err = s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "vault counters after delete", v, glacier.Vault{
		AccountID: acct, Name: "v", CreatedAt: t0,
		NumberOfArchives: 1, SizeInBytes: 100, LastWriteAt: at(time.Hour),
	})

	_, err = s.DeleteArchive(ctx, acct, "v", "a1", at(2*time.Hour))
	wantKind(t, "DeleteArchive again", err, glacier.KindNotFound)
	_, err = s.DeleteArchive(ctx, acct, "v", "a2", at(3*time.Hour))
	must(t, "DeleteArchive", err)
	v, err = s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "vault counters after deleting all", v, glacier.Vault{
		AccountID: acct, Name: "v", CreatedAt: t0, LastWriteAt: at(3 * time.Hour),
	})
}

func testBlobReferenced(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	wantReferenced(t, s, false, "unknown")
	mustVault(t, s, acct, "v")

	// A single-request archive's segment.
	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("single", "v", t0, segmentOf("single/0", 10))))
	wantReferenced(t, s, true, "single/0")

	// Parts, then the same keys as segments after completion.
	mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, mib, "u1/0")
	mustPart(t, s, "u1", mib, 1, "u1/1")
	wantReferenced(t, s, true, "u1/0", "u1/1")
	_, err := s.CompleteUpload(ctx, "u1", archiveOf("multi", "v", t0), ok)
	must(t, "CompleteUpload", err)
	wantReferenced(t, s, true, "u1/0", "u1/1")

	// Parts of an aborted upload are no longer referenced.
	mustUpload(t, s, acct, "v", "u2")
	mustPart(t, s, "u2", 0, 1, "u2/0")
	_, err = s.AbortUpload(ctx, "u2", t0)
	must(t, "AbortUpload", err)
	wantReferenced(t, s, false, "u2/0")

	// Nor segments of deleted archives.
	_, err = s.DeleteArchive(ctx, acct, "v", "multi", t0)
	must(t, "DeleteArchive", err)
	_, err = s.DeleteArchive(ctx, acct, "v", "single", t0)
	must(t, "DeleteArchive", err)
	wantReferenced(t, s, false, "u1/0", "u1/1", "single/0")
}
