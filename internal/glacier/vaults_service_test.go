package glacier_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// refusesUpload is failsCleanly for calls that stream a body: the service
// records a blob intent (a housekeeping row, kept on its own wall clock)
// before it writes a blob, so that row may stay behind; no blob, and no
// other row, may.
func (e *env) refusesUpload(what string, kind glacier.Kind, call func() error, fragments ...string) {
	e.t.Helper()
	before := e.snapshot()
	err := call()
	wantErr(e.t, err, kind, fragments...)
	e.unchanged(before, what, "table blob_intents")
}

func TestCreateVault(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.MaxVaults = 2 })
	s := e.svc
	v, err := s.CreateVault(ctx, owner, ownerAccount, "photos")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "photos" || v.AccountID != ownerAccount || v.CreatedAt.IsZero() {
		t.Errorf("created %+v", v)
	}
	// Idempotent: the same vault comes back, nothing new is stored.
	before := e.snapshot()
	again, err := s.CreateVault(ctx, owner, ownerAccount, "photos")
	if err != nil || !again.CreatedAt.Equal(v.CreatedAt) {
		t.Errorf("CreateVault again = %+v, %v; want the first vault", again, err)
	}
	e.unchanged(before, "a repeated CreateVault")

	for _, c := range []struct{ name, frag string }{
		{"", "must be 1 to 255 characters long"},
		{strings.Repeat("a", 256), "256 characters is longer than the maximum of 255"},
		{"bad/name", `"bad/name" contains a character other than`},
		{"spa ce", "contains a character other than"},
	} {
		e.failsCleanly("CreateVault "+c.name, glacier.KindInvalidParameter, func() error {
			_, err := s.CreateVault(ctx, owner, ownerAccount, c.name)
			return err
		}, "Invalid vault name", c.frag)
	}
	if _, err := s.CreateVault(ctx, owner, ownerAccount, strings.Repeat("a", 255)); err != nil {
		t.Errorf("a 255-character name: %v", err)
	}
	e.failsCleanly("the vault over the limit", glacier.KindLimitExceeded, func() error {
		_, err := s.CreateVault(ctx, owner, ownerAccount, "third")
		return err
	}, "The maximum number of vaults (2) has been reached for account "+ownerAccount)
	// The limit is per account.
	if _, err := s.CreateVault(ctx, root(otherAccount), otherAccount, "third"); err != nil {
		t.Errorf("another account's first vault: %v", err)
	}
}

func TestDescribeAndListVaults(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	_, err := s.DescribeVault(ctx, owner, ownerAccount, "nope")
	wantErr(t, err, glacier.KindNotFound, "Vault not found for ARN: arn:aws:glacier:us-east-1:"+ownerAccount+":vaults/nope")

	for _, n := range []string{"c", "a", "b", "d", "e"} {
		e.mustVault(n)
	}
	data := payload(3000)
	e.mustArchive("a", data)
	e.mustArchive("a", data[:10])
	v, err := s.DescribeVault(ctx, owner, ownerAccount, "a")
	if err != nil {
		t.Fatal(err)
	}
	if v.NumberOfArchives != 2 || v.SizeInBytes != 3010 || v.LastInventoryAt.IsZero() {
		t.Errorf("DescribeVault = %d archives, %d bytes, inventory %v; want 2, 3010 and the last write", v.NumberOfArchives, v.SizeInBytes, v.LastInventoryAt)
	}

	// Pages in name order, with the next page's first name as marker.
	var names []string
	from := ""
	for {
		vs, next, err := s.ListVaults(ctx, owner, ownerAccount, from, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) > 2 {
			t.Fatalf("page of %d", len(vs))
		}
		for _, v := range vs {
			names = append(names, v.Name)
		}
		if next == "" {
			break
		}
		from = next
	}
	if got := strings.Join(names, ","); got != "a,b,c,d,e" {
		t.Errorf("ListVaults pages = %s", got)
	}
	// Another account sees only its own.
	vs, _, err := s.ListVaults(ctx, root(otherAccount), otherAccount, "", 10)
	if err != nil || len(vs) != 0 {
		t.Errorf("another account's ListVaults = %v, %v", vs, err)
	}
}

func TestDeleteVault(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("full")
	a := e.mustArchive("full", []byte("keep me"))
	e.failsCleanly("DeleteVault of a vault with an archive", glacier.KindInvalidParameter, func() error {
		return s.DeleteVault(ctx, owner, ownerAccount, "full")
	}, "Vault not empty or recently written to: arn:aws:glacier:us-east-1:"+ownerAccount+":vaults/full")

	if err := s.DeleteArchive(ctx, owner, ownerAccount, "full", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVault(ctx, owner, ownerAccount, "full"); err != nil {
		t.Fatalf("DeleteVault after its archive went: %v", err)
	}
	e.failsCleanly("DeleteVault of a deleted vault", glacier.KindNotFound, func() error {
		return s.DeleteVault(ctx, owner, ownerAccount, "full")
	}, "Vault not found for ARN")
}

// TestDeleteVaultWaitsForInventory: with periodic inventories, a vault
// written since its last inventory is not empty yet (operations.md §4.2),
// and DescribeVault reports the inventory's counts, not the live ones.
func TestDeleteVaultWaitsForInventory(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.InventoryInterval = 24 * time.Hour })
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("short-lived"))
	if v, _ := s.DescribeVault(ctx, owner, ownerAccount, "v"); v.NumberOfArchives != 0 {
		t.Errorf("before any inventory DescribeVault counts %d archives, want 0", v.NumberOfArchives)
	}
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Fatal(err)
	}
	e.failsCleanly("DeleteVault written since its inventory", glacier.KindInvalidParameter, func() error {
		return s.DeleteVault(ctx, owner, ownerAccount, "v")
	}, "Vault not empty or recently written to")
	e.advance(25 * time.Hour) // the inventory is taken
	v, err := s.DescribeVault(ctx, owner, ownerAccount, "v")
	if err != nil || v.LastInventoryAt.IsZero() {
		t.Fatalf("after the inventory: %+v, %v", v, err)
	}
	if err := s.DeleteVault(ctx, owner, ownerAccount, "v"); err != nil {
		t.Errorf("DeleteVault after an empty inventory: %v", err)
	}
}

