package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

func testUploads(t *testing.T, s Store) {
	ctx := t.Context()
	u := glacier.Upload{
		ID: "u1", AccountID: acct, VaultName: "v", Description: "my upload",
		PartSize: 4 * mib, CreatedAt: at(time.Second),
	}
	wantKind(t, "CreateUpload in a missing vault", s.CreateUpload(ctx, u), glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	mustVault(t, s, acct2, "v")
	must(t, "CreateUpload", s.CreateUpload(ctx, u))

	got, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	same(t, "GetUpload of an open upload", got, u)

	_, err = s.GetUpload(ctx, acct, "w", "u1")
	wantKind(t, "GetUpload in another vault", err, glacier.KindNotFound)
	_, err = s.GetUpload(ctx, acct2, "v", "u1")
	wantKind(t, "GetUpload in another account", err, glacier.KindNotFound)
	_, err = s.GetUpload(ctx, acct, "missing", "u1")
	wantKind(t, "GetUpload in a missing vault", err, glacier.KindNotFound)
	_, err = s.GetUpload(ctx, acct, "v", "missing")
	wantKind(t, "GetUpload of a missing upload", err, glacier.KindNotFound)
}

func testListUploads(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	var all []glacier.Upload
	for _, id := range []string{"u-5", "u-3", "u-1", "u-4", "u-2"} {
		all = append(all, mustUpload(t, s, acct, "v", id))
	}
	other := mustUpload(t, s, acct, "w", "u-0")
	byID := map[string]glacier.Upload{}
	for _, u := range all {
		byID[u.ID] = u
	}
	want := func(ids ...string) []glacier.Upload {
		var out []glacier.Upload
		for _, id := range ids {
			out = append(out, byID[id])
		}
		return out
	}
	list := func(from string, limit int) []glacier.Upload {
		t.Helper()
		l, err := s.ListUploads(ctx, acct, "v", from, limit)
		must(t, "ListUploads", err)
		return l
	}

	same(t, "ListUploads", list("", 100), want("u-1", "u-2", "u-3", "u-4", "u-5"))
	same(t, "ListUploads limit 2", list("", 2), want("u-1", "u-2"))
	same(t, "ListUploads from is inclusive", list("u-2", 2), want("u-2", "u-3"))
	same(t, "ListUploads from an absent id", list("u-25", 100), want("u-3", "u-4", "u-5"))

	// Closed uploads are not listed.
	_, err := s.AbortUpload(ctx, "u-2", at(time.Minute))
	must(t, "AbortUpload", err)
	_, err = s.CompleteUpload(ctx, "u-4", archiveOf("arch", "v", at(time.Minute)), ok)
	must(t, "CompleteUpload", err)
	same(t, "ListUploads without closed uploads", list("", 100), want("u-1", "u-3", "u-5"))

	l, err := s.ListUploads(ctx, acct, "w", "", 100)
	must(t, "ListUploads", err)
	same(t, "ListUploads of another vault", l, []glacier.Upload{other})
}

func testParts(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.PutPart(ctx, glacier.Part{UploadID: "missing", Start: 0, Size: 1, BlobKey: "k"})
	wantKind(t, "PutPart to a missing upload", err, glacier.KindNotFound)
	wantReferenced(t, s, false, "k")

	mustVault(t, s, acct, "v")
	mustUpload(t, s, acct, "v", "u1")
	mustUpload(t, s, acct, "v", "u2")
	p2 := mustPart(t, s, "u1", 2*mib, 10, "p2")
	p0 := mustPart(t, s, "u1", 0, mib, "p0")
	p1 := mustPart(t, s, "u1", mib, mib, "p1")
	q0 := mustPart(t, s, "u2", 0, mib, "q0")

	list := func(uploadID string, from int64, limit int) []glacier.Part {
		t.Helper()
		l, err := s.ListParts(ctx, uploadID, from, limit)
		must(t, "ListParts", err)
		for i, p := range l {
			if len(p.Leaves) != 0 {
				t.Errorf("ListParts: part %d has %d leaves, want them not loaded", i, len(p.Leaves))
			}
		}
		return l
	}
	same(t, "ListParts (by Start, without leaves)", list("u1", 0, 100), withoutLeaves(p0, p1, p2))
	same(t, "ListParts limit 2", list("u1", 0, 2), withoutLeaves(p0, p1))
	same(t, "ListParts from is inclusive", list("u1", mib, 1), withoutLeaves(p1))
	same(t, "ListParts from between starts", list("u1", mib+1, 100), withoutLeaves(p2))
	same(t, "ListParts past the end", list("u1", 3*mib, 100), []glacier.Part(nil))
	same(t, "ListParts of another upload", list("u2", 0, 100), withoutLeaves(q0))

	// Replacing a part returns the old blob key, which is then unused.
	p1b := glacier.Part{UploadID: "u1", Start: mib, Size: mib, TreeHash: hashOf("p1b"), Leaves: leavesOf("p1b", 1), BlobKey: "p1b"}
	replaced, err := s.PutPart(ctx, p1b)
	must(t, "PutPart replacing", err)
	if replaced != "p1" {
		t.Errorf("PutPart replacing: replaced %q, want %q", replaced, "p1")
	}
	same(t, "ListParts after replace", list("u1", 0, 100), withoutLeaves(p0, p1b, p2))
	wantReferenced(t, s, false, "p1")
	wantReferenced(t, s, true, "p0", "p1b", "p2", "q0")

	// The replacing part's leaves are the ones that count.
	_, err = s.CompleteUpload(ctx, "u1", archiveOf("arch", "v", t0), ok)
	must(t, "CompleteUpload", err)
	leaves, err := s.ArchiveLeaves(ctx, "arch")
	must(t, "ArchiveLeaves", err)
	same(t, "ArchiveLeaves after a replaced part", leaves, concatLeaves(p0, p1b, p2))
}

// concatLeaves returns the parts' leaves in the order given.
func concatLeaves(parts ...glacier.Part) []treehash.Hash {
	var out []treehash.Hash
	for _, p := range parts {
		out = append(out, p.Leaves...)
	}
	return out
}

func testPutPartClosed(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	mustUpload(t, s, acct, "v", "done")
	mustUpload(t, s, acct, "v", "gone")
	mustPart(t, s, "done", 0, 1, "done/0")
	_, err := s.CompleteUpload(ctx, "done", archiveOf("arch", "v", t0), ok)
	must(t, "CompleteUpload", err)
	_, err = s.AbortUpload(ctx, "gone", t0)
	must(t, "AbortUpload", err)

	for _, id := range []string{"done", "gone"} {
		replaced, err := s.PutPart(ctx, glacier.Part{UploadID: id, Start: 0, Size: 2, TreeHash: hashOf("late"), BlobKey: id + "/late"})
		wantKind(t, "PutPart to a closed upload "+id, err, glacier.KindConflict)
		if replaced != "" {
			t.Errorf("PutPart to a closed upload %s: replaced %q", id, replaced)
		}
		wantReferenced(t, s, false, id+"/late")
	}
	// The completed upload's segment is untouched.
	wantReferenced(t, s, true, "done/0")
}

func testCompleteUploadRefused(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	u := mustUpload(t, s, acct, "v", "u1")
	p1 := mustPart(t, s, "u1", mib, 3, "p1")
	p0 := mustPart(t, s, "u1", 0, mib, "p0")

	refused := errors.New("tree hash mismatch")
	var gotU glacier.Upload
	var gotParts []glacier.Part
	_, err := s.CompleteUpload(ctx, "u1", archiveOf("arch", "v", at(time.Hour)), func(u glacier.Upload, parts []glacier.Part) error {
		gotU, gotParts = u, parts
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("CompleteUpload refused by check: got error %v, want the check's", err)
	}
	same(t, "upload given to check", gotU, u)
	same(t, "parts given to check (by Start, without leaves)", gotParts, withoutLeaves(p0, p1))

	// A domain error from check comes back with its kind.
	_, err = s.CompleteUpload(ctx, "u1", archiveOf("arch", "v", at(time.Hour)), func(glacier.Upload, []glacier.Part) error {
		return glacier.Errorf(glacier.KindInvalidParameter, "parts do not cover the archive")
	})
	wantKind(t, "CompleteUpload refused with a domain error", err, glacier.KindInvalidParameter)

	// Nothing changed.
	got, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	same(t, "upload after refusal", got, u)
	parts, err := s.ListParts(ctx, "u1", 0, 100)
	must(t, "ListParts", err)
	same(t, "parts after refusal", parts, withoutLeaves(p0, p1))
	_, err = s.GetArchive(ctx, "arch")
	wantKind(t, "GetArchive after refusal", err, glacier.KindNotFound)
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "vault after refusal", v, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0})
	wantReferenced(t, s, true, "p0", "p1")

	// The upload is still usable.
	_, err = s.CompleteUpload(ctx, "u1", archiveOf("arch", "v", at(time.Hour)), ok)
	must(t, "CompleteUpload after refusal", err)
}

