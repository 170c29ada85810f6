package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

const mib = 1 << 20

// uploadPart sends one part through the SDK (which computes its hashes).
func uploadPart(t *testing.T, c *glacier.Client, vault, id string, data []byte, start int) *glacier.UploadMultipartPartOutput {
	t.Helper()
	out, err := c.UploadMultipartPart(context.Background(), &glacier.UploadMultipartPartInput{
		VaultName: aws.String(vault),
		UploadId:  aws.String(id),
		Range:     aws.String(fmt.Sprintf("bytes %d-%d/*", start, start+len(data)-1)),
		Body:      bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("part at %d: %v", start, err)
	}
	return out
}

func TestMultipartUpload(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	const partSize = 2 * mib
	data := randomBytes(3*partSize + 12345)
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName: aws.String("v"), PartSize: aws.String(fmt.Sprint(partSize)), ArchiveDescription: aws.String("multi"),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(init.UploadId)
	if len(id) != 92 || aws.ToString(init.Location) != "/"+ts.AccountID+"/vaults/v/multipart-uploads/"+id {
		t.Fatalf("initiate: id %q location %q", id, aws.ToString(init.Location))
	}

	// Parts in parallel, out of order; one re-sent.
	var wg sync.WaitGroup
	for i := 3; i >= 0; i-- {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			end := min((i+1)*partSize, len(data))
			out := uploadPart(t, c, "v", id, data[i*partSize:end], i*partSize)
			if want := treehash.Sum(data[i*partSize : end]).String(); aws.ToString(out.Checksum) != want {
				t.Errorf("part %d checksum %s, want %s", i, aws.ToString(out.Checksum), want)
			}
		}(i)
	}
	wg.Wait()
	uploadPart(t, c, "v", id, data[partSize:2*partSize], partSize)

	lp, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("v"), UploadId: aws.String(id), Limit: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 3 || aws.ToString(lp.Parts[0].RangeInBytes) != "0-2097151" || aws.ToString(lp.Marker) == "" ||
		lp.PartSizeInBytes != partSize || aws.ToString(lp.ArchiveDescription) != "multi" || aws.ToString(lp.MultipartUploadId) != id {
		t.Fatalf("ListParts = %+v", lp)
	}
	rest, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("v"), UploadId: aws.String(id), Marker: lp.Marker})
	if err != nil || len(rest.Parts) != 1 || aws.ToString(rest.Parts[0].RangeInBytes) != fmt.Sprintf("%d-%d", 3*partSize, len(data)-1) || rest.Marker != nil {
		t.Fatalf("ListParts page 2 = %+v, %v", rest, err)
	}

	lu, err := c.ListMultipartUploads(ctx, &glacier.ListMultipartUploadsInput{VaultName: aws.String("v")})
	if err != nil || len(lu.UploadsList) != 1 || aws.ToString(lu.UploadsList[0].MultipartUploadId) != id {
		t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
	}

	whole := treehash.Sum(data).String()
	// Wrong tree hash: refused, upload stays open.
	bad := treehash.Sum([]byte("x")).String()
	_, err = c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(bad),
	})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "Invalid x-amz-sha256-tree-hash: "+bad) {
		t.Errorf("message = %v", err)
	}
	// Wrong size: refused.
	_, err = c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(len(data) + 1)), Checksum: aws.String(whole),
	})
	wantAPIError(t, err, "InvalidParameterValueException", 400)

	done, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(whole),
	})
	if err != nil {
		t.Fatal(err)
	}
	archiveID := aws.ToString(done.ArchiveId)
	if aws.ToString(done.Checksum) != whole || aws.ToString(done.Location) != "/"+ts.AccountID+"/vaults/v/archives/"+archiveID {
		t.Fatalf("complete = %+v", done)
	}
	// Repeat: same archive, no duplicate.
	again, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(whole),
	})
	if err != nil || aws.ToString(again.ArchiveId) != archiveID {
		t.Fatalf("repeat complete = %v, %v", again, err)
	}
	v, _ := ts.stores.meta.Roles().Vaults.GetVault(ctx, ts.AccountID, "v")
	if v.NumberOfArchives != 1 || v.SizeInBytes != int64(len(data)) {
		t.Fatalf("vault counts %d / %d", v.NumberOfArchives, v.SizeInBytes)
	}
	// The archive is the parts, in order, without a copy; its leaves give its tree hash.
	a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, archiveID)
	if err != nil || len(a.Segments) != 4 || a.Description != "multi" {
		t.Fatalf("archive = %+v, %v", a, err)
	}
	var got bytes.Buffer
	for _, seg := range a.Segments {
		rc, err := ts.stores.blobs.Open(ctx, seg.BlobKey, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got.ReadFrom(rc)
		rc.Close()
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("stored bytes differ from the uploaded bytes")
	}
	leaves, err := ts.stores.meta.Roles().Archives.ArchiveLeaves(ctx, archiveID)
	if err != nil || treehash.Reduce(leaves).String() != whole || len(leaves) != 7 {
		t.Fatalf("leaves: %d, %v", len(leaves), err)
	}

	// After completion the upload is gone for listing and parts.
	_, err = c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("v"), UploadId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	_, err = c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String("v"), UploadId: aws.String(id), Range: aws.String("bytes 0-0/*"), Body: bytes.NewReader([]byte{1})})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	lu, _ = c.ListMultipartUploads(ctx, &glacier.ListMultipartUploadsInput{VaultName: aws.String("v")})
	if len(lu.UploadsList) != 0 {
		t.Fatalf("completed upload still listed")
	}
	_, err = c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}