func TestUploadArchive(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	data := payload(3<<20 + 5)
	a, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "  leading spaces go", body(data))
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(data)) || a.TreeHash != treehash.Sum(data) || a.Description != "leading spaces go" || len(a.ID) != 138 {
		t.Errorf("archive %+v", a)
	}

	wrong := body(data)
	wrong.TreeHash = treehash.Sum([]byte("other"))
	e.refusesUpload("a tree-hash mismatch", glacier.KindInvalidParameter, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", wrong)
		return err
	}, "Checksum mismatch: expected "+treehash.Sum([]byte("other")).String()+", computed "+treehash.Sum(data).String())

	short := body(data)
	short.Size++
	e.refusesUpload("a body shorter than its length", glacier.KindRequestTimeout, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", short)
		return err
	}, "The request body ended after")

	long := body(data)
	long.Size--
	e.refusesUpload("a body longer than its length", glacier.KindInvalidParameter, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", long)
		return err
	}, "The request body is longer than its Content-Length")

	signed := body(data)
	// The wire layer's payload-hash check: whatever it refuses with comes
	// back unchanged, and nothing is stored.
	signed.CheckLinear = func(treehash.Hash) error {
		return glacier.Errorf(glacier.KindInvalidParameter, "payload hash differs")
	}
	e.refusesUpload("a payload hash mismatch", glacier.KindInvalidParameter, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", signed)
		return err
	}, "payload hash differs")

	e.refusesUpload("a stalled body", glacier.KindRequestTimeout, func() error {
		b := body(data)
		b.R = stallingReader{bytes.NewReader(data[:100])}
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", "", b)
		return err
	}, "was not received in full")

	for _, c := range []struct {
		what string
		size int64
		desc string
		frag string
	}{
		{"an empty archive", 0, "", "Invalid Content-Length: 0"},
		{"an archive over 4 GiB", glacier.MaxArchiveSize + 1, "", "must be between 1 and 4294967296 bytes"},
		{"a long description", 1, strings.Repeat("d", 1025), "1025 characters is longer than the maximum of 1024"},
		{"a non-ASCII description", 1, "caf\u00e9", "is not printable ASCII"},
	} {
		e.failsCleanly(c.what, glacier.KindInvalidParameter, func() error {
			_, err := s.UploadArchive(ctx, owner, ownerAccount, "v", c.desc, glacier.Body{R: bytes.NewReader([]byte("x")), Size: c.size, TreeHash: treehash.Sum([]byte("x"))})
			return err
		}, c.frag)
	}
	e.failsCleanly("an upload to a missing vault", glacier.KindNotFound, func() error {
		_, err := s.UploadArchive(ctx, owner, ownerAccount, "nope", "", body(data))
		return err
	}, "Vault not found for ARN")
}

// stallingReader returns its bytes, then a connection error.
type stallingReader struct{ r *bytes.Reader }

func (r stallingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		return n, errors.New("connection reset")
	}
	return n, nil
}

func TestDeleteArchive(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	e.mustVault("w")
	a := e.mustArchive("v", []byte("bytes"))
	e.failsCleanly("an archive id of the wrong shape", glacier.KindNotFound, func() error {
		return s.DeleteArchive(ctx, owner, ownerAccount, "v", "bad id!")
	}, `"bad id!" is not a valid archive ID`)
	e.failsCleanly("an archive of another vault", glacier.KindInvalidParameter, func() error {
		return s.DeleteArchive(ctx, owner, ownerAccount, "w", a.ID)
	}, "Invalid vault name: arn:aws:glacier:us-east-1:"+ownerAccount+":vaults/w")
	e.failsCleanly("an archive in a missing vault", glacier.KindNotFound, func() error {
		return s.DeleteArchive(ctx, owner, ownerAccount, "nope", a.ID)
	}, "Vault not found")
	before := e.snapshot()
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Fatal(err)
	}
	if before.diff(e.snapshot()) == "" {
		t.Fatal("DeleteArchive changed nothing")
	}
	if blobs := e.snapshot()["blobs"]; len(blobs) != 0 {
		t.Errorf("blobs left after the only archive was deleted: %v", blobs)
	}
	// Deleting it again succeeds and changes nothing, as in AWS.
	before = e.snapshot()
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Errorf("a repeated DeleteArchive: %v", err)
	}
	e.unchanged(before, "a repeated DeleteArchive")
}
