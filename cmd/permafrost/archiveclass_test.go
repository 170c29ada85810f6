package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/permafrost/permafrost/internal/testenv"
	"github.com/permafrost/permafrost/internal/treehash"
)

// archiveObjects lists the bucket's objects: key → storage class.
func archiveObjects(t *testing.T, s3c *awss3.Client, bucket string) map[string]string {
	t.Helper()
	out, err := s3c.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, o := range out.Contents {
		m[aws.ToString(o.Key)] = string(o.StorageClass)
	}
	return m
}

// newObjects are the keys of after that before lacks.
func newObjects(before, after map[string]string) []string {
	var keys []string
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// restoreHeader is the object's x-amz-restore ("" when never restored).
func restoreHeader(t *testing.T, s3c *awss3.Client, bucket, key string) string {
	t.Helper()
	h, err := s3c.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(h.Restore)
}

// TestArchiveStorageClass runs retrievals through S3 restores on moto's S3
// server, whose GLACIER objects answer InvalidObjectState until restored.
func TestArchiveStorageClass(t *testing.T) {
	moto := testenv.Moto(t)
	moto.RestoreDelay(t, time.Second)
	b := moto.Bucket(t)
	b.SetEnv(t)
	s3c := moto.Client()
	ts := jobServe(t, func(c *Config) {
		c.Blobs = b.URL + "&storage-class=GLACIER"
		c.RestorePollInterval = time.Second
	})
	c := ts.client()
	ctx := context.Background()
	const vault = "deep"
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(vault)}); err != nil {
		t.Fatal(err)
	}

	// Uploads go to the archive class: a single archive is one object, a
	// multipart one an object per part.
	before := archiveObjects(t, s3c, b.Name)
	single := randomBytes(300_000)
	singleID := jobUpload(t, c, vault, "single", single)
	singleKeys := newObjects(before, archiveObjects(t, s3c, b.Name))
	multi := randomBytes(3<<20 + 12345)
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName: aws.String(vault), PartSize: aws.String(fmt.Sprint(1 << 20)), ArchiveDescription: aws.String("multi"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var multiKeys []string // in part order
	for start := 0; start < len(multi); start += 1 << 20 {
		before = archiveObjects(t, s3c, b.Name)
		uploadPart(t, c, vault, aws.ToString(init.UploadId), multi[start:min(start+1<<20, len(multi))], start)
		multiKeys = append(multiKeys, newObjects(before, archiveObjects(t, s3c, b.Name))...)
	}
	done, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String(vault), UploadId: init.UploadId,
		ArchiveSize: aws.String(fmt.Sprint(len(multi))), Checksum: jobSum(multi),
	})
	if err != nil {
		t.Fatal(err)
	}
	multiID := aws.ToString(done.ArchiveId)
	after := archiveObjects(t, s3c, b.Name)
	if len(singleKeys) != 1 || len(multiKeys) != 4 {
		t.Fatalf("objects: %d for the single upload, %d for 4 parts; want 1 and 4", len(singleKeys), len(multiKeys))
	}
	for _, k := range append(slices.Clone(singleKeys), multiKeys...) {
		if after[k] != "GLACIER" {
			t.Errorf("object %s has class %q, want GLACIER", k, after[k])
		}
	}
	// A direct read is refused until restored: the class is real.
	if _, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(singleKeys[0])}); err == nil || !strings.Contains(err.Error(), "InvalidObjectState") {
		t.Fatalf("GetObject of an unrestored GLACIER object: %v, want InvalidObjectState", err)
	}

	// Metadata stays immediate: DescribeVault, and an inventory job whose
	// output is stored readable.
	if d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String(vault)}); err != nil || aws.ToInt64(&d.NumberOfArchives) != 2 {
		t.Fatalf("DescribeVault: %v %+v", err, d)
	}
	inv := ts.jobInitiate(t, c, vault, &types.JobParameters{Type: aws.String("inventory-retrieval")})
	ts.advance(t, 5*time.Hour)
	jobWait(t, c, vault, inv, types.StatusCodeSucceeded)
	if _, body := jobGetOutput(t, c, vault, inv, ""); !strings.Contains(string(body), singleID) || !strings.Contains(string(body), multiID) {
		t.Fatalf("inventory output %s lacks the archives", body)
	}

	// moto counts a restore's time from the object's creation and calls
	// one read within the first second "restored": wait that out so the
	// restores below really are pending for a while.
	time.Sleep(1500 * time.Millisecond)

	// A ranged retrieval of the multipart archive's second MiB restores
	// only the part behind it, and completes at the tier's time, not
	// before, even though the restore is done earlier.
	ranged := ts.jobInitiate(t, c, vault, jobArchiveParams(multiID, "Standard", fmt.Sprintf("%d-%d", 1<<20, 2<<20-1)))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(restoreHeader(t, s3c, b.Name, multiKeys[1]), `ongoing-request="false"`) {
		if time.Now().After(deadline) {
			t.Fatalf("part 2 not restored after 20 s: %q", restoreHeader(t, s3c, b.Name, multiKeys[1]))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, i := range []int{0, 2, 3} {
		if h := restoreHeader(t, s3c, b.Name, multiKeys[i]); h != "" {
			t.Errorf("part %d was restored (%q) though the range does not cover it", i+1, h)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if d := jobDescribe(t, c, vault, ranged); d.StatusCode != types.StatusCodeInProgress {
		t.Fatalf("ranged job %s before the Standard tier's 3 h", d.StatusCode)
	}
	ts.advance(t, 3*time.Hour)
	jobWait(t, c, vault, ranged, types.StatusCodeSucceeded)
	out, got := jobGetOutput(t, c, vault, ranged, "")
	jobWantOutput(t, "ranged retrieval", out, got, 200, "", jobSum(multi[1<<20:2<<20]), multi[1<<20:2<<20])

	// Full retrievals through the restore path; the single archive's
	// restore starts now, the multipart one reuses part 2's.
	full := ts.jobInitiate(t, c, vault, jobArchiveParams(singleID, "Bulk", ""))
	fullMulti := ts.jobInitiate(t, c, vault, jobArchiveParams(multiID, "Expedited", ""))
	ts.advance(t, 6*time.Hour)
	jobWait(t, c, vault, full, types.StatusCodeSucceeded)
	jobWait(t, c, vault, fullMulti, types.StatusCodeSucceeded)
	out, got = jobGetOutput(t, c, vault, full, "")
	jobWantOutput(t, "full retrieval", out, got, 200, "", jobSum(single), single)
	out, got = jobGetOutput(t, c, vault, fullMulti, "")
	jobWantOutput(t, "full multipart retrieval", out, got, 200, "", jobSum(multi), multi)
	// A range of the output, tree-hash aligned: served from the restored copies.
	out, got = jobGetOutput(t, c, vault, fullMulti, fmt.Sprintf("bytes=%d-%d", 2<<20, 3<<20-1))
	want := multi[2<<20 : 3<<20]
	jobWantOutput(t, "output range", out, got, 206, fmt.Sprintf("bytes %d-%d/%d", 2<<20, 3<<20-1, len(multi)), aws.String(treehash.Sum(want).String()), want)
	if h := restoreHeader(t, s3c, b.Name, singleKeys[0]); !strings.Contains(h, "expiry-date") {
		t.Errorf("restored object's x-amz-restore %q has no expiry", h)
	}

	// A restore that fails: the object is gone behind permafrost's back.
	before = archiveObjects(t, s3c, b.Name)
	lostID := jobUpload(t, c, vault, "lost", randomBytes(1000))
	lost := newObjects(before, archiveObjects(t, s3c, b.Name))
	if _, err := s3c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(lost[0])}); err != nil {
		t.Fatal(err)
	}
	failed := ts.jobInitiate(t, c, vault, jobArchiveParams(lostID, "Expedited", ""))
	ts.advance(t, time.Hour)
	d := jobWait(t, c, vault, failed, types.StatusCodeFailed)
	if msg := aws.ToString(d.StatusMessage); !strings.Contains(msg, "Restoring the archive") {
		t.Errorf("failed job's message %q does not say the restore failed", msg)
	}
	if _, _, err := jobGetOutputErr(c, vault, failed, ""); err == nil {
		t.Error("GetJobOutput of a failed job succeeded")
	}

	// Scrubbing would restore every archive on every pass: the command
	// refuses, saying why, rather than reporting unrestored archives as
	// damaged.
	var scrubOut, scrubErr strings.Builder
	err = run(ctx, []string{"scrub", "--data-dir", ts.Config.DataDir, "--blobs", ts.Config.Blobs}, &scrubOut, &scrubErr)
	if err == nil || !strings.Contains(err.Error(), "archive storage class") || strings.Contains(scrubOut.String(), "DAMAGED") {
		t.Errorf("permafrost scrub on an archive class: err %v, output %q", err, scrubOut.String())
	}
}

// TestDeepArchiveExpedited: DEEP_ARCHIVE has no Expedited tier; an
// Expedited job restores with Standard (the fastest the class offers) and
// succeeds at the Expedited job's own time.
func TestDeepArchiveExpedited(t *testing.T) {
	moto := testenv.Moto(t)
	b := moto.Bucket(t)
	b.SetEnv(t)
	ts := jobServe(t, func(c *Config) {
		c.Blobs = b.URL + "&storage-class=deep_archive"
		c.RestorePollInterval = time.Second
	})
	c := ts.client()
	if _, err := c.CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String("cold")}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(70_000)
	id := jobUpload(t, c, "cold", "deep", data)
	objs := archiveObjects(t, moto.Client(), b.Name)
	deep := 0
	for _, class := range objs {
		if class == "DEEP_ARCHIVE" {
			deep++
		}
	}
	if deep != 1 {
		t.Fatalf("objects %v: want one DEEP_ARCHIVE object", objs)
	}
	job := ts.jobInitiate(t, c, "cold", jobArchiveParams(id, "Expedited", ""))
	ts.advance(t, 2*time.Minute)
	jobWait(t, c, "cold", job, types.StatusCodeSucceeded)
	out, got := jobGetOutput(t, c, "cold", job, "")
	jobWantOutput(t, "deep archive retrieval", out, got, 200, "", jobSum(data), data)
}