func testCompleteUpload(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	u := glacier.Upload{ID: "u1", AccountID: acct, VaultName: "v", Description: "big", PartSize: 2 * mib, CreatedAt: t0}
	must(t, "CreateUpload", s.CreateUpload(ctx, u))
	mustUpload(t, s, acct, "v", "other")
	// Parts arrive out of order; their keys sort against Start order.
	p2 := mustPart(t, s, "u1", 4*mib, mib+5, "k-a")
	p0 := mustPart(t, s, "u1", 0, 2*mib, "k-c")
	p1 := mustPart(t, s, "u1", 2*mib, 2*mib, "k-b")
	q := mustPart(t, s, "other", 0, 1, "other/0")

	a := glacier.Archive{
		ID: "arch", AccountID: acct, VaultName: "v", CreatedAt: at(time.Hour),
		Size: 5*mib + 5, TreeHash: hashOf("whole"), Description: "big",
		// Ignored: the parts become the segments.
		Segments: []glacier.Segment{{BlobKey: "bogus", Size: 1}},
	}
	var checked []glacier.Part
	got, err := s.CompleteUpload(ctx, "u1", a, func(_ glacier.Upload, parts []glacier.Part) error {
		checked = parts
		return nil
	})
	must(t, "CompleteUpload", err)
	same(t, "parts given to check", checked, withoutLeaves(p0, p1, p2))

	done := u
	done.State = glacier.UploadCompleted
	done.ArchiveID = "arch"
	done.ClosedAt = at(time.Hour)
	same(t, "CompleteUpload result", got, done)
	stored, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	same(t, "GetUpload after completion", stored, done)

	want := a
	want.Segments = segmentsOf(p0, p1, p2)
	arch, err := s.GetArchive(ctx, "arch")
	must(t, "GetArchive", err)
	same(t, "archive (segments are the parts in Start order)", arch, want)
	leaves, err := s.ArchiveLeaves(ctx, "arch")
	must(t, "ArchiveLeaves", err)
	same(t, "ArchiveLeaves (parts' leaves in Start order)", leaves, concatLeaves(p0, p1, p2))

	parts, err := s.ListParts(ctx, "u1", 0, 100)
	must(t, "ListParts after completion", err)
	if len(parts) != 0 {
		t.Errorf("ListParts after completion = %+v, want none", parts)
	}
	ups, err := s.ListUploads(ctx, acct, "v", "", 100)
	must(t, "ListUploads", err)
	if len(ups) != 1 || ups[0].ID != "other" {
		t.Errorf("ListUploads after completion = %+v, want only the other upload", ups)
	}
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "vault after completion", v, glacier.Vault{
		AccountID: acct, Name: "v", CreatedAt: t0,
		NumberOfArchives: 1, SizeInBytes: 5*mib + 5, LastWriteAt: at(time.Hour),
	})
	wantReferenced(t, s, true, "k-a", "k-b", "k-c", "other/0")
	wantReferenced(t, s, false, "bogus")

	// The other upload is untouched.
	parts, err = s.ListParts(ctx, "other", 0, 100)
	must(t, "ListParts", err)
	same(t, "parts of the other upload", parts, withoutLeaves(q))

	// A second completion conflicts and reports the upload as stored.
	called := false
	again, err := s.CompleteUpload(ctx, "u1", archiveOf("arch2", "v", at(2*time.Hour)), func(glacier.Upload, []glacier.Part) error {
		called = true
		return nil
	})
	wantKind(t, "second CompleteUpload", err, glacier.KindConflict)
	same(t, "second CompleteUpload returns the stored upload", again, done)
	if called {
		t.Errorf("second CompleteUpload called check")
	}
	_, err = s.GetArchive(ctx, "arch2")
	wantKind(t, "GetArchive of the second completion's archive", err, glacier.KindNotFound)
	v, err = s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 1 || v.SizeInBytes != 5*mib+5 {
		t.Errorf("second CompleteUpload changed the vault: %+v", v)
	}
}

