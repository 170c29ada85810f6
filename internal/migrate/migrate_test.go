package migrate

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

const acct = "111122223333"

// openStores opens SQLite + disk stores in a fresh directory.
func openStores(t *testing.T) (Stores, string) {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	return Stores{Meta: meta.Roles(), Blobs: blobs}, dir
}

// populate writes an installation through the service: an account with a
// key and a user, a vault with tags, an access policy and a Locked lock,
// and archives of several segments.
func populate(t *testing.T, st Stores) (archives map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	svc := &glacier.Service{Stores: st.Meta, Blobs: st.Blobs, Clock: clock.Real{}, Region: "us-east-1"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	must(st.Meta.Identity.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: now}))
	must(st.Meta.Identity.CreateAccessKey(ctx, glacier.AccessKey{ID: "AKIAROOTKEY000000001", Secret: strings.Repeat("s", 40), AccountID: acct, CreatedAt: now}))
	must(st.Meta.Identity.CreateUser(ctx, glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICE", CreatedAt: now}))
	must(st.Meta.Identity.CreateAccessKey(ctx, glacier.AccessKey{ID: "AKIAALICEKEY00000001", Secret: strings.Repeat("a", 40), AccountID: acct, UserName: "alice", CreatedAt: now}))
	root := &glacier.Caller{Principal: glacier.RootPrincipal(acct, "AKIAROOTKEY000000001")}

	_, err := svc.CreateVault(ctx, root, acct, "records")
	must(err)
	must(svc.AddTagsToVault(ctx, root, acct, "records", map[string]string{"LegalHold": "false"}))
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`
	must(svc.SetVaultAccessPolicy(ctx, root, acct, "records", policy))
	lockID, err := svc.InitiateVaultLock(ctx, root, acct, "records", policy)
	must(err)
	must(svc.CompleteVaultLock(ctx, root, acct, "records", lockID))

	archives = map[string][]byte{}
	for _, size := range []int{1, 3<<20 + 7} {
		data := bytes.Repeat([]byte{byte(size)}, size)
		a, err := svc.UploadArchive(ctx, root, acct, "records", "archive", glacier.Body{R: bytes.NewReader(data), Size: int64(size), TreeHash: treehash.Sum(data)})
		must(err)
		archives[a.ID] = data
	}
	// A multipart archive: three segments.
	u, err := svc.InitiateMultipartUpload(ctx, root, acct, "records", 1<<20, "multi")
	must(err)
	data := make([]byte, 2<<20+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for start := 0; start < len(data); start += 1 << 20 {
		part := data[start:min(start+1<<20, len(data))]
		_, err := svc.UploadMultipartPart(ctx, root, acct, "records", u.ID, int64(start),
			glacier.Body{R: bytes.NewReader(part), Size: int64(len(part)), TreeHash: treehash.Sum(part)})
		must(err)
	}
	a, err := svc.CompleteMultipartUpload(ctx, root, acct, "records", u.ID, int64(len(data)), treehash.Sum(data))
	must(err)
	archives[a.ID] = data
	return archives
}

// readArchive reads an archive's bytes from a pair of stores.
func readArchive(t *testing.T, st Stores, id string) []byte {
	t.Helper()
	ctx := context.Background()
	a, err := st.Meta.Archives.GetArchive(ctx, id)
	if err != nil {
		t.Fatalf("archive %s: %v", id, err)
	}
	var out []byte
	for _, s := range a.Segments {
		r, err := st.Blobs.Open(ctx, s.BlobKey, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestMigrateCopiesEverythingAndCanBeRerun(t *testing.T) {
	ctx := context.Background()
	src, _ := openStores(t)
	archives := populate(t, src)
	dst, _ := openStores(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	stats, err := Run(ctx, src, dst, log)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Accounts != 1 || stats.Keys != 2 || stats.Users != 1 || stats.Vaults != 1 || stats.Archives != len(archives) || stats.Locks != 1 {
		t.Errorf("stats = %+v", stats)
	}
	for id, want := range archives {
		if got := readArchive(t, dst, id); !bytes.Equal(got, want) {
			t.Errorf("archive %s: %d bytes differ after migration", id, len(want))
		}
		leaves, err := dst.Meta.Archives.ArchiveLeaves(ctx, id)
		if err != nil || treehash.Reduce(leaves) != treehash.Sum(want) {
			t.Errorf("archive %s: target leaves do not reduce to its tree hash (%v)", id, err)
		}
	}
	l, err := dst.Meta.Policies.GetLock(ctx, acct, "records")
	if err != nil || l == nil || l.State != glacier.LockLocked {
		t.Errorf("target lock = %+v, %v; want Locked", l, err)
	}
	if k, err := dst.Meta.Identity.GetAccessKey(ctx, "AKIAALICEKEY00000001"); err != nil || k.UserName != "alice" || k.Secret != strings.Repeat("a", 40) {
		t.Errorf("user key in target = %+v, %v", k, err)
	}
	if tags, err := dst.Meta.Vaults.GetTags(ctx, acct, "records"); err != nil || tags["LegalHold"] != "false" {
		t.Errorf("tags in target = %v, %v", tags, err)
	}
	v, err := dst.Meta.Vaults.GetVault(ctx, acct, "records")
	if err != nil || v.NumberOfArchives != int64(len(archives)) {
		t.Errorf("target vault = %+v, %v", v, err)
	}

	// A second run copies nothing again and changes nothing.
	again, err := Run(ctx, src, dst, log)
	if err != nil {
		t.Fatal(err)
	}
	if again.Archives != 0 || again.ArchivesSkipped != len(archives) || again.Accounts != 0 || again.Keys != 0 || again.Locks != 0 {
		t.Errorf("second run stats = %+v, want everything skipped", again)
	}
	if v2, _ := dst.Meta.Vaults.GetVault(ctx, acct, "records"); v2.NumberOfArchives != v.NumberOfArchives {
		t.Errorf("second run changed the archive count: %d → %d", v.NumberOfArchives, v2.NumberOfArchives)
	}
}

// TestMigrateRefusesCorruptArchives flips a byte of a stored blob: the
// migration stops naming the archive and the target never lists it.
func TestMigrateRefusesCorruptArchives(t *testing.T) {
	ctx := context.Background()
	src, dir := openStores(t)
	archives := populate(t, src)
	var victim string
	for id, data := range archives {
		if len(data) > 1 {
			victim = id
			break
		}
	}
	a, err := src.Meta.Archives.GetArchive(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "archives", "blobs", filepath.FromSlash(a.Segments[0].BlobKey))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the blob file (layout of internal/blob/disk): %v", err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	dst, _ := openStores(t)
	_, err = Run(ctx, src, dst, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("migration of a corrupt archive: err = %v, want one naming %s as corrupt", err, victim)
	}
	if _, err := dst.Meta.Archives.GetArchive(ctx, victim); !glacier.IsNotFound(err) {
		t.Errorf("the corrupt archive reached the target: %v", err)
	}
}

// TestMigrateCarriesTheRegion: the installation's recorded region comes
// along, and a target already fixed to another region is refused.
func TestMigrateCarriesTheRegion(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, _ := openStores(t)
	if err := src.Meta.Settings.PutSetting(ctx, regionSetting, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	dst, _ := openStores(t)
	if _, err := Run(ctx, src, dst, log); err != nil {
		t.Fatal(err)
	}
	if v, _ := dst.Meta.Settings.GetSetting(ctx, regionSetting); v != "eu-west-1" {
		t.Errorf("target region %q, want eu-west-1", v)
	}
	other, _ := openStores(t)
	if err := other.Meta.Settings.PutSetting(ctx, regionSetting, "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, src, other, log); err == nil || !strings.Contains(err.Error(), "eu-west-1") || !strings.Contains(err.Error(), "us-east-1") {
		t.Errorf("migrating into a us-east-1 installation: %v, want a refusal naming both regions", err)
	}
}
