package s3_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/testenv"
)

func TestParseObjectLockURL(t *testing.T) {
	c, err := s3.ParseURL("s3://bucket?object-lock=required&retention-mode=governance")
	if err != nil || c.ObjectLock != "required" || c.RetentionMode != "GOVERNANCE" {
		t.Fatalf("%+v %v", c, err)
	}
	if back, err := s3.ParseURL(c.String()); err != nil || back != c {
		t.Fatalf("round trip %s: %+v %v", c.String(), back, err)
	}
	for _, u := range []string{"s3://bucket?object-lock=yes", "s3://bucket?retention-mode=legal"} {
		if _, err := s3.ParseURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestObjectLockStore(t *testing.T) {
	ctx := context.Background()
	b, gw := testenv.ObjectLockBucket(t)
	b.SetEnv(t)
	st := mustOpen(t, withPath(b.URL, "/pre/")+"&object-lock=required")
	if on, mode := st.ObjectLock(); !on || mode != "COMPLIANCE" {
		t.Fatalf("ObjectLock() = %v, %s", on, mode)
	}
	if on, _ := mustOpen(t, b.URL+"&object-lock=off").ObjectLock(); on {
		t.Fatal("object-lock=off still uses Object Lock")
	}
	raw := gw.Client()

	// retention-mode=GOVERNANCE (trials) sets GOVERNANCE retention.
	gov := mustOpen(t, withPath(b.URL, "/gov/")+"&retention-mode=GOVERNANCE")
	if _, err := gov.Put(ctx, "trial", bytes.NewReader([]byte("t"))); err != nil {
		t.Fatal(err)
	}
	if err := gov.Retain(ctx, "trial", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, mode, err := gov.Retention(ctx, "trial"); err != nil || mode != types.ObjectLockRetentionModeGovernance {
		t.Fatalf("retention-mode=GOVERNANCE set %q (%v)", mode, err)
	}

	if _, err := st.Put(ctx, "kept", bytes.NewReader([]byte("bytes"))); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := st.Retain(ctx, "kept", until); err != nil {
		t.Fatal(err)
	}
	// Never shortened: an earlier date leaves the later one.
	if err := st.Retain(ctx, "kept", until.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, mode, err := st.Retention(ctx, "kept")
	if err != nil || !got.Equal(until) || mode != types.ObjectLockRetentionModeCompliance {
		t.Fatalf("retention %s %s %v, want COMPLIANCE until %s", mode, got, err, until)
	}
	// Delete leaves a retained version (for the sweep), without a marker.
	if err := st.Delete(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	v, err := raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String("pre/kept")})
	if err != nil || len(v.Versions) != 1 || len(v.DeleteMarkers) != 0 {
		t.Fatalf("after deleting a retained blob: %d versions, %d markers (%v)", len(v.Versions), len(v.DeleteMarkers), err)
	}
	var listed []string
	st.List(ctx, func(k string, _ time.Time) error { listed = append(listed, k); return nil })
	if len(listed) != 1 || listed[0] != "kept" {
		t.Fatalf("List after the refused delete: %v", listed)
	}
	// An unretained blob goes entirely.
	if _, err := st.Put(ctx, "free", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "free"); err != nil {
		t.Fatal(err)
	}
	v, _ = raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String("pre/free")})
	if len(v.Versions)+len(v.DeleteMarkers) != 0 {
		t.Fatalf("deleted blob left %d versions, %d markers", len(v.Versions), len(v.DeleteMarkers))
	}

	// Anchors are retained, never listed as blobs, and read back.
	if err := st.PutAnchor(ctx, "00000000000000000001-abcd", []byte(`{"sequence":1}`), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("pre/audit-anchors/00000000000000000001-abcd.json")})
	if err != nil || h.ObjectLockMode != types.ObjectLockModeCompliance {
		t.Fatalf("anchor retention %q (%v)", h.ObjectLockMode, err)
	}
	var names []string
	if err := st.ListAnchors(ctx, func(n string, body []byte) error {
		names = append(names, n+"="+string(body))
		return nil
	}); err != nil || strings.Join(names, ",") != `00000000000000000001-abcd={"sequence":1}` {
		t.Fatalf("anchors %v (%v)", names, err)
	}
	listed = nil
	st.List(ctx, func(k string, _ time.Time) error { listed = append(listed, k); return nil })
	if len(listed) != 1 {
		t.Fatalf("List shows anchors: %v", listed)
	}
}