func testCompleteUploadNotOpen(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.CompleteUpload(ctx, "missing", archiveOf("arch", "v", t0), ok)
	wantKind(t, "CompleteUpload of a missing upload", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	u := mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, 1, "p0")
	_, err = s.AbortUpload(ctx, "u1", at(time.Minute))
	must(t, "AbortUpload", err)
	got, err := s.CompleteUpload(ctx, "u1", archiveOf("arch", "v", at(time.Hour)), ok)
	wantKind(t, "CompleteUpload of an aborted upload", err, glacier.KindConflict)
	u.State = glacier.UploadAborted
	u.ClosedAt = at(time.Minute)
	same(t, "CompleteUpload of an aborted upload returns it", got, u)
	_, err = s.GetArchive(ctx, "arch")
	wantKind(t, "GetArchive", err, glacier.KindNotFound)
}

func testAbortUpload(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.AbortUpload(ctx, "missing", t0)
	wantKind(t, "AbortUpload of a missing upload", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	u := mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", mib, 1, "p1")
	mustPart(t, s, "u1", 0, mib, "p0")
	orphans, err := s.AbortUpload(ctx, "u1", at(time.Minute))
	must(t, "AbortUpload", err)
	same(t, "AbortUpload orphans", sorted(orphans), []string{"p0", "p1"})

	u.State = glacier.UploadAborted
	u.ClosedAt = at(time.Minute)
	got, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	same(t, "GetUpload after abort", got, u)
	parts, err := s.ListParts(ctx, "u1", 0, 100)
	must(t, "ListParts after abort", err)
	if len(parts) != 0 {
		t.Errorf("ListParts after abort = %+v, want none", parts)
	}
	wantReferenced(t, s, false, "p0", "p1")
	ups, err := s.ListUploads(ctx, acct, "v", "", 100)
	must(t, "ListUploads", err)
	if len(ups) != 0 {
		t.Errorf("ListUploads after abort = %+v, want none", ups)
	}

	orphans, err = s.AbortUpload(ctx, "u1", at(time.Hour))
	must(t, "AbortUpload again", err)
	if len(orphans) != 0 {
		t.Errorf("AbortUpload again: orphans %v, want none", orphans)
	}

	// A completed upload cannot be aborted.
	mustUpload(t, s, acct, "v", "u2")
	mustPart(t, s, "u2", 0, 1, "q0")
	_, err = s.CompleteUpload(ctx, "u2", archiveOf("arch", "v", t0), ok)
	must(t, "CompleteUpload", err)
	orphans, err = s.AbortUpload(ctx, "u2", at(time.Hour))
	wantKind(t, "AbortUpload of a completed upload", err, glacier.KindConflict)
	if len(orphans) != 0 {
		t.Errorf("AbortUpload of a completed upload: orphans %v", orphans)
	}
	got, err = s.GetUpload(ctx, acct, "v", "u2")
	must(t, "GetUpload", err)
	if got.State != glacier.UploadCompleted || got.ArchiveID != "arch" {
		t.Errorf("upload after a refused abort = %+v, want it completed", got)
	}
	wantReferenced(t, s, true, "q0")
}

// testRaceCompleteUpload: of many completions of one upload exactly one
// wins; the others see KindConflict and leave no trace.
func testRaceCompleteUpload(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, mib, "p0")
	mustPart(t, s, "u1", mib, 10, "p1")

	errs := Race(racers, func(i int) error {
		_, err := s.CompleteUpload(ctx, "u1", archiveOf(fmt.Sprintf("arch-%d", i), "v", t0), ok)
		return err
	})
	won := Winners(t, "CompleteUpload", errs, glacier.KindConflict)
	if len(won) != 1 {
		t.Fatalf("CompleteUpload race: %d winners, want exactly 1", len(won))
	}
	winner := fmt.Sprintf("arch-%d", won[0])
	for i := range racers {
		_, err := s.GetArchive(ctx, fmt.Sprintf("arch-%d", i))
		if i == won[0] {
			must(t, "GetArchive of the winner", err)
		} else {
			wantKind(t, "GetArchive of a loser", err, glacier.KindNotFound)
		}
	}
	u, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	if u.State != glacier.UploadCompleted || u.ArchiveID != winner {
		t.Errorf("upload after the race = %+v, want completed as %s", u, winner)
	}
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 1 || v.SizeInBytes != 0 {
		// archiveOf without segments has size 0.
		t.Errorf("vault after the race: %d archives of %d bytes, want 1 of 0", v.NumberOfArchives, v.SizeInBytes)
	}
}

