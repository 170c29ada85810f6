package glacier_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// blobFile returns the path of the one blob file that appeared during fn.
func (e *env) blobFile(fn func()) string {
	e.t.Helper()
	before := map[string]bool{}
	for _, f := range e.snapshot()["blobs"] {
		before[f] = true
	}
	fn()
	var added []string
	for _, f := range e.snapshot()["blobs"] {
		if !before[f] {
			added = append(added, f)
		}
	}
	if len(added) != 1 {
		e.t.Fatalf("%d blob files appeared, want 1: %v", len(added), added)
	}
	name, _, _ := strings.Cut(added[0], " ")
	return filepath.Join(e.blobDir, name)
}

// flipByte damages a stored blob in place.
func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedArchives: bytes that no longer match the hashes stored at
// upload are never served: a retrieval job fails, a download of a job
// that succeeded earlier is an error, and the scrubber records the damage
// until the archive is gone.
func TestDamagedArchives(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	var a, b glacier.Archive
	fileA := e.blobFile(func() { a = e.mustArchive("v", payload(2*mib+10)) })
	fileB := e.blobFile(func() { b = e.mustArchive("v", payload(100)) })

	early, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	if j, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", early.ID); j.Status != glacier.JobSucceeded {
		t.Fatalf("job before the damage: %s %s", j.Status, j.StatusMessage)
	}

	var c glacier.Archive
	fileC := e.blobFile(func() { c = e.mustArchive("v", payload(200)) })
	flipByte(t, fileA, mib+5)
	flipByte(t, fileB, 50)
	if err := os.Remove(fileC); err != nil {
		t.Fatal(err)
	}
	missing, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: c.ID})
	if err != nil {
		t.Fatal(err)
	}

	late, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	j, err := s.DescribeJob(ctx, owner, ownerAccount, "v", late.ID)
	if err != nil || j.Status != glacier.JobFailed || !strings.Contains(j.StatusMessage, "The archive's stored bytes are damaged or missing and cannot be retrieved") {
		t.Errorf("the retrieval of a damaged archive: %s %q, %v", j.Status, j.StatusMessage, err)
	}
	if j, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", missing.ID); j.Status != glacier.JobFailed || !strings.Contains(j.StatusMessage, "damaged or missing") {
		t.Errorf("the retrieval of a missing archive: %s %q", j.Status, j.StatusMessage)
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", late.ID, nil)
	wantErr(t, err, glacier.KindInvalidParameter, "The job is not currently available for download")

	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", early.ID, nil)
	var de *glacier.DamageError
	if err == nil || !errors.As(err, &de) || de.ArchiveID != b.ID {
		t.Errorf("downloading damaged bytes: %v; want a DamageError for %s", err, b.ID)
	}

	p, err := s.Scrub(ctx, glacier.ScrubOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Archives != 3 || p.Damaged != 3 {
		t.Errorf("scrub %+v; want 3 archives, 3 damaged", p)
	}
	recs, err := s.DamagedArchives(ctx)
	if err != nil || len(recs) != 3 {
		t.Fatalf("DamagedArchives = %+v, %v", recs, err)
	}
	if c := s.IntegrityCounters(); c.DamageFound < 2 || c.BytesChecked == 0 {
		t.Errorf("counters %+v", c)
	}
	// A deleted archive loses its record at the next pass.
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Scrub(ctx, glacier.ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.DamagedArchives(ctx); len(recs) != 2 {
		t.Errorf("after deleting one: %+v", recs)
	}
}

// TestSelectJob: a select job writes job.txt when accepted, its results
// and manifest when due, and is not downloadable from the vault; without
// a select output the job type is refused.
func TestSelectJob(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("alpha,1\nbeta,2\ngamma,3\n"))
	req := selectRequest(a.ID)
	req.SelectParameters.Expression = "SELECT s._1 FROM archive s WHERE s._2 = '2'"
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", req)
	if err != nil {
		t.Fatal(err)
	}
	if keys := e.sel.keys(); len(keys) != 1 || !strings.HasSuffix(keys[0], "job.txt") {
		t.Errorf("objects after InitiateJob: %v; want job.txt", keys)
	}
	e.advance(3*time.Hour + time.Second)
	got, err := s.DescribeJob(ctx, owner, ownerAccount, "v", j.ID)
	if err != nil || got.Status != glacier.JobSucceeded {
		t.Fatalf("select job %s %q, %v", got.Status, got.StatusMessage, err)
	}
	var results []byte
	e.sel.mu.Lock()
	for k, v := range e.sel.puts {
		if strings.Contains(k, "/results/") {
			results = append(results, v...)
		}
	}
	manifest := false
	for k := range e.sel.puts {
		manifest = manifest || strings.HasSuffix(k, "result_manifest.txt")
	}
	e.sel.mu.Unlock()
	if string(results) != "beta\n" || !manifest {
		t.Errorf("results %q, manifest %v; want \"beta\\n\" and a manifest (objects %v)", results, manifest, e.sel.keys())
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", j.ID, nil)
	wantErr(t, err, glacier.KindInvalidParameter, "Select jobs write their output to Amazon S3", "in bucket results")

	e.svc.SelectOutput = nil
	e.failsCleanly("select without an output", glacier.KindInvalidParameter, func() error {
		_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", selectRequest(a.ID))
		return err
	}, "select jobs are not enabled on this server")
	bad := selectRequest(a.ID)
	bad.SelectParameters.Expression = "DROP TABLE archive"
	e.svc.SelectOutput = e.sel
	e.failsCleanly("a bad expression", glacier.KindInvalidParameter, func() error {
		_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", bad)
		return err
	}, "Invalid Select expression")
}

// TestReset: a test installation returns to empty; accounts and users
// stay.
func TestReset(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	e.mustArchive("v", []byte("gone soon"))
	if _, err := s.PurchaseProvisionedCapacity(ctx, owner, ownerAccount); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDataRetrievalPolicy(ctx, owner, ownerAccount, []glacier.RetrievalPolicy{{Strategy: "FreeTier"}}); err != nil {
		t.Fatal(err)
	}
	users := e.snapshot()["table users"]
	n, err := s.Reset(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Reset = %d, %v; want 1 blob removed", n, err)
	}
	snap := e.snapshot()
	if len(snap["blobs"]) != 0 || len(snap["table vaults"]) != 0 || len(snap["table archives"]) != 0 || len(snap["table provisioned_capacity"]) != 0 {
		t.Errorf("after Reset: %d blobs, %d vaults, %d archives, %d capacity units", len(snap["blobs"]), len(snap["table vaults"]), len(snap["table archives"]), len(snap["table provisioned_capacity"]))
	}
	if p, _ := s.GetDataRetrievalPolicy(ctx, owner, ownerAccount); p.Strategy != "None" {
		t.Errorf("retrieval policy after Reset: %+v", p)
	}
	if strings.Join(snap["table users"], "\n") != strings.Join(users, "\n") || len(snap["table accounts"]) != 2 {
		t.Errorf("Reset changed the identities")
	}
}

// TestImportArchive: an imported archive keeps its id and date; the same
// import again is a no-op; the id with other content is a conflict, and
// bytes that do not match their claims are not stored.
func TestImportArchive(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	data := payload(5000)
	created := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	imp := glacier.ImportedArchive{ID: strings.Repeat("A", 138), Description: "from AWS", CreatedAt: created, Size: int64(len(data)), TreeHash: treehash.Sum(data)}
	if ok, err := s.ImportArchive(ctx, ownerAccount, "v", imp, bytes.NewReader(data)); err != nil || !ok {
		t.Fatalf("ImportArchive = %v, %v", ok, err)
	}
	before := e.snapshot()
	if ok, err := s.ImportArchive(ctx, ownerAccount, "v", imp, bytes.NewReader(data)); err != nil || ok {
		t.Errorf("a repeated import = %v, %v; want false, nil", ok, err)
	}
	e.unchanged(before, "a repeated import")
	if done, err := s.ImportState(ctx, ownerAccount, "v", imp); err != nil || !done {
		t.Errorf("ImportState = %v, %v", done, err)
	}
	other := imp
	other.Size++
	e.failsCleanly("the id with other content", glacier.KindConflict, func() error {
		_, err := s.ImportArchive(ctx, ownerAccount, "v", other, bytes.NewReader(append(data, 'x')))
		return err
	}, "already exists in vault v with different content")
	fresh := imp
	fresh.ID = strings.Repeat("B", 138)
	e.refusesUpload("bytes that do not match", glacier.KindInvalidParameter, func() error {
		wrong := payload(5000)
		wrong[10]++
		_, err := s.ImportArchive(ctx, ownerAccount, "v", fresh, bytes.NewReader(wrong))
		return err
	}, "Checksum mismatch")
	// The imported archive is retrievable, with its original date in the
	// inventory's terms (ArchiveAgeInDays counts from it).
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: imp.ID})
	if err != nil || j.ArchiveSize != int64(len(data)) {
		t.Fatalf("a job on the imported archive: %+v, %v", j, err)
	}
}

