package testenv

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectLockBucket starts a versitygw server of the test's own with bucket
// versioning (which S3 Object Lock requires; versitygw's posix backend
// enforces COMPLIANCE retention faithfully: a retained version can be
// neither deleted nor have its retention shortened, by any credentials)
// and returns a bucket created with ObjectLockEnabledForBucket, and the
// server. Retained objects cannot be removed through S3, so the server's
// files are removed with the test's temporary directory instead of
// deleting the bucket.
func ObjectLockBucket(t testing.TB) (S3Bucket, *VersitygwServer) {
	t.Helper()
	bin, err := versitygwBinary(t)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := t.TempDir()
	root, vers := filepath.Join(dir, "root"), filepath.Join(dir, "versions")
	for _, d := range []string{root, vers} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	g := newVersitygwServer(bin, root, "")
	g.versioningDir = vers
	if err := g.startFresh(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := g.stop("kill"); err != nil {
			t.Errorf("testenv: stopping versitygw: %v", err)
		}
	})
	name := vgwBucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := g.client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("testenv: creating object-lock bucket %s on versitygw at %s: %v", name, g.Endpoint, err)
	}
	q := url.Values{"endpoint": {g.Endpoint}, "path-style": {"true"}, "region": {g.Region}}
	return S3Bucket{
		URL:       "s3://" + name + "?" + q.Encode(),
		Name:      name,
		Endpoint:  g.Endpoint,
		Region:    g.Region,
		AccessKey: g.AccessKey,
		SecretKey: g.SecretKey,
	}, g
}
