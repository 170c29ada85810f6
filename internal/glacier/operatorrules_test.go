package glacier_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestLeftoverCutoff: a process that owns unshared stores removes what was
// left before it started; otherwise only what is older than SweepGrace.
func TestLeftoverCutoff(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	started := now.Add(-time.Minute)
	grace := now.Add(-glacier.SweepGrace)
	for _, c := range []struct {
		name       string
		ownedSince time.Time
		shared     bool
		want       time.Time
	}{
		{"owned, not shared", started, false, started},
		{"owned but shared", started, true, grace},
		{"not owned", time.Time{}, false, grace},
		{"not owned, shared", time.Time{}, true, grace},
	} {
		if got := glacier.LeftoverCutoff(now, c.ownedSince, c.shared); !got.Equal(c.want) {
			t.Errorf("%s: LeftoverCutoff = %v; want %v", c.name, got, c.want)
		}
	}
	if got, err := glacier.AllLeftoversCutoff(now, false); err != nil || !got.Equal(now) {
		t.Errorf("AllLeftoversCutoff unshared = %v, %v; want now", got, err)
	}
	if _, err := glacier.AllLeftoversCutoff(now, true); !errors.Is(err, glacier.ErrSharedUploadsInFlight) {
		t.Errorf("AllLeftoversCutoff shared: err = %v; want ErrSharedUploadsInFlight", err)
	}
}

// TestAuditRetention: the configured retention, raised to the longest
// retention floor of a Locked vault seen.
func TestAuditRetention(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	pol := strings.Replace(lockPolicy, "%s", s.VaultARN(ownerAccount, "v"), 1)
	id, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteVaultLock(ctx, owner, ownerAccount, "v", id); err != nil {
		t.Fatal(err)
	}
	if f, _, err := s.RetentionFloor(ctx, ownerAccount, "v"); err != nil || f.Days != 365 {
		t.Fatalf("RetentionFloor = %+v, %v; want 365 days", f, err)
	}
	year := 365 * 24 * time.Hour
	if got := glacier.AuditRetention(time.Hour); got < year {
		t.Errorf("AuditRetention(1h) = %v; want at least the 365-day floor", got)
	}
	if got := glacier.AuditRetention(10 * year); got != 10*year {
		t.Errorf("AuditRetention(10y) = %v; want the configured 10y", got)
	}
}

// TestStoredLockPolicy: the stored lock record as it is (an expired draft
// included), nil without one, ResourceNotFound without the vault.
func TestStoredLockPolicy(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	if _, err := s.StoredLockPolicy(ctx, ownerAccount, "nope"); !glacier.IsNotFound(err) {
		t.Errorf("no vault: err = %v; want not found", err)
	}
	e.mustVault("v")
	if l, err := s.StoredLockPolicy(ctx, ownerAccount, "v"); err != nil || l != nil {
		t.Errorf("no lock: %+v, %v; want nil", l, err)
	}
	pol := strings.Replace(lockPolicy, "%s", s.VaultARN(ownerAccount, "v"), 1)
	if _, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour) // the draft expires
	if _, err := s.GetVaultLock(ctx, owner, ownerAccount, "v"); !glacier.IsNotFound(err) {
		t.Fatalf("GetVaultLock of an expired draft: %v; want not found", err)
	}
	l, err := s.StoredLockPolicy(ctx, ownerAccount, "v")
	if err != nil || l == nil || l.Policy != pol || l.State != glacier.LockInProgress {
		t.Errorf("expired draft: %+v, %v; want the stored InProgress record", l, err)
	}
}
