package glacier_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// inlineUpTo keeps archives of at most n bytes inline.
func inlineUpTo(n int64) func(*glacier.Service) {
	return func(s *glacier.Service) { s.InlineArchiveMax = n }
}

// inlineRows returns the keys of the inline blobs stored.
func (e *env) inlineRows() []string {
	e.t.Helper()
	var keys []string
	for _, r := range e.snapshot()["table inline_blobs"] {
		k, _, _ := strings.Cut(r, " | ")
		keys = append(keys, k)
	}
	return keys
}

// retrieve runs an archive retrieval job to completion and returns its
// whole output and the output's tree hash.
func (e *env) retrieve(a glacier.Archive) ([]byte, treehash.Hash) {
	e.t.Helper()
	ctx := context.Background()
	j, err := e.svc.InitiateJob(ctx, owner, ownerAccount, a.VaultName, glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	out, err := e.svc.GetJobOutput(ctx, owner, ownerAccount, a.VaultName, j.ID, nil)
	if err != nil {
		e.t.Fatalf("GetJobOutput: %v", err)
	}
	var th treehash.Hash
	if out.TreeHash != nil {
		th = *out.TreeHash
	}
	return readAll(e.t, out.Body), th
}

// TestSmallArchiveIsInline: an archive at or below the threshold is kept
// in the metadata database with its row — no blob file — and reads back
// byte-exact through a retrieval job, whole and in a range; above the
// threshold, or with the threshold 0, it is a file as before.
func TestSmallArchiveIsInline(t *testing.T) {
	ctx := context.Background()
	e := newService(t, inlineUpTo(64<<10))
	s := e.svc
	e.mustVault("v")

	data := payload(4 << 10)
	before := e.snapshot()
	a := e.mustArchive("v", data)
	after := e.snapshot()
	if d := before.diff(after, "table archives", "table archive_segments", "table vaults", "table inline_blobs", "table audit_log", "table audit_head", "table auth_stamps"); d != "" {
		t.Errorf("an inline upload changed more than its rows:\n%s", d)
	}
	if len(after["blobs"]) != 0 {
		t.Errorf("an inline upload wrote blob files: %v", after["blobs"])
	}
	rows := e.inlineRows()
	got, err := s.Archives.GetArchive(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(got.Segments) != 1 || got.Segments[0].BlobKey != rows[0] || !glacier.ValidInlineKey(rows[0]) {
		t.Fatalf("inline rows %q, segments %+v; want one inline blob, the archive's segment", rows, got.Segments)
	}
	if a.Size != int64(len(data)) || a.TreeHash != treehash.Sum(data) {
		t.Errorf("archive %+v", a)
	}
	out, th := e.retrieve(a)
	if !bytes.Equal(out, data) || th != treehash.Sum(data) {
		t.Errorf("retrieved %d bytes with tree hash %s; want %d bytes, %s", len(out), th, len(data), treehash.Sum(data))
	}
	// A range of the output, as GetJobOutput serves it.
	jobs, _, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{}, "", 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("ListJobs = %+v, %v", jobs, err)
	}
	r, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", jobs[0].ID, &glacier.ByteRange{First: 100, Last: 1123})
	if err != nil {
		t.Fatal(err)
	}
	if part := readAll(t, r.Body); !bytes.Equal(part, data[100:1124]) {
		t.Errorf("range of the output: %d bytes, want %d", len(part), 1024)
	}

	// At the threshold: inline; one byte above: a file.
	e.mustArchive("v", payload(64<<10))
	if n := len(e.inlineRows()); n != 2 {
		t.Errorf("an archive of exactly the threshold: %d inline blobs, want 2", n)
	}
	var big glacier.Archive
	e.blobFile(func() { big = e.mustArchive("v", payload(64<<10+1)) })
	if out, _ := e.retrieve(big); !bytes.Equal(out, payload(64<<10+1)) {
		t.Error("the file-stored archive does not read back")
	}
	if n := len(e.inlineRows()); n != 2 {
		t.Errorf("after a large upload: %d inline blobs, want 2", n)
	}

	// Threshold 0: nothing inline.
	off := newService(t)
	off.mustVault("v")
	off.blobFile(func() { off.mustArchive("v", payload(10)) })
	if rows := off.inlineRows(); len(rows) != 0 {
		t.Errorf("with the threshold 0, inline blobs %q", rows)
	}
}

// TestInlineUploadRefusals: a body that fails verification, a refused
// authorization (before or after the body) and a missing vault store
// nothing, inline or elsewhere.
func TestInlineUploadRefusals(t *testing.T) {
	ctx := context.Background()
	e := newService(t, inlineUpTo(64<<10))
	s := e.svc
	e.mustVault("v")
	data := payload(1000)

	wrong := body(data)
	wrong.TreeHash = treehash.Sum([]byte("other"))
	short := body(data)
	short.Size++
	long := body(data)
	long.Size--
	badSig := body(data)
	badSig.CheckLinear = func(treehash.Hash) error {
		return glacier.Errorf(glacier.KindInvalidParameter, "The request signature we calculated does not match")
	}
	deferredDenied := body(data)
	deferredDenied.Deferred = true
	deferredDenied.CheckLinear = func(treehash.Hash) error { return nil }
	deferredForged := body(data)
	deferredForged.Deferred = true
	deferredForged.CheckLinear = func(treehash.Hash) error {
		return glacier.Errorf(glacier.KindInvalidParameter, "The request signature we calculated does not match")
	}
	for _, c := range []struct {
		what   string
		caller *glacier.Caller
		vault  string
		b      glacier.Body
		kind   glacier.Kind
		frag   string
	}{
		{"a tree-hash mismatch", owner, "v", wrong, glacier.KindInvalidParameter, "Checksum mismatch"},
		{"a short body", owner, "v", short, glacier.KindRequestTimeout, "The request body ended after"},
		{"a long body", owner, "v", long, glacier.KindInvalidParameter, "longer than its Content-Length"},
		{"a payload hash that does not match the signature", owner, "v", badSig, glacier.KindInvalidParameter, "signature"},
		{"a refused caller", user(ownerAccount, noPolicyUser), "v", body(data), glacier.KindAccessDenied, ""},
		{"a refused caller whose signature came with the body", user(ownerAccount, noPolicyUser), "v", deferredDenied, glacier.KindAccessDenied, ""},
		{"a forged deferred signature", owner, "v", deferredForged, glacier.KindInvalidParameter, "signature"},
		{"a missing vault", owner, "nope", body(data), glacier.KindNotFound, "Vault not found"},
	} {
		t.Run(c.what, func(t *testing.T) {
			e.failsCleanly(c.what, c.kind, func() error {
				_, err := s.UploadArchive(ctx, c.caller, ownerAccount, c.vault, "", c.b)
				return err
			}, c.frag)
		})
	}
}

// TestInlineBlobLifetime: deleting an inline archive removes its bytes at
// once unless a succeeded job pinned them, in which case the job's output
// stays downloadable until the job is purged; the sweep removes an
// unreferenced inline blob after the grace, and never a referenced one.
func TestInlineBlobLifetime(t *testing.T) {
	ctx := context.Background()
	e := newService(t, inlineUpTo(64<<10))
	s := e.svc
	e.mustVault("v")

	gone := e.mustArchive("v", []byte("deleted at once"))
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", gone.ID); err != nil {
		t.Fatal(err)
	}
	if rows := e.inlineRows(); len(rows) != 0 {
		t.Errorf("after deleting an unpinned inline archive: %q", rows)
	}

	data := []byte("precious inline bytes")
	a := e.mustArchive("v", data)
	done, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Fatal(err)
	}
	if rows := e.inlineRows(); len(rows) != 1 {
		t.Fatalf("the pinned inline blob after the delete: %q", rows)
	}
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", done.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, data) {
		t.Errorf("output after the delete = %q", got)
	}
	// Housekeeping leaves it while the job holds it.
	if _, err := s.ProcessIntents(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Second)); err != nil || n != 0 {
		t.Errorf("Sweep of a pinned inline blob = %d, %v; want 0", n, err)
	}
	// Once the job is purged, the blob goes.
	e.advance(25 * time.Hour)
	if rows := e.inlineRows(); len(rows) != 0 {
		t.Errorf("after the job was purged: %q", rows)
	}

	// A stray inline blob (a migrate or import that stopped before its
	// commit): only after the sweep's grace.
	kept := e.mustArchive("v", []byte("kept"))
	stray := fmt.Sprintf("inline/%032x", 42)
	if n, err := s.Blobs.Put(ctx, stray, strings.NewReader("stray")); err != nil || n != 5 {
		t.Fatalf("Put of an inline key = %d, %v", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("a sweep before the grace = %d, %v; want 0", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Errorf("Sweep = %d, %v; want 1", n, err)
	}
	if rows := e.inlineRows(); len(rows) != 1 {
		t.Errorf("after the sweep: %q; want only the referenced blob", rows)
	}
	if out, _ := e.retrieve(kept); string(out) != "kept" {
		t.Errorf("the referenced inline archive after the sweep: %q", out)
	}
}

// TestInlineDamageIsFound: an inline blob whose bytes changed in the
// database is damage like a changed file: the scrubber records it, a
// retrieval fails, a download of earlier output is refused.
func TestInlineDamageIsFound(t *testing.T) {
	ctx := context.Background()
	e := newService(t, inlineUpTo(64<<10))
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", payload(3000))
	early, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)

	conn, err := sql.Open("sqlite", e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := conn.Exec(`UPDATE inline_blobs SET data = substr(data, 1, 1499) || unhex(printf('%02x', unicode(substr(data, 1500, 1)) # 255)) || substr(data, 1501)`)
	if err != nil {
		// Older SQLite without unhex: flip through a Go round trip.
		var data []byte
		if err := conn.QueryRow(`SELECT data FROM inline_blobs`).Scan(&data); err != nil {
			t.Fatal(err)
		}
		data[1499] ^= 0xff
		res, err = conn.Exec(`UPDATE inline_blobs SET data = ?`, data)
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("damaged %d rows", n)
	}

	p, err := s.Scrub(ctx, glacier.ScrubOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Archives != 1 || p.Damaged != 1 {
		t.Errorf("scrub %+v; want 1 archive, 1 damaged", p)
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", early.ID, nil)
	var de *glacier.DamageError
	if err == nil || !errors.As(err, &de) || de.ArchiveID != a.ID {
		t.Errorf("downloading damaged inline bytes: %v; want a DamageError", err)
	}
	late, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	if j, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", late.ID); j.Status != glacier.JobFailed || !strings.Contains(j.StatusMessage, "damaged") {
		t.Errorf("the retrieval of a damaged inline archive: %s %q", j.Status, j.StatusMessage)
	}
}

// fullBlobs is a blob store whose disk is full: it refuses uploads.
type fullBlobs struct{ glacier.BlobStore }

func (fullBlobs) AdmitUpload() error {
	return &glacier.Error{Kind: glacier.KindUnavailable, Message: "The server's data disk is full: uploads are refused until space is freed"}
}

// TestInlineFollowsTheBlobStore: nothing is inlined where the blob store
// keeps retention (Object Lock holds objects, not database rows) or is an
// archive storage class; a full disk refuses small uploads as it refuses
// large ones, storing nothing.
func TestInlineFollowsTheBlobStore(t *testing.T) {
	ctx := context.Background()

	var rb *retainingBlobs
	e := newService(t, inlineUpTo(64<<10), func(s *glacier.Service) {
		rb = &retainingBlobs{BlobStore: s.Blobs.(glacier.BlobStoreWrapper).UnwrapBlobStore(), clock: s.Clock, until: map[string]time.Time{}}
		s.Blobs = glacier.InlineBlobs(rb, s.Inline)
	})
	e.mustVault("v")
	e.blobFile(func() { e.mustArchive("v", payload(10)) })

	ar, _ := archivalService(t, time.Hour)
	ar.svc.InlineArchiveMax = 64 << 10
	ar.mustVault("v")
	ar.blobFile(func() { ar.mustArchive("v", payload(10)) })

	full := newService(t, inlineUpTo(64<<10), func(s *glacier.Service) {
		s.Blobs = glacier.InlineBlobs(fullBlobs{s.Blobs.(glacier.BlobStoreWrapper).UnwrapBlobStore()}, s.Inline)
	})
	full.mustVault("v")
	full.failsCleanly("a small upload on a full disk", glacier.KindUnavailable, func() error {
		_, err := full.svc.UploadArchive(ctx, owner, ownerAccount, "v", "", body(payload(10)))
		return err
	}, "disk is full")
}
