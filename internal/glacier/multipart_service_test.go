package glacier_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

const mib = 1 << 20

func TestInitiateMultipartUploadRules(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	for _, size := range []int64{0, mib / 2, 3 * mib, 8 << 30, -mib} {
		e.failsCleanly("part size", glacier.KindInvalidParameter, func() error {
			_, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", size, "")
			return err
		}, "Invalid part size: ", "must be a power of two and be between 1048576 and 4294967296 bytes")
	}
	e.failsCleanly("a missing vault", glacier.KindNotFound, func() error {
		_, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "nope", mib, "")
		return err
	}, "Vault not found")
	e.failsCleanly("a bad description", glacier.KindInvalidParameter, func() error {
		_, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "tab\there")
		return err
	}, "is not printable ASCII")
	for _, size := range []int64{mib, 4 << 30} {
		if _, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", size, ""); err != nil {
			t.Errorf("part size %d: %v", size, err)
		}
	}
}

// TestMultipartUpload: parts in any order assemble into an archive whose
// bytes and tree hash are the whole's; the completion rules refuse wrong
// sizes, hashes and gaps without changing anything.
func TestMultipartUpload(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) {
		s.JobDelays = map[string]time.Duration{glacier.TierStandard: 0}
	})
	s := e.svc
	e.mustVault("v")
	data := payload(2*mib + 1234)
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "parts")
	if err != nil {
		t.Fatal(err)
	}
	part := func(start int64) glacier.Body { return body(data[start:min(start+mib, int64(len(data)))]) }
	put := func(start int64, b glacier.Body) (treehash.Hash, error) {
		return s.UploadMultipartPart(ctx, owner, ownerAccount, "v", u.ID, start, b)
	}

	// Range rules.
	e.failsCleanly("a misaligned part", glacier.KindInvalidParameter, func() error {
		_, err := put(1000, body(data[1000:2000]))
		return err
	}, "Invalid Content-Range: bytes 1000-1999/*: the range must start at a multiple of the part size 1048576")
	e.failsCleanly("a negative start", glacier.KindInvalidParameter, func() error {
		_, err := put(-mib, body(data[:10]))
		return err
	}, "Invalid Content-Range: bytes -1048576-")
	e.failsCleanly("a part longer than the part size", glacier.KindInvalidParameter, func() error {
		_, err := put(0, body(data[:mib+1]))
		return err
	}, "the range is 1048577 bytes, longer than the part size 1048576")
	e.failsCleanly("an empty part", glacier.KindInvalidParameter, func() error {
		_, err := put(0, glacier.Body{R: bytes.NewReader(nil), Size: 0})
		return err
	}, "a part must hold at least one byte")
	e.failsCleanly("part 10001", glacier.KindInvalidParameter, func() error {
		_, err := put(glacier.MaxParts*mib, body([]byte("x")))
		return err
	}, "This is part number 10001 for the current multipart upload. It exceeds the limit of 10000 parts.")
	e.failsCleanly("an unknown upload", glacier.KindNotFound, func() error {
		_, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "v", "no-such-upload", 0, part(0))
		return err
	}, "The upload ID was not found: no-such-upload")
	wrong := part(0)
	wrong.TreeHash = treehash.Sum([]byte("nope"))
	e.refusesUpload("a part with a wrong tree hash", glacier.KindInvalidParameter, func() error {
		_, err := put(0, wrong)
		return err
	}, "Checksum mismatch")

	// Parts out of order; the last one short.
	for _, start := range []int64{2 * mib, 0} {
		h, err := put(start, part(start))
		if err != nil || h != part(start).TreeHash {
			t.Fatalf("part at %d: %v, %v", start, h, err)
		}
	}
	whole := treehash.Sum(data)
	e.failsCleanly("completing with a gap", glacier.KindInvalidParameter, func() error {
		_, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, int64(len(data)), whole)
		return err
	}, "Missing content range: no part was uploaded for bytes starting at 1048576")
	if _, err := put(mib, part(mib)); err != nil {
		t.Fatal(err)
	}
	// Uploading a part again replaces it; its old blob goes.
	blobsBefore := len(e.snapshot()["blobs"])
	if _, err := put(mib, part(mib)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.snapshot()["blobs"]); n != blobsBefore {
		t.Errorf("a replaced part left %d blobs, want %d", n, blobsBefore)
	}

	// Paging through the parts.
	got, parts, next, err := s.ListParts(ctx, owner, ownerAccount, "v", u.ID, 0, 2)
	if err != nil || got.PartSize != mib || got.Description != "parts" || len(parts) != 2 || next != 2*mib {
		t.Fatalf("ListParts page 1 = %+v, %d parts, next %d, %v", got, len(parts), next, err)
	}
	if _, parts, next, err = s.ListParts(ctx, owner, ownerAccount, "v", u.ID, next, 2); err != nil || len(parts) != 1 || next != -1 || parts[0].Size != 1234 {
		t.Fatalf("ListParts page 2 = %+v, next %d, %v", parts, next, err)
	}

	e.failsCleanly("completing with a wrong size", glacier.KindInvalidParameter, func() error {
		_, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, int64(len(data))+1, whole)
		return err
	}, "Invalid x-amz-archive-size: 2098387. The uploaded parts hold 2098386 bytes")
	bad := treehash.Sum([]byte("not it"))
	e.failsCleanly("completing with a wrong hash", glacier.KindInvalidParameter, func() error {
		_, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, int64(len(data)), bad)
		return err
	}, "Invalid x-amz-sha256-tree-hash: "+bad.String())

	a, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, int64(len(data)), whole)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(data)) || a.TreeHash != whole || a.Description != "parts" {
		t.Errorf("archive %+v", a)
	}
	// A repeat answers with the same archive and stores nothing.
	before := e.snapshot()
	again, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", u.ID, int64(len(data)), whole)
	if err != nil || again.ID != a.ID {
		t.Errorf("repeated Complete = %v, %v; want archive %s", again.ID, err, a.ID)
	}
	e.unchanged(before, "a repeated Complete")
	// The upload no longer takes parts, nor lists.
	e.failsCleanly("a part after completion", glacier.KindNotFound, func() error {
		_, err := put(0, part(0))
		return err
	}, "The upload ID was not found")
	e.failsCleanly("ListParts after completion", glacier.KindNotFound, func() error {
		_, _, _, err := s.ListParts(ctx, owner, ownerAccount, "v", u.ID, 0, 10)
		return err
	}, "The upload ID was not found")
	e.failsCleanly("Abort after completion", glacier.KindNotFound, func() error {
		return s.AbortMultipartUpload(ctx, owner, ownerAccount, "v", u.ID)
	}, "The upload ID was not found")

	// The assembled archive reads back whole, through a retrieval job.
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", j.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, data) || out.TreeHash == nil || *out.TreeHash != whole {
		t.Errorf("the retrieved archive differs (%d bytes, tree hash %v)", len(got), out.TreeHash)
	}
}

