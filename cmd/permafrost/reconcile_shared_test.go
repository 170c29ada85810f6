package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permafrost/permafrost/internal/testenv"
)

// TestReconcileAllRefusedOnSharedStores: on a metadata store other nodes
// may share (PostgreSQL), reconcile removes only what is older than the
// grace; --all, which would remove blobs of any age, is refused
// (glacier.AllLeftoversCutoff).
func TestReconcileAllRefusedOnSharedStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--meta", testenv.PostgresDSN(t), "--blobs", "file://" + filepath.Join(dir, "blobs")}
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"reconcile", "--all"}, args...), &out, &errOut)
	const want = "--all is for an embedded installation: stores shared with other nodes may hold uploads in flight"
	if err == nil || err.Error() != want {
		t.Errorf("reconcile --all on shared stores: %v; want %q", err, want)
	}
	if _, ok := err.(usageError); !ok {
		t.Errorf("reconcile --all on shared stores: %T; want a usage error (exit 2)", err)
	}
	out.Reset()
	if err := run(ctx, append([]string{"reconcile"}, args...), &out, &errOut); err != nil {
		t.Fatalf("reconcile on shared stores: %v (%s)", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "removed 0 unreferenced blobs older than 13h0m0s ") {
		t.Errorf("reconcile on shared stores printed %q", out.String())
	}
}
