package disk_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/permafrost/permafrost/internal/blob/disk"
)

// OpenShared (the operator commands, scrub) never touches tmp, where the
// owner's uploads in progress live; Open (the owner) clears it.
func TestOpenSharedLeavesTmp(t *testing.T) {
	dir := t.TempDir()
	MustOpen(t, dir)
	inflight := filepath.Join(dir, "tmp", "put-123")
	if err := os.WriteFile(inflight, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.OpenShared(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Fatalf("OpenShared removed an upload's temporary file: %v", err)
	}
	MustOpen(t, dir)
	if _, err := os.Stat(inflight); !os.IsNotExist(err) {
		t.Fatalf("Open left %s: %v", inflight, err)
	}
}