// TestArchiveRestoreTimeout: a restore still pending --restore-timeout
// past the tier's delay ends the job Failed; nothing waits forever.
func TestArchiveRestoreTimeout(t *testing.T) {
	moto := testenv.Moto(t)
	moto.RestoreDelay(t, 5*time.Second)
	b := moto.Bucket(t)
	b.SetEnv(t)
	ts := jobServe(t, func(c *Config) {
		c.Blobs = b.URL + "&storage-class=GLACIER"
		c.RestorePollInterval = time.Second
		c.RestoreTimeout = 24 * time.Hour
	})
	c := ts.client()
	if _, err := c.CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	id := jobUpload(t, c, "slow", "slow", randomBytes(5000))
	// moto counts from the object's creation (see TestArchiveStorageClass):
	// past that, the restore stays in progress for 5 s.
	time.Sleep(5500 * time.Millisecond)
	job := ts.jobInitiate(t, c, "slow", jobArchiveParams(id, "Standard", ""))
	if d := jobDescribe(t, c, "slow", job); d.StatusCode != types.StatusCodeInProgress {
		t.Fatalf("job %s at once", d.StatusCode)
	}
	ts.advance(t, 3*time.Hour+25*time.Hour)
	d := jobWait(t, c, "slow", job, types.StatusCodeFailed)
	if msg := aws.ToString(d.StatusMessage); !strings.Contains(msg, "did not complete within") {
		t.Errorf("message %q does not say the restore timed out", msg)
	}
}

