package metatest

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func selectJob(id string) glacier.Job {
	return glacier.Job{ID: id, AccountID: acct, VaultName: "v", Action: glacier.SelectJobAction, Tier: "Bulk",
		CreatedAt: t0, DueAt: at(time.Hour), Status: glacier.JobInProgress, StatusMessage: "Operation in progress.",
		ArchiveID: "a", ArchiveSize: 10, ArchiveTreeHash: hashOf("a"), RangeEnd: 9,
		Select: &glacier.SelectJob{
			Parameters: glacier.SelectParameters{ExpressionType: "SQL", Expression: "SELECT * FROM ARCHIVE WHERE _1 = 'x'",
				InputSerialization:  &glacier.InputSerialization{CSV: &glacier.CSVInput{FileHeaderInfo: "USE", FieldDelimiter: "\t"}},
				OutputSerialization: &glacier.OutputSerialization{CSV: &glacier.CSVOutput{QuoteFields: "ALWAYS"}}},
			OutputLocation: glacier.OutputLocation{S3: &glacier.S3Location{BucketName: "b", Prefix: "p",
				Tagging: map[string]string{"k": "v"}, UserMetadata: map[string]string{"m": "n"}, StorageClass: "STANDARD_IA",
				AccessControlList: []glacier.Grant{{Grantee: &glacier.Grantee{Type: "CanonicalUser", ID: "id1"}, Permission: "READ"}}}},
		}}
}

func testSelectParams(t *testing.T, s Store) {
	ctx := t.Context()
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	j := selectJob("sel")
	must(t, "CreateJob", s.CreateJob(ctx, j))
	got, err := s.GetJob(ctx, acct, "v", "sel")
	must(t, "GetJob", err)
	same(t, "select parameters", glacier.EncodeSelectJob(got.Select), glacier.EncodeSelectJob(j.Select))
	if got.Action != glacier.SelectJobAction {
		t.Errorf("Action %q", got.Action)
	}
	due, err := s.DueJobs(ctx, at(time.Hour), 10)
	must(t, "DueJobs", err)
	if len(due) != 1 || glacier.EncodeSelectJob(due[0].Select) != glacier.EncodeSelectJob(j.Select) {
		t.Errorf("DueJobs = %+v", due)
	}
	list, err := s.ListJobs(ctx, acct, "v", glacier.JobFilter{}, "", 10)
	must(t, "ListJobs", err)
	if len(list) != 1 || list[0].Select == nil || list[0].Select.OutputLocation.S3.Prefix != "p" {
		t.Errorf("ListJobs = %+v", list)
	}
	// Other jobs have none.
	inv := glacier.Job{ID: "inv", AccountID: acct, VaultName: "v", Action: glacier.InventoryRetrieval, CreatedAt: t0, DueAt: at(time.Hour), Status: glacier.JobInProgress, Format: "JSON"}
	must(t, "CreateJob", s.CreateJob(ctx, inv))
	if got, err := s.GetJob(ctx, acct, "v", "inv"); err != nil || got.Select != nil {
		t.Errorf("inventory job Select = %+v, %v", got.Select, err)
	}
}

func testClaimJob(t *testing.T, s Store) {
	cl := s
	ctx := t.Context()
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	j := selectJob("sel")
	must(t, "CreateJob", s.CreateJob(ctx, j))
	lease := at(time.Hour + 2*time.Minute)
	errs := Race(8, func(i int) error {
		ok, err := cl.ClaimJob(ctx, "sel", j.DueAt, lease)
		if err == nil && !ok {
			return glacier.Errorf(glacier.KindConflict, "not claimed")
		}
		return err
	})
	if won := Winners(t, "ClaimJob", errs, glacier.KindConflict); len(won) != 1 {
		t.Fatalf("%d winners, want 1 (%v)", len(won), errs)
	}
	due, err := s.DueJobs(ctx, at(time.Hour+time.Minute), 10)
	must(t, "DueJobs", err)
	if len(due) != 0 {
		t.Errorf("a leased job is due: %+v", due)
	}
	// The owner renews from its lease; the old due time no longer works.
	renewed := lease.Add(2 * time.Minute)
	if ok, err := cl.ClaimJob(ctx, "sel", lease, renewed); err != nil || !ok {
		t.Errorf("renewal: %v %v", ok, err)
	}
	if ok, err := cl.ClaimJob(ctx, "sel", j.DueAt, renewed); err != nil || ok {
		t.Errorf("claim with a stale due time: %v %v", ok, err)
	}
	// An expired lease is due again, for any node to take over.
	due, err = s.DueJobs(ctx, renewed, 10)
	must(t, "DueJobs", err)
	if len(due) != 1 || !due[0].DueAt.Equal(renewed) {
		t.Errorf("DueJobs after the lease = %+v", due)
	}
	// A finished job cannot be claimed.
	done := j
	done.Status, done.StatusMessage, done.CompletedAt = glacier.JobSucceeded, "Succeeded", renewed
	must(t, "FinishJob", s.FinishJob(ctx, done, nil))
	if ok, err := cl.ClaimJob(ctx, "sel", renewed, renewed.Add(time.Minute)); err != nil || ok {
		t.Errorf("claim of a finished job: %v %v", ok, err)
	}
}