func TestMultipartErrors(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	for _, size := range []string{"0", "1000", "3145728", "8589934592", "abc"} {
		_, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"), PartSize: aws.String(size)})
		wantAPIError(t, err, "InvalidParameterValueException", 400)
		if !strings.Contains(err.Error(), "Invalid part size: "+size+". Part size must not be null, must be a power of two and be between 1048576 and 4294967296 bytes.") {
			t.Errorf("message = %v", err)
		}
	}
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/multipart-uploads", nil, nil), "InvalidParameterValueException", 400)

	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(init.UploadId)
	part := randomBytes(mib)
	sum := treehash.Sum(part).String()
	put := func(rng string, body []byte, extra map[string]string) rawResponse {
		h := map[string]string{"Content-Range": rng, "x-amz-sha256-tree-hash": treehash.Sum(body).String(), "x-amz-content-sha256": sum}
		if len(body) != mib {
			h["x-amz-content-sha256"] = treehash.Sum(body).String() // ≤ 1 MiB: linear = tree
		}
		for k, v := range extra {
			h[k] = v
		}
		return ts.do(t, "PUT", "/-/vaults/v/multipart-uploads/"+id, h, body)
	}
	for _, rng := range []string{"bytes=0-1048575/*", "0-1048575", "bytes 10-5/*", "bytes a-b/*"} {
		r := put(rng, part, nil)
		wantWireError(t, r, "InvalidParameterValueException", 400)
		if !strings.Contains(string(r.Body), "Invalid Content-Range: "+rng) {
			t.Errorf("range %q: body %s", rng, r.Body)
		}
	}
	r := put("bytes 0-1048574/*", part, nil)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	if !strings.Contains(string(r.Body), "Content-Range: bytes 0-1048574/* is incompatible with Content-Length: 1048576") {
		t.Errorf("body %s", r.Body)
	}
	wantWireError(t, put("bytes 512-1049087/*", part, nil), "InvalidParameterValueException", 400) // not on a part boundary
	r = put("bytes 10485760000-10486808575/*", part, nil)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	if !strings.Contains(string(r.Body), "This is part number 10001 for the current multipart upload. It exceeds the limit of 10000 parts.") {
		t.Errorf("body %s", r.Body)
	}
	wantWireError(t, put("bytes 0-1048575/*", part, map[string]string{"x-amz-sha256-tree-hash": treehash.Sum(nil).String()}), "InvalidParameterValueException", 400)
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/v/multipart-uploads/"+id, map[string]string{"x-amz-sha256-tree-hash": sum, "x-amz-content-sha256": sum}, part), "MissingParameterValueException", 400)
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/v/multipart-uploads/nope", map[string]string{"Content-Range": "bytes 0-1048575/*", "x-amz-sha256-tree-hash": sum, "x-amz-content-sha256": sum}, part), "ResourceNotFoundException", 404)

	// Nothing was stored by the refused parts.
	lp, err := c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("v"), UploadId: aws.String(id)})
	if err != nil || len(lp.Parts) != 0 {
		t.Fatalf("parts after refusals = %+v, %v", lp, err)
	}

	// A short inner part makes completion fail; the upload stays usable.
	uploadPart(t, c, "v", id, part[:1000], 0)
	uploadPart(t, c, "v", id, part, mib)
	_, err = c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(1000 + mib)), Checksum: aws.String(sum)})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	// A gap.
	_, err = c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String(fmt.Sprint(2 * mib)), Checksum: aws.String(sum)})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/multipart-uploads/"+id, map[string]string{"x-amz-sha256-tree-hash": sum}, nil), "MissingParameterValueException", 400)

	// Abort, twice.
	if _, err := c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id)}); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	_, err = c.ListParts(ctx, &glacier.ListPartsInput{VaultName: aws.String("v"), UploadId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	_, err = c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: aws.String("v"), UploadId: aws.String(id), ArchiveSize: aws.String("1"), Checksum: aws.String(sum)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	n := 0
	ts.stores.blobs.List(ctx, func(string, time.Time) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d blobs left after abort", n)
	}
}