// TestArchiveClassSelect: a select job on an archive class restores its
// archive before it reads it.
func TestArchiveClassSelect(t *testing.T) {
	moto := testenv.Moto(t)
	moto.RestoreDelay(t, time.Second)
	b := moto.Bucket(t)
	b.SetEnv(t)
	out := selectBucket{moto.Bucket(t), moto.Client()}
	ts := jobServe(t, func(c *Config) {
		c.Blobs = b.URL + "&storage-class=GLACIER"
		c.RestorePollInterval = time.Second
		c.JobDelays = "none"
	})
	c := ts.client()
	mustCreateVault(t, c, "v")
	id := jobUpload(t, c, "v", "", []byte("x,1\ny,2\n"))
	time.Sleep(1500 * time.Millisecond) // see TestArchiveStorageClass
	job := ts.jobInitiate(t, c, "v", selectParams(id, out.Name, "p", "SELECT _2 FROM ARCHIVE WHERE _1 = 'y'", nil, nil))
	if d := jobDescribe(t, c, "v", job); d.StatusCode != types.StatusCodeInProgress {
		t.Errorf("select job %s before its restore", d.StatusCode)
	}
	jobWait(t, c, "v", job, types.StatusCodeSucceeded)
	if got := out.results(t, "p/"+job+"/"); got != "2\n" {
		t.Errorf("results %q", got)
	}
}
