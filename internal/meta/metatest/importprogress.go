package metatest

import (
	"context"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// importStore is what `permafrost import` needs of a store beyond the
// glacier roles: its progress table (and VaultStore's TouchVault).
type importStore interface {
	GetImportProgress(ctx context.Context, importKey, name string) (string, error)
	PutImportProgress(ctx context.Context, importKey, name, value string) error
	ClearImportProgress(ctx context.Context, importKey string) error
	TouchVault(ctx context.Context, accountID, vault string, at time.Time) error
}

// testImportProgress: values per import key, replaced, removed by "" and
// cleared per import; ResetData empties it; TouchVault only moves the
// last write forward.
func testImportProgress(t *testing.T, s Store) {
	ctx := t.Context()
	is, ok := s.(importStore)
	if !ok {
		t.Fatal("the store has no import progress table or TouchVault")
	}
	get := func(k, n string) string {
		v, err := is.GetImportProgress(ctx, k, n)
		must(t, "GetImportProgress", err)
		return v
	}
	if v := get("imp-1", "inventory-job"); v != "" {
		t.Fatalf("absent value %q", v)
	}
	must(t, "PutImportProgress", is.PutImportProgress(ctx, "imp-1", "inventory-job", "job-a"))
	must(t, "PutImportProgress", is.PutImportProgress(ctx, "imp-1", "inventory-job", "job-b"))
	must(t, "PutImportProgress", is.PutImportProgress(ctx, "imp-1", "job/arch-1", "job-c"))
	must(t, "PutImportProgress", is.PutImportProgress(ctx, "imp-2", "job/arch-1", "job-d"))
	if get("imp-1", "inventory-job") != "job-b" || get("imp-1", "job/arch-1") != "job-c" || get("imp-2", "job/arch-1") != "job-d" {
		t.Fatal("values not kept per import")
	}
	must(t, "PutImportProgress", is.PutImportProgress(ctx, "imp-1", "job/arch-1", ""))
	if get("imp-1", "job/arch-1") != "" {
		t.Fatal(`"" did not remove the value`)
	}
	must(t, "ClearImportProgress", is.ClearImportProgress(ctx, "imp-1"))
	if get("imp-1", "inventory-job") != "" || get("imp-2", "job/arch-1") != "job-d" {
		t.Fatal("ClearImportProgress cleared the wrong import")
	}
	_, err := s.ResetData(ctx, nil)
	must(t, "ResetData", err)
	if get("imp-2", "job/arch-1") != "" {
		t.Fatal("ResetData kept import progress")
	}

	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: t0}))
	mustVault(t, s, acct, "v")
	a := glacier.Archive{ID: "arch-old", AccountID: acct, VaultName: "v", CreatedAt: t0.Add(-1000 * time.Hour), Size: 10, TreeHash: hashOf("a"),
		Segments: []glacier.Segment{{BlobKey: "seg-a", Size: 10, TreeHash: hashOf("a"), Leaves: leavesOf("a", 1)}}}
	must(t, "CreateArchive", s.CreateArchive(ctx, a))
	must(t, "TouchVault", is.TouchVault(ctx, acct, "v", t0))
	must(t, "TouchVault", is.TouchVault(ctx, acct, "v", t0.Add(-time.Hour)))
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if !v.LastWriteAt.Equal(t0) {
		t.Errorf("LastWriteAt %v, want %v", v.LastWriteAt, t0)
	}
	if err := is.TouchVault(ctx, acct, "nope", t0); !glacier.IsNotFound(err) {
		t.Errorf("TouchVault of a missing vault: %v", err)
	}
}
