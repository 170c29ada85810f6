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

func testCreateArchive(t *testing.T, s Store) {
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

func testGetArchive(t *testing.T, s Store) {
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

func testDeleteArchive(t *testing.T, s Store) {
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

// testArchivePage checks paging through a vault's archives in order of
// creation then id.
func testArchivePage(t *testing.T, s Store) {
	ctx := t.Context()
	pager := s
	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	var want []string
	for i, id := range []string{"c", "a", "e", "b", "d"} {
		// Two archives share a creation time: the id orders them.
		must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf(id, "v", at(time.Duration(i/2)*time.Second), segmentOf(id+"/0", 1))))
	}
	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("other", "w", t0, segmentOf("other/0", 1))))
	want = []string{"a", "c", "b", "e", "d"}
	var got []string
	var after glacier.Archive
	for range 10 {
		page, err := pager.ArchivePage(ctx, acct, "v", after.CreatedAt, after.ID, 2)
		must(t, "ArchivePage", err)
		for _, a := range page {
			got = append(got, a.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages list %q, want %q", got, want)
	}
	_, err := pager.ArchivePage(ctx, acct, "missing", time.Time{}, "", 2)
	wantKind(t, "ArchivePage of a missing vault", err, glacier.KindNotFound)
}
