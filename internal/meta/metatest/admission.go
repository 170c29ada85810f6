package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// retrievalJob is an in-progress archive retrieval of size bytes in vault
// v of acct.
func retrievalJob(id, tier string, created time.Time, size int64) glacier.Job {
	return glacier.Job{ID: id, AccountID: acct, VaultName: "v", Action: glacier.ArchiveRetrieval, Tier: tier,
		CreatedAt: created, DueAt: created.Add(time.Hour), Status: glacier.JobInProgress,
		StatusMessage: "Operation in progress.", ArchiveID: "a", ArchiveSize: size, ArchiveTreeHash: hashOf("a"),
		RangeEnd: size - 1}
}

// testCreateJobIf: admit sees the account's usage in the store; its error
// is returned unchanged and stores nothing; a missing vault is
// KindNotFound without calling admit.
func testCreateJobIf(t *testing.T, s Store) {
	ctx := t.Context()
	a := s
	mustVault(t, s, acct, "v")
	must(t, "PurchaseCapacity", s.PurchaseCapacity(ctx, glacier.ProvisionedCapacity{ID: "c1", AccountID: acct,
		StartDate: t0, ExpiresAt: at(24 * time.Hour)}, 2))
	must(t, "CreateJob", s.CreateJob(ctx, retrievalJob("j1", glacier.TierStandard, t0, 100)))

	called := false
	err := a.CreateJobIf(ctx, retrievalJob("j2", glacier.TierStandard, at(time.Minute), 50), func(v glacier.AdmissionView) error {
		called = true
		n, bytes, err := v.JobsSince(glacier.TierStandard, time.Time{}, true)
		if err != nil || n != 1 || bytes != 100 {
			t.Errorf("JobsSince in admission = %d, %d, %v; want 1, 100, nil", n, bytes, err)
		}
		if n, bytes, err := v.JobsSince(glacier.TierStandard, at(time.Second), false); err != nil || n != 0 || bytes != 0 {
			t.Errorf("JobsSince after the job in admission = %d, %d, %v; want 0, 0, nil", n, bytes, err)
		}
		if n, err := v.CapacityUnits(at(time.Hour)); err != nil || n != 1 {
			t.Errorf("CapacityUnits = %d, %v; want 1, nil", n, err)
		}
		if n, err := v.CapacityUnits(at(25 * time.Hour)); err != nil || n != 0 {
			t.Errorf("CapacityUnits after expiry = %d, %v; want 0, nil", n, err)
		}
		return nil
	})
	must(t, "CreateJobIf admitted", err)
	if !called {
		t.Errorf("CreateJobIf did not call admit")
	}
	if _, err := s.GetJob(ctx, acct, "v", "j2"); err != nil {
		t.Errorf("GetJob of the admitted job: %v", err)
	}

	refused := glacier.Errorf(glacier.KindPolicyEnforced, "refused")
	err = a.CreateJobIf(ctx, retrievalJob("j3", glacier.TierStandard, at(time.Minute), 50), func(glacier.AdmissionView) error {
		return refused
	})
	if err != refused {
		t.Errorf("CreateJobIf refused = %v; want admit's error unchanged", err)
	}
	_, err = s.GetJob(ctx, acct, "v", "j3")
	wantKind(t, "GetJob of the refused job", err, glacier.KindNotFound)

	missing := retrievalJob("j4", glacier.TierStandard, t0, 1)
	missing.VaultName = "nope"
	err = a.CreateJobIf(ctx, missing, func(glacier.AdmissionView) error {
		t.Errorf("admit called for a missing vault")
		return nil
	})
	wantKind(t, "CreateJobIf in a missing vault", err, glacier.KindNotFound)
}

// testRaceCreateJobIf: admissions of one account are serialized, so of
// many racers whose admit allows only limit jobs exactly limit are stored.
func testRaceCreateJobIf(t *testing.T, s Store) {
	ctx := t.Context()
	a := s
	mustVault(t, s, acct, "v")
	const limit = 3
	full := errors.New("full")
	errs := Race(racers, func(i int) error {
		j := retrievalJob(fmt.Sprintf("j%d", i), glacier.TierExpedited, t0, 10)
		return a.CreateJobIf(ctx, j, func(v glacier.AdmissionView) error {
			n, _, err := v.JobsSince(glacier.TierExpedited, t0, false)
			if err != nil {
				return err
			}
			if n >= limit {
				return full
			}
			return nil
		})
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case err != full:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if won != limit {
		t.Errorf("%d of %d racers admitted, want exactly %d", won, racers, limit)
	}
	n, _, err := s.JobsSince(ctx, acct, glacier.TierExpedited, t0, false)
	if err != nil || n != limit {
		t.Errorf("JobsSince after the race = %d, %v; want %d", n, err, limit)
	}
}