// testRaceCompleteVersusAbort: a completion racing an abort; exactly one
// wins and the state agrees with the winner.
func testRaceCompleteVersusAbort(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	const rounds = 6
	archives := int64(0)
	for r := range rounds {
		id := fmt.Sprintf("u%d", r)
		arch := fmt.Sprintf("arch%d", r)
		key := id + "/p0"
		mustUpload(t, s, acct, "v", id)
		mustPart(t, s, id, 0, 1, key)

		var orphans []string
		errs := Race(2, func(i int) error {
			if i == 0 {
				_, err := s.CompleteUpload(ctx, id, archiveOf(arch, "v", t0), ok)
				return err
			}
			var err error
			orphans, err = s.AbortUpload(ctx, id, t0)
			return err
		})
		won := Winners(t, "CompleteUpload versus AbortUpload", errs, glacier.KindConflict)
		if len(won) != 1 {
			t.Fatalf("round %d: %d winners (errors %v), want exactly 1", r, len(won), errs)
		}

		u, err := s.GetUpload(ctx, acct, "v", id)
		must(t, "GetUpload", err)
		_, archErr := s.GetArchive(ctx, arch)
		used, err := s.BlobReferenced(ctx, key)
		must(t, "BlobReferenced", err)
		if won[0] == 0 {
			archives++
			if u.State != glacier.UploadCompleted || u.ArchiveID != arch || archErr != nil || !used || len(orphans) != 0 {
				t.Errorf("round %d, completion won: upload %+v, archive error %v, part referenced %v, abort orphans %v",
					r, u, archErr, used, orphans)
			}
		} else {
			if u.State != glacier.UploadAborted || glacier.KindOf(archErr) != glacier.KindNotFound || used ||
				len(orphans) != 1 || orphans[0] != key {
				t.Errorf("round %d, abort won: upload %+v, archive error %v, part referenced %v, abort orphans %v",
					r, u, archErr, used, orphans)
			}
		}
	}
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != archives {
		t.Errorf("vault counts %d archives, want %d", v.NumberOfArchives, archives)
	}
}
