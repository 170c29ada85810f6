package main

import (
	"strings"
	"testing"

	"github.com/permafrost/permafrost/internal/treehash"
)

// TestPayloadHashMismatchResponse: a body whose SHA-256 differs from the
// signed x-amz-content-sha256 is InvalidSignatureException 403 with the
// same message on both paths: a streamed archive and a small JSON body.
func TestPayloadHashMismatchResponse(t *testing.T) {
	ts := mustServe(t)
	mustCreateVault(t, ts.client(), "v")
	data := []byte("hello, glacier")
	good := treehash.Sum(data).String()
	wrong := treehash.Sum([]byte("other")).String()

	r := ts.do(t, "POST", "/-/vaults/v/archives", map[string]string{"x-amz-sha256-tree-hash": good, "x-amz-content-sha256": wrong}, data)
	wantWireError(t, r, "InvalidSignatureException", 403)
	want := "The x-amz-content-sha256 header " + wrong + " does not match the SHA-256 of the request body, " + good
	if !strings.Contains(string(r.Body), want) {
		t.Errorf("streamed body: %s, want message %q", r.Body, want)
	}

	body := []byte(`{"Tags":{"k":"v"}}`)
	r = ts.do(t, "POST", "/-/vaults/v/tags?operation=add", map[string]string{"x-amz-content-sha256": wrong}, body)
	wantWireError(t, r, "InvalidSignatureException", 403)
	want = "The x-amz-content-sha256 header " + wrong + " does not match the SHA-256 of the request body, " + treehash.Sum(body).String()
	if !strings.Contains(string(r.Body), want) {
		t.Errorf("small body: %s, want message %q", r.Body, want)
	}
}