func TestAbortAndListMultipartUploads(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	var ids []string
	for range 3 {
		u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "v", ids[0], 0, body([]byte("part"))); err != nil {
		t.Fatal(err)
	}
	var listed []string
	from := ""
	for {
		us, next, err := s.ListMultipartUploads(ctx, owner, ownerAccount, "v", from, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			listed = append(listed, u.ID)
		}
		if next == "" {
			break
		}
		from = next
	}
	if len(listed) != 3 {
		t.Errorf("listed %d uploads, want 3", len(listed))
	}
	if err := s.AbortMultipartUpload(ctx, owner, ownerAccount, "v", ids[0]); err != nil {
		t.Fatal(err)
	}
	if blobs := e.snapshot()["blobs"]; len(blobs) != 0 {
		t.Errorf("an aborted upload left its part: %v", blobs)
	}
	// Repeating an abort succeeds for a while (operations.md §10.4).
	before := e.snapshot()
	if err := s.AbortMultipartUpload(ctx, owner, ownerAccount, "v", ids[0]); err != nil {
		t.Errorf("a second Abort: %v", err)
	}
	e.unchanged(before, "a second Abort")
	e.failsCleanly("Complete after Abort", glacier.KindNotFound, func() error {
		_, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", ids[0], 4, treehash.Sum([]byte("part")))
		return err
	}, "The upload ID was not found")
	e.failsCleanly("Complete without parts", glacier.KindInvalidParameter, func() error {
		_, err := s.CompleteMultipartUpload(ctx, owner, ownerAccount, "v", ids[1], 0, treehash.Sum(nil))
		return err
	}, "No parts have been uploaded for multipart upload "+ids[1])
	us, _, err := s.ListMultipartUploads(ctx, owner, ownerAccount, "v", "", 10)
	if err != nil || len(us) != 2 {
		t.Errorf("after an abort ListMultipartUploads = %d uploads, %v; want 2", len(us), err)
	}
}

// TestIdleUploadsExpire: an upload without activity beyond the idle
// timeout is discarded on the service clock, parts and all.
func TestIdleUploadsExpire(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.UploadIdleTimeout = time.Hour })
	s := e.svc
	e.mustVault("v")
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "v", mib, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "v", u.ID, 0, body([]byte(strings.Repeat("p", 10)))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Minute)
	if n, err := s.ExpireIdleUploads(ctx); err != nil || n != 0 {
		t.Fatalf("ExpireIdleUploads within the timeout = %d, %v", n, err)
	}
	e.clock.Advance(2 * time.Hour)
	if n, err := s.ExpireIdleUploads(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireIdleUploads past the timeout = %d, %v; want 1", n, err)
	}
	_, _, _, err = s.ListParts(ctx, owner, ownerAccount, "v", u.ID, 0, 10)
	wantErr(t, err, glacier.KindNotFound, "The upload ID was not found")
	if blobs := e.snapshot()["blobs"]; len(blobs) != 0 {
		t.Errorf("an expired upload left its part: %v", blobs)
	}
}
