package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// TestMetricsKeepStoreAbilities: --metrics-listen wraps the blob store to
// count its failures; serve's own wiring must still see the store under
// the wrapper. Before baseBlobs, the wrapper hid the local directory (no
// disk reserve was kept) and the anchor store (the audit log was never
// anchored).
func TestMetricsKeepStoreAbilities(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.MetricsListen = "127.0.0.1:0"
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	if _, err := ts.client().CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if backendFor(t, dir).Blobs == "" {
		var reserve []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == "reserve" && d.Type().IsRegular() {
				reserve = append(reserve, p)
			}
			return nil
		})
		if len(reserve) != 1 {
			t.Errorf("with --metrics-listen the disk reserve files are %v, want one", reserve)
		}
	}
	m.Close()
	out, code := runCLI(t, verifyArgs(t, dir)...)
	if code != 0 || !strings.Contains(out, "vouching for record") || strings.Contains(out, " 0 anchors") || strings.Contains(out, "record 0\n") {
		t.Fatalf("audit verify after a clean shutdown with --metrics-listen: exit %d (no anchor?)\n%s", code, out)
	}
}