// TestSelectJobRules: every SelectParameters and OutputLocation rule
// refuses the job before anything is written.
func TestSelectJobRules(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("a,b\n"))
	with := func(f func(*glacier.JobRequest)) glacier.JobRequest {
		r := selectRequest(a.ID)
		loc := *r.OutputLocation.S3
		r.OutputLocation = &glacier.OutputLocation{S3: &loc}
		p := *r.SelectParameters
		r.SelectParameters = &p
		f(&r)
		return r
	}
	for _, c := range []struct {
		what string
		req  glacier.JobRequest
		kind glacier.Kind
		frag string
	}{
		{"no bucket", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.BucketName = "" }), glacier.KindMissingParameter, "OutputLocation.S3.BucketName"},
		{"no prefix", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.Prefix = "" }), glacier.KindMissingParameter, "OutputLocation.S3.Prefix"},
		{"a long prefix", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.Prefix = strings.Repeat("p", 513) }), glacier.KindInvalidParameter, "513 bytes is longer than the maximum of 512"},
		{"a storage class", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.StorageClass = "GLACIER" }), glacier.KindInvalidParameter, `Invalid OutputLocation.S3.StorageClass: "GLACIER"`},
		{"a canned ACL", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.CannedACL = "everyone" }), glacier.KindInvalidParameter, `Invalid OutputLocation.S3.CannedACL: "everyone"`},
		{"a bucket name", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.BucketName = "Bad_Bucket" }), glacier.KindInvalidParameter, `"Bad_Bucket" is not a bucket name`},
		{"KMS fields with AES256", with(func(r *glacier.JobRequest) {
			r.OutputLocation.S3.Encryption = &glacier.Encryption{EncryptionType: "AES256", KMSKeyId: "k"}
		}), glacier.KindInvalidParameter, "KMSKeyId and KMSContext are only allowed with EncryptionType aws:kms"},
		{"an encryption type", with(func(r *glacier.JobRequest) {
			r.OutputLocation.S3.Encryption = &glacier.Encryption{EncryptionType: "ROT13"}
		}), glacier.KindInvalidParameter, `EncryptionType: "ROT13"`},
		{"a grant without grantee", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.AccessControlList = []glacier.Grant{{}} }), glacier.KindMissingParameter, "AccessControlList[0].Grantee.Type"},
		{"a grantee type", with(func(r *glacier.JobRequest) {
			r.OutputLocation.S3.AccessControlList = []glacier.Grant{{Grantee: &glacier.Grantee{Type: "Everyone"}}}
		}), glacier.KindInvalidParameter, `Invalid grantee type: "Everyone"`},
		{"a permission", with(func(r *glacier.JobRequest) {
			r.OutputLocation.S3.AccessControlList = []glacier.Grant{{Grantee: &glacier.Grantee{Type: "Group", URI: "u"}, Permission: "ALL"}}
		}), glacier.KindInvalidParameter, `Invalid permission: "ALL"`},
		{"a grantee without id", with(func(r *glacier.JobRequest) {
			r.OutputLocation.S3.AccessControlList = []glacier.Grant{{Grantee: &glacier.Grantee{Type: "CanonicalUser"}}}
		}), glacier.KindMissingParameter, "the CanonicalUser grantee of AccessControlList[0] needs its ID"},
		{"an empty tag key", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.Tagging = map[string]string{"": "v"} }), glacier.KindInvalidParameter, "tag keys are 1 to 128 characters"},
		{"a metadata key", with(func(r *glacier.JobRequest) { r.OutputLocation.S3.UserMetadata = map[string]string{"a b": "v"} }), glacier.KindInvalidParameter, `UserMetadata key: "a b"`},
		{"no select parameters", with(func(r *glacier.JobRequest) { r.SelectParameters = nil }), glacier.KindMissingParameter, "Required parameter missing: SelectParameters"},
		{"no expression type", with(func(r *glacier.JobRequest) { r.SelectParameters.ExpressionType = "" }), glacier.KindMissingParameter, "SelectParameters.ExpressionType"},
		{"an expression type", with(func(r *glacier.JobRequest) { r.SelectParameters.ExpressionType = "XPATH" }), glacier.KindInvalidParameter, `Invalid ExpressionType: "XPATH". It must be SQL`},
		{"no expression", with(func(r *glacier.JobRequest) { r.SelectParameters.Expression = " " }), glacier.KindMissingParameter, "SelectParameters.Expression"},
		{"a field delimiter", with(func(r *glacier.JobRequest) {
			r.SelectParameters.InputSerialization = &glacier.InputSerialization{CSV: &glacier.CSVInput{FieldDelimiter: ",,"}}
		}), glacier.KindInvalidParameter, "Invalid InputSerialization.csv"},
		{"a tier", with(func(r *glacier.JobRequest) { r.Tier = "Slow" }), glacier.KindInvalidParameter, `Invalid tier: "Slow"`},
	} {
		e.failsCleanly(c.what, c.kind, func() error {
			_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", c.req)
			return err
		}, c.frag)
	}
}

// TestFreeTierDefaultAllowance: without a configured allowance, FreeTier
// allows 5% of the account's stored bytes a month, prorated daily.
func TestFreeTierDefaultAllowance(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", payload(4*mib)) // allowance 4 MiB / 20 / 30 ≈ 7 KiB a day
	if err := s.SetDataRetrievalPolicy(ctx, owner, ownerAccount, []glacier.RetrievalPolicy{{Strategy: "FreeTier"}}); err != nil {
		t.Fatal(err)
	}
	e.failsCleanly("a MiB over the default allowance", glacier.KindPolicyEnforced, func() error {
		_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Range: &glacier.RetrievalRange{Start: 0, End: 1048575}})
		return err
	}, "InitiateJob request denied by current data retrieval policy.")
	small := e.mustArchive("v", payload(1000))
	if _, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: small.ID}); err != nil {
		t.Errorf("1000 bytes within the allowance: %v", err)
	}
}
