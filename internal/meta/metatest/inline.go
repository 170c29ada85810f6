package metatest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// inlineKey returns the n-th inline key of the suite.
func inlineKey(n int) string { return fmt.Sprintf("inline/%032x", n) }

// wantInline fails t unless the inline blob under key holds data.
func wantInline(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	got, err := s.GetInlineBlob(t.Context(), key)
	if err != nil {
		t.Errorf("GetInlineBlob %s: %v", key, err)
	} else if !bytes.Equal(got, data) {
		t.Errorf("GetInlineBlob %s = %d bytes %q…, want %d bytes", key, len(got), got[:min(len(got), 16)], len(data))
	}
}

// wantNoInline fails t unless there is no inline blob under key.
func wantNoInline(t *testing.T, s Store, key string) {
	t.Helper()
	_, err := s.GetInlineBlob(t.Context(), key)
	wantKind(t, "GetInlineBlob "+key, err, glacier.KindNotFound)
}

// testInlineBlobs: the role's own writes, reads, deletes and listing.
func testInlineBlobs(t *testing.T, s Store) {
	ctx := t.Context()
	wantNoInline(t, s, inlineKey(1))
	must(t, "DeleteInlineBlob of a missing blob", s.DeleteInlineBlob(ctx, inlineKey(1)))

	wantKind(t, "PutInlineBlob of a file key", s.PutInlineBlob(ctx, "a/00/0123", []byte("x"), t0), glacier.KindInvalidParameter)
	wantKind(t, "PutInlineBlob of a short inline key", s.PutInlineBlob(ctx, "inline/abc", []byte("x"), t0), glacier.KindInvalidParameter)
	wantKind(t, "PutInlineBlob of too many bytes", s.PutInlineBlob(ctx, inlineKey(9), make([]byte, glacier.MaxInlineArchiveMax+1), t0), glacier.KindInvalidParameter)
	wantNoInline(t, s, inlineKey(9))

	// Every byte value survives, and the biggest blob allowed fits.
	all := make([]byte, 256*3)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte{0xa5}, glacier.MaxInlineArchiveMax)
	must(t, "PutInlineBlob", s.PutInlineBlob(ctx, inlineKey(3), all, at(3*time.Second)))
	must(t, "PutInlineBlob", s.PutInlineBlob(ctx, inlineKey(1), []byte("one"), at(time.Second)))
	must(t, "PutInlineBlob", s.PutInlineBlob(ctx, inlineKey(2), big, at(2*time.Second)))
	wantKind(t, "PutInlineBlob of an existing key", s.PutInlineBlob(ctx, inlineKey(1), []byte("other"), at(time.Hour)), glacier.KindConflict)
	wantInline(t, s, inlineKey(1), []byte("one"))
	wantInline(t, s, inlineKey(2), big)
	wantInline(t, s, inlineKey(3), all)

	page, err := s.InlineBlobPage(ctx, "", 2)
	must(t, "InlineBlobPage", err)
	same(t, "first page", page, []glacier.InlineBlob{{Key: inlineKey(1), CreatedAt: at(time.Second)}, {Key: inlineKey(2), CreatedAt: at(2 * time.Second)}})
	page, err = s.InlineBlobPage(ctx, inlineKey(2), 2)
	must(t, "InlineBlobPage", err)
	same(t, "second page", page, []glacier.InlineBlob{{Key: inlineKey(3), CreatedAt: at(3 * time.Second)}})

	must(t, "DeleteInlineBlob", s.DeleteInlineBlob(ctx, inlineKey(2)))
	wantNoInline(t, s, inlineKey(2))
	page, err = s.InlineBlobPage(ctx, "", 10)
	must(t, "InlineBlobPage", err)
	keys := []string{}
	for _, b := range page {
		keys = append(keys, b.Key)
	}
	if !slices.Equal(keys, []string{inlineKey(1), inlineKey(3)}) {
		t.Errorf("after a delete the listing is %q", keys)
	}
}

// testInlineArchive: CreateArchive stores the inline bytes of its segments
// in the same transaction as the archive, and nothing when it fails; the
// blob outlives the archive's row, as a file blob does.
func testInlineArchive(t *testing.T, s Store) {
	ctx := t.Context()
	data := []byte("small archive bytes")
	seg := segmentOf(inlineKey(7), int64(len(data)))
	seg.Inline = data
	a := archiveOf("small", "v", at(time.Minute), seg)

	wantKind(t, "CreateArchive with inline bytes in a missing vault", s.CreateArchive(ctx, a), glacier.KindNotFound)
	wantNoInline(t, s, inlineKey(7))

	mustVault(t, s, acct, "v")
	// A key taken already: the archive is refused whole.
	must(t, "PutInlineBlob", s.PutInlineBlob(ctx, inlineKey(8), []byte("taken"), t0))
	taken := segmentOf(inlineKey(8), 3)
	taken.Inline = []byte("new")
	wantKind(t, "CreateArchive over an existing inline key", s.CreateArchive(ctx, archiveOf("clash", "v", t0, taken)), glacier.KindConflict)
	_, err := s.GetArchive(ctx, "clash")
	wantKind(t, "GetArchive of the refused archive", err, glacier.KindNotFound)
	wantInline(t, s, inlineKey(8), []byte("taken"))
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 0 {
		t.Errorf("a refused archive was counted: %+v", v)
	}

	before := time.Now().Truncate(time.Millisecond)
	must(t, "CreateArchive with inline bytes", s.CreateArchive(ctx, a))
	after := time.Now()
	got, err := s.GetArchive(ctx, "small")
	must(t, "GetArchive", err)
	want := stripLeaves(a)
	want.Segments[0].Inline = nil // stores never return the bytes
	same(t, "GetArchive of an inline archive", got, want)
	leaves, err := s.ArchiveLeaves(ctx, "small")
	must(t, "ArchiveLeaves", err)
	same(t, "ArchiveLeaves", leaves, seg.Leaves)
	wantInline(t, s, inlineKey(7), data)
	wantReferenced(t, s, true, inlineKey(7))
	page, err := s.InlineBlobPage(ctx, inlineKey(6), 1)
	must(t, "InlineBlobPage", err)
	if len(page) != 1 || page[0].Key != inlineKey(7) || page[0].CreatedAt.Before(before) || page[0].CreatedAt.After(after) ||
		page[0].CreatedAt.Location() != time.UTC {
		t.Errorf("the inline blob is listed as %+v; want stored at the wall-clock time, between %v and %v, in UTC", page, before, after)
	}

	// Deleting the archive drops the reference (recording an intent) and
	// leaves the bytes to whoever deletes the blob.
	_, err = s.DeleteArchive(ctx, acct, "v", "small", at(time.Hour))
	must(t, "DeleteArchive", err)
	wantReferenced(t, s, false, inlineKey(7))
	wantInline(t, s, inlineKey(7), data)
	intents, err := s.BlobIntents(ctx, time.Now().Add(time.Hour), 100)
	must(t, "BlobIntents", err)
	if !slices.Contains(intents, inlineKey(7)) {
		t.Errorf("no intent for the inline blob of a deleted archive: %q", intents)
	}
	must(t, "DeleteInlineBlob", s.DeleteInlineBlob(ctx, inlineKey(7)))
	wantNoInline(t, s, inlineKey(7))
}
