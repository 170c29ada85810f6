package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

func mustCreateVault(t *testing.T, c *glacier.Client, name string) {
	t.Helper()
	if _, err := c.CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func TestUploadAndDeleteArchive(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	data := randomBytes(3<<20 + 12345)
	// The SDK computes x-amz-sha256-tree-hash and x-amz-content-sha256.
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		VaultName:          aws.String("v"),
		ArchiveDescription: aws.String("my backup"),
		Body:               bytes.NewReader(data),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ArchiveId)
	if len(id) != 138 {
		t.Errorf("archive id %q has %d characters, want 138", id, len(id))
	}
	if want := treehash.Sum(data).String(); aws.ToString(out.Checksum) != want {
		t.Errorf("checksum = %s, want %s", aws.ToString(out.Checksum), want)
	}
	if want := "/" + ts.AccountID + "/vaults/v/archives/" + id; aws.ToString(out.Location) != want {
		t.Errorf("Location = %s, want %s", aws.ToString(out.Location), want)
	}
	a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, id)
	if err != nil || a.Size != int64(len(data)) || a.Description != "my backup" {
		t.Fatalf("stored archive = %+v, %v", a, err)
	}
	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	if d.NumberOfArchives != 1 || d.SizeInBytes != int64(len(data))+32768 {
		t.Errorf("DescribeVault counts = %d archives, %d bytes", d.NumberOfArchives, d.SizeInBytes)
	}

	// A vault with an archive cannot be deleted.
	_, err = c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "Vault not empty or recently written to") {
		t.Errorf("message = %v", err)
	}

	// Deleting the archive in another vault is refused.
	mustCreateVault(t, c, "other")
	_, err = c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("other"), ArchiveId: aws.String(id)})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "Invalid vault name: arn:aws:glacier:us-east-1:"+ts.AccountID+":vaults/other") {
		t.Errorf("message = %v", err)
	}

	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	// Idempotent.
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(id)}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	for _, seg := range a.Segments {
		if ok, _ := ts.stores.meta.Roles().Housekeeping.BlobReferenced(ctx, seg.BlobKey); ok {
			t.Errorf("blob %s still referenced", seg.BlobKey)
		}
		if _, err := ts.stores.blobs.Open(ctx, seg.BlobKey, 0, -1); err == nil {
			t.Errorf("blob %s still stored after delete", seg.BlobKey)
		}
	}
	if _, err := c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Errorf("delete emptied vault: %v", err)
	}
}

func TestUploadArchiveErrors(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	data := []byte("hello, glacier")
	good := treehash.Sum(data).String()
	sha := good // one chunk: tree hash = SHA-256

	// Wrong tree hash: AWS's message, and nothing stored.
	wrong := treehash.Sum([]byte("other")).String()
	r := ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": wrong, "x-amz-content-sha256": sha}, data)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	if want := "Checksum mismatch: expected " + wrong + ", computed " + good; !strings.Contains(string(r.Body), want) {
		t.Errorf("body %s, want message %q", r.Body, want)
	}
	// x-amz-content-sha256 signed but not the body's hash.
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": good, "x-amz-content-sha256": wrong}, data)
	wantWireError(t, r, "InvalidSignatureException", 403)
	// Missing headers.
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-content-sha256": sha}, data)
	wantWireError(t, r, "MissingParameterValueException", 400)
	// Empty body.
	empty := treehash.Sum(nil).String()
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": empty, "x-amz-content-sha256": empty}, nil)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	// Descriptions: too long, not printable ASCII.
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": good, "x-amz-content-sha256": sha, "x-amz-archive-description": strings.Repeat("d", 1025)}, data)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": good, "x-amz-content-sha256": sha, "x-amz-archive-description": "tab\there"}, data)
	wantWireError(t, r, "InvalidParameterValueException", 400)
	// Missing vault.
	_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("nope"), Body: bytes.NewReader(data)})
	var a pf.Archive
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	if v, _ := ts.stores.meta.Roles().Vaults.GetVault(ctx, ts.AccountID, "v"); v.NumberOfArchives != 0 {
		t.Fatalf("failed uploads left %d archives", v.NumberOfArchives)
	}
	n := 0
	ts.stores.blobs.List(ctx, func(string, time.Time) error { n++; return nil })
	if n != 0 {
		t.Fatalf("failed uploads left %d blobs", n)
	}

	// Without x-amz-content-sha256 the signature covers the body's real
	// SHA-256, checked once the body has streamed in (aws-sdk-go-v2 sends
	// no header when the caller supplies the tree hash).
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": good}, data)
	if r.Status != 201 {
		t.Fatalf("upload without x-amz-content-sha256: %d %s", r.Status, r.Body)
	}
	req, _ := http.NewRequest("POST", ts.URL()+"/-/vaults/v/archives", bytes.NewReader(data))
	req.Header.Set("x-amz-sha256-tree-hash", good)
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}, req, wrong, "glacier", "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("body not matching the signed payload hash: status %d, want 403", resp.StatusCode)
	}
	if v, _ := ts.stores.meta.Roles().Vaults.GetVault(ctx, ts.AccountID, "v"); v.NumberOfArchives != 1 {
		t.Fatalf("%d archives after one good and one forged upload, want 1", v.NumberOfArchives)
	}

	// Upper-case hex is accepted; the response is lower case.
	r = ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": strings.ToUpper(good), "x-amz-content-sha256": sha, "x-amz-archive-description": "  leading spaces"}, data)
	if r.Status != 201 || r.Header.Get("x-amz-sha256-tree-hash") != good {
		t.Fatalf("upper-case tree hash: %d %s %v", r.Status, r.Body, r.Header)
	}
	a, err = ts.stores.meta.Roles().Archives.GetArchive(ctx, r.Header.Get("x-amz-archive-id"))
	if err != nil || a.Description != "leading spaces" {
		t.Errorf("description stored as %q (%v), want leading spaces stripped", a.Description, err)
	}
}

func TestMissingVersionHeader(t *testing.T) {
	ts := mustServe(t)
	req, _ := http.NewRequest("GET", ts.URL()+"/-/vaults", nil)
	creds := aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}
	v4.NewSigner().SignHTTP(context.Background(), creds, req, treehash.Sum(nil).String(), "glacier", "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResponse{resp.StatusCode, resp.Header, b}
	wantWireError(t, r, "MissingParameterValueException", 400)
	if !strings.Contains(string(b), "Required parameter missing: API version") {
		t.Errorf("body = %s", b)
	}
}
