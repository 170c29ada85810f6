package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/blob/s3"
	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

const floorPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"keep-a-year","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:us-east-1:%s:vaults/%s","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`

// A Deny that also needs SecureTransport=true denies only some requests (not the plain-HTTP ones of this test):
// no floor follows.
const noFloorPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:us-east-1:%s:vaults/%s","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"},"Bool":{"aws:SecureTransport":"true"}}}]}`

func lockVault(t *testing.T, c *glacier.Client, account, vault, doc string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: aws.String(vault),
		Policy: &gtypes.VaultLockPolicy{Policy: aws.String(fmt.Sprintf(doc, account, vault))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: aws.String(vault), LockId: out.LockId}); err != nil {
		t.Fatal(err)
	}
}

type lockStatus struct {
	LockState  string                `json:"lockState"`
	FloorDays  int                   `json:"retentionFloorDays"`
	Reasons    []string              `json:"reasons"`
	ObjectLock bool                  `json:"objectLock"`
	Mode       string                `json:"retentionMode"`
	Progress   *pf.RetentionProgress `json:"progress"`
}

func TestObjectLockRetention(t *testing.T) {
	ctx := context.Background()
	// object-lock=required refuses a bucket without Object Lock.
	plain := testenv.S3(t)
	plain.SetEnv(t)
	if _, err := s3.Open(ctx, plain.URL+"&object-lock=required"); err == nil || !strings.Contains(err.Error(), "does not have S3 Object Lock enabled") {
		t.Fatalf("object-lock=required on a plain bucket: %v", err)
	}

	dir := t.TempDir()
	cfg := testConfig(t, dir) // first: on postgres-s3 it sets the shared bucket's credentials
	bucket, gw := testenv.ObjectLockBucket(t)
	bucket.SetEnv(t)
	cfg.Blobs = bucket.URL + "&object-lock=required"
	cfg.TestClock = true
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.client()
	raw := gw.Client() // the bucket's own (root) credentials

	vault := "records"
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(vault)}); err != nil {
		t.Fatal(err)
	}
	// Archives that exist before the lock: one single upload, one
	// multipart archive of three part objects.
	single, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String(vault), Body: bytes.NewReader([]byte("ledger 2026"))})
	if err != nil {
		t.Fatal(err)
	}
	multi := uploadMultipart(t, c, vault, randomBytes(2<<20+77))

	statusArgs := append([]string{"lock", "status", "--json", "--account-id", ts.AccountID, "--vault", vault, "--blobs", cfg.Blobs}, storeArgs(t, dir)...)
	lockVault(t, c, ts.AccountID, vault, floorPolicy)

	// The background applier covers the existing archives.
	var st lockStatus
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code := runCLI(t, statusArgs...)
		if code != 0 {
			t.Fatalf("lock status: exit %d", code)
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("lock status output %q: %v", out, err)
		}
		if st.Progress != nil && st.Progress.Finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention not applied within 30 s: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.LockState != "Locked" || st.FloorDays != 365 || !st.ObjectLock || st.Mode != "COMPLIANCE" || st.Progress.Archives != 2 || st.Progress.Done != 2 {
		t.Fatalf("lock status %+v (progress %+v)", st, st.Progress)
	}
	// A new archive is retained before its upload is acknowledged.
	after, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String(vault), Body: bytes.NewReader([]byte("ledger 2027"))})
	if err != nil {
		t.Fatal(err)
	}
	afterMulti := uploadMultipart(t, c, vault, randomBytes(1<<20+5))

	keysOf := func(id string) ([]string, time.Time) {
		a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, s := range a.Segments {
			keys = append(keys, s.BlobKey)
		}
		return keys, a.CreatedAt
	}
	total := 0
	for _, id := range []string{*single.ArchiveId, multi, *after.ArchiveId, afterMulti} {
		keys, created := keysOf(id)
		for _, k := range keys {
			total++
			h, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket.Name), Key: aws.String(k)})
			if err != nil {
				t.Fatal(err)
			}
			want := created.Add(365 * 24 * time.Hour)
			got := aws.ToTime(h.ObjectLockRetainUntilDate)
			if h.ObjectLockMode != s3types.ObjectLockModeCompliance || got.Before(want.Add(-time.Second)) || got.After(want.Add(2*time.Second)) {
				t.Fatalf("archive %s object %s: retention %s until %s, want COMPLIANCE until %s", id, k, h.ObjectLockMode, got, want)
			}
		}
	}
	if total != 1+3+1+2 {
		t.Fatalf("%d objects checked, want 7", total)
	}

	// With the bucket's own credentials, the S3 server refuses to delete
	// an archive's object version or to shorten its retention.
	keys, _ := keysOf(*single.ArchiveId)
	vers, err := raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket.Name), Prefix: aws.String(keys[0])})
	if err != nil || len(vers.Versions) != 1 {
		t.Fatalf("versions of %s: %v, %v", keys[0], vers, err)
	}
	if _, err := raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket.Name), Key: aws.String(keys[0]), VersionId: vers.Versions[0].VersionId}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("deleting a retained version: %v", err)
	}
	if _, err := raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket.Name), Key: aws.String(keys[0]), VersionId: vers.Versions[0].VersionId, BypassGovernanceRetention: aws.Bool(true)}); err == nil {
		t.Fatal("deleting a COMPLIANCE-retained version with the governance bypass succeeded")
	}
	if _, err := raw.PutObjectRetention(ctx, &awss3.PutObjectRetentionInput{Bucket: aws.String(bucket.Name), Key: aws.String(keys[0]),
		Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(24 * time.Hour))}}); err == nil {
		t.Fatal("shortening a COMPLIANCE retention succeeded")
	}

	// Through the API the policy refuses the young archive's deletion …
	_, err = c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String(vault), ArchiveId: single.ArchiveId})
	wantAPIError(t, err, "AccessDeniedException", 403)
	// … and allows it once the (test) clock passes the floor. The metadata
	// goes at once; S3 keeps the object until its retention date in real
	// time, and the sweep removes it then.
	ts.advance(t, 366*24*time.Hour)
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String(vault), ArchiveId: single.ArchiveId}); err != nil {
		t.Fatalf("DeleteArchive after the floor: %v", err)
	}
	if _, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, *single.ArchiveId); !pf.IsNotFound(err) {
		t.Fatalf("the deleted archive's metadata: %v", err)
	}
	if _, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket.Name), Key: aws.String(keys[0])}); err != nil {
		t.Fatalf("the retained object should stay until its real date for the sweep: %v", err)
	}
	if ref, err := ts.stores.meta.Roles().Housekeeping.BlobReferenced(ctx, keys[0]); err != nil || ref {
		t.Fatalf("the blob is still referenced (%v, %v): the sweep would never remove it", ref, err)
	}
	if _, err := ts.service.Sweep(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("a sweep meeting a retained blob must not fail: %v", err)
	}

	// A policy with no derivable floor sets no retention, and says so.
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("nofloor")}); err != nil {
		t.Fatal(err)
	}
	lockVault(t, c, ts.AccountID, "nofloor", noFloorPolicy)
	nf, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("nofloor"), Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := runCLI(t, append([]string{"lock", "status", "--account-id", ts.AccountID, "--vault", "nofloor", "--blobs", cfg.Blobs}, storeArgs(t, dir)...)...)
	if !strings.Contains(out, "retention floor:  none") || !strings.Contains(out, "more than one operator") {
		t.Fatalf("lock status of a vault without a floor:\n%s", out)
	}
	nk, _ := keysOf(*nf.ArchiveId)
	h, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket.Name), Key: aws.String(nk[0])})
	if err != nil || h.ObjectLockMode != "" {
		t.Fatalf("an archive of a vault without a floor has retention %q (%v)", h.ObjectLockMode, err)
	}
	// Deleting it removes its object version for real.
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("nofloor"), ArchiveId: nf.ArchiveId}); err != nil {
		t.Fatal(err)
	}
	v2, err := raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket.Name), Prefix: aws.String(nk[0])})
	if err != nil || len(v2.Versions)+len(v2.DeleteMarkers) != 0 {
		t.Fatalf("versions left of a deleted unretained archive: %d + %d markers (%v)", len(v2.Versions), len(v2.DeleteMarkers), err)
	}

	// Resumable: an applier interrupted after the first archive (progress
	// saved, not finished) is finished by the next start.
	setting := "retention/" + ts.AccountID + "/" + vault
	if err := ts.stores.meta.PutSetting(ctx, setting, `{"floorDays":365,"archives":3,"done":1,"last":"`+multi+`","finished":false}`); err != nil {
		t.Fatal(err)
	}
	m.Close()
	// The clean shutdown anchored the audit log, under retention.
	anchors, err := raw.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket.Name), Prefix: aws.String("audit-anchors/")})
	if err != nil || len(anchors.Contents) == 0 {
		t.Fatalf("no audit anchors in the bucket (%v)", err)
	}
	ah, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket.Name), Key: anchors.Contents[0].Key})
	if err != nil || ah.ObjectLockMode != s3types.ObjectLockModeCompliance || aws.ToTime(ah.ObjectLockRetainUntilDate).Before(time.Now().Add(6*365*24*time.Hour)) {
		t.Fatalf("anchor retention %s until %v (%v)", ah.ObjectLockMode, ah.ObjectLockRetainUntilDate, err)
	}
	if out, code := runCLI(t, append([]string{"audit", "verify", "--blobs", cfg.Blobs}, storeArgs(t, dir)...)...); code != 0 {
		t.Fatalf("audit verify: exit %d\n%s", code, out)
	}
	m2 := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close() })
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, _ := runCLI(t, statusArgs...)
		st = lockStatus{}
		json.Unmarshal([]byte(out), &st)
		if st.Progress != nil && st.Progress.Finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted applier was not resumed at start: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Progress.Archives != 3 || st.Progress.Done != 3 {
		t.Fatalf("resumed progress %+v, want 3 of 3", st.Progress)
	}
}

// uploadMultipart uploads data as a multipart archive of 1 MiB parts and
// returns its id.
func uploadMultipart(t *testing.T, c *glacier.Client, vault string, data []byte) string {
	t.Helper()
	ctx := context.Background()
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String(vault), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		part := data[off:min(off+1<<20, len(data))]
		if _, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String(vault), UploadId: init.UploadId, Body: bytes.NewReader(part),
			Range: aws.String(fmt.Sprintf("bytes %d-%d/*", off, off+len(part)-1))}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: aws.String(vault), UploadId: init.UploadId,
		ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(treehash.Sum(data).String())})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ArchiveId
}
