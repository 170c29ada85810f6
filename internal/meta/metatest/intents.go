package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// testBlobIntents checks the blob intents (issue 20): recorded before a
// blob is written, cleared by the commit that references the blob, and
// recorded again by every commit that drops a reference.
func testBlobIntents(t *testing.T, s Store) {
	ctx := t.Context()
	is := s
	later := time.Now().Add(time.Hour)
	want := func(what string, keys ...string) {
		t.Helper()
		got, err := is.BlobIntents(ctx, later, 100)
		must(t, "BlobIntents", err)
		slices.Sort(got)
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Errorf("%s: intents %q, want %q", what, got, keys)
		}
	}
	mustVault(t, s, acct, "v")
	for _, k := range []string{"single/0", "u1/0", "u1/1", "u2/0"} {
		must(t, "AddBlobIntent", is.AddBlobIntent(ctx, k, time.Now()))
	}
	must(t, "AddBlobIntent again", is.AddBlobIntent(ctx, "single/0", time.Now()))
	want("before any commit", "single/0", "u1/0", "u1/1", "u2/0")
	if keys, err := is.BlobIntents(ctx, time.Now().Add(-time.Hour), 100); err != nil || len(keys) != 0 {
		t.Errorf("intents recorded before an hour ago: %q, %v; want none", keys, err)
	}

	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("single", "v", t0, segmentOf("single/0", 10))))
	mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, mib, "u1/0")
	mustPart(t, s, "u1", mib, 1, "u1/1")
	want("after the commits", "u2/0")

	// A replaced part's blob is released.
	replaced, err := s.PutPart(ctx, glacier.Part{UploadID: "u1", Start: mib, Size: 1, TreeHash: hashOf("u1/1b"), Leaves: leavesOf("u1/1b", 1), BlobKey: "u1/1b"})
	must(t, "PutPart replacing", err)
	if replaced != "u1/1" {
		t.Errorf("PutPart replaced %q, want u1/1", replaced)
	}
	want("after a part was replaced", "u1/1", "u2/0")
	must(t, "ClearBlobIntents", is.ClearBlobIntents(ctx, []string{"u1/1"}, later))
	must(t, "ClearBlobIntents of nothing", is.ClearBlobIntents(ctx, []string{"u1/1", "none"}, later))

	_, err = s.CompleteUpload(ctx, "u1", archiveOf("multi", "v", t0), ok)
	must(t, "CompleteUpload", err)
	for _, k := range []string{"u1/0", "u1/1b"} {
		if ref, err := s.BlobReferenced(ctx, k); err != nil || !ref {
			t.Errorf("after CompleteUpload %s is not referenced (%v)", k, err)
		}
		must(t, "ClearBlobIntents", is.ClearBlobIntents(ctx, []string{k}, later)) // a completion may leave one; housekeeping drops it
	}

	mustUpload(t, s, acct, "v", "u2")
	mustPart(t, s, "u2", 0, 1, "u2/0")
	want("after u2's part")
	_, err = s.AbortUpload(ctx, "u2", t0)
	must(t, "AbortUpload", err)
	want("after the abort", "u2/0")

	_, err = s.DeleteArchive(ctx, acct, "v", "multi", t0)
	must(t, "DeleteArchive", err)
	_, err = s.DeleteArchive(ctx, acct, "v", "single", t0)
	must(t, "DeleteArchive", err)
	want("after the deletes", "u2/0", "u1/0", "u1/1b", "single/0")
	// A record refreshed after a pass looked stays when the pass clears.
	must(t, "ClearBlobIntents before an hour ago", is.ClearBlobIntents(ctx, []string{"u2/0"}, time.Now().Add(-time.Hour)))
	want("after clearing only older records", "u2/0", "u1/0", "u1/1b", "single/0")
	n, err := is.CountBlobIntents(ctx)
	must(t, "CountBlobIntents", err)
	if n != 4 {
		t.Errorf("CountBlobIntents = %d, want 4", n)
	}

	// A deleted vault's open upload releases its parts (by cascade).
	mustVault(t, s, acct, "w")
	mustUpload(t, s, acct, "w", "u3")
	mustPart(t, s, "u3", 0, 1, "u3/0")
	orphans, err := s.DeleteVault(ctx, acct, "w", func(glacier.Vault) error { return nil })
	must(t, "DeleteVault", err)
	if !slices.Equal(orphans, []string{"u3/0"}) {
		t.Errorf("DeleteVault orphans %q, want u3/0", orphans)
	}
	want("after the vault delete", "u2/0", "u1/0", "u1/1b", "single/0", "u3/0")
	if keys, err := is.BlobIntents(ctx, later, 2); err != nil || len(keys) != 2 {
		t.Errorf("BlobIntents limit 2: %q, %v", keys, err)
	}
}

// testSpaceUsage checks the space accounting.
func testSpaceUsage(t *testing.T, s Store) {
	ctx := t.Context()
	is := s
	mustVault(t, s, acct, "v")
	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("a", "v", t0, segmentOf("a/0", 1000))))
	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("b", "v", t0, segmentOf("b/0", 20))))
	u := mustUpload(t, s, acct, "v", "u1")
	p := glacier.Part{UploadID: u.ID, Start: 0, Size: 300, TreeHash: hashOf("p"), Leaves: leavesOf("p", 1), BlobKey: "u1/0", UploadedAt: at(time.Hour)}
	_, err := s.PutPart(ctx, p)
	must(t, "PutPart", err)
	got, err := is.SpaceUsage(ctx, t0, at(30*time.Minute))
	must(t, "SpaceUsage", err)
	if got != (glacier.SpaceUsage{LiveArchives: 1020, InFlightUploads: 300}) {
		t.Errorf("SpaceUsage = %+v, want 1020 live, 300 in flight", got)
	}
	// The upload idle since before the cut-off counts as expired.
	got, err = is.SpaceUsage(ctx, t0, at(2*time.Hour))
	must(t, "SpaceUsage", err)
	if got.InFlightUploads != 0 || got.ExpiredUnpurged != 300 {
		t.Errorf("SpaceUsage with the upload idle = %+v, want 300 expired", got)
	}
}
