package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// testBlobIntentBatch checks AddBlobIntents: every key recorded at the
// given time, an existing older record kept, and cleared like any intent
// by the commit that references the blob.
func testBlobIntentBatch(t *testing.T, s Store) {
	ctx := t.Context()
	is, b := s, s
	old := time.Now().Add(-2 * time.Hour)
	must(t, "AddBlobIntent", is.AddBlobIntent(ctx, "batch/old", old))
	keys := []string{"batch/a", "batch/b", "batch/c", "batch/old"}
	must(t, "AddBlobIntents", b.AddBlobIntents(ctx, keys, time.Now()))
	got, err := is.BlobIntents(ctx, time.Now().Add(time.Hour), 100)
	must(t, "BlobIntents", err)
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("intents %q, want %q", got, keys)
	}
	got, err = is.BlobIntents(ctx, time.Now().Add(-time.Hour), 100)
	must(t, "BlobIntents", err)
	if !slices.Equal(got, []string{"batch/old"}) {
		t.Errorf("intents recorded before an hour ago: %q, want the older record kept", got)
	}
	must(t, "AddBlobIntents (none)", b.AddBlobIntents(ctx, nil, time.Now()))

	mustVault(t, s, acct, "v")
	a := glacier.Archive{ID: "batch-archive", AccountID: acct, VaultName: "v", CreatedAt: time.Now().UTC(), Size: 1,
		Segments: []glacier.Segment{{BlobKey: "batch/b", Size: 1}}}
	must(t, "CreateArchive", s.CreateArchive(ctx, a))
	got, err = is.BlobIntents(ctx, time.Now().Add(time.Hour), 100)
	must(t, "BlobIntents", err)
	slices.Sort(got)
	if want := []string{"batch/a", "batch/c", "batch/old"}; !slices.Equal(got, want) {
		t.Errorf("after the archive's commit: intents %q, want %q", got, want)
	}
}
