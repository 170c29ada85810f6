package glacier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

func TestInitiateJobRules(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	e.mustVault("w")
	a := e.mustArchive("v", payload(3*mib+5))
	other := e.mustArchive("w", []byte("elsewhere"))
	archive := func(r glacier.JobRequest) glacier.JobRequest {
		r.Type = glacier.ArchiveRetrieval
		if r.ArchiveID == "" {
			r.ArchiveID = a.ID
		}
		return r
	}
	for _, c := range []struct {
		what  string
		vault string
		req   glacier.JobRequest
		kind  glacier.Kind
		frag  string
	}{
		// The wire's strings (job type, tier, range syntax, inventory
		// format, dates, limit, marker) are parsed in internal/api
		// (jobrequest_test.go); the domain checks what needs the vault.
		{"an unknown type", "v", glacier.JobRequest{Type: "restore"}, glacier.KindInvalidParameter, `Invalid job type: "restore"`},
		{"an unknown tier", "v", archive(glacier.JobRequest{Tier: "Fast"}), glacier.KindInvalidParameter, `Invalid tier: "Fast"`},
		{"a range past the end", "v", archive(glacier.JobRequest{Range: &glacier.RetrievalRange{Start: 0, End: 4194304}}), glacier.KindInvalidParameter, "ends beyond the archive's last byte 3145732"},
		{"an unaligned range", "v", archive(glacier.JobRequest{Range: &glacier.RetrievalRange{Start: 0, End: 10}}), glacier.KindInvalidParameter, `"0-10" is not megabyte aligned`},
		{"an unknown archive", "v", archive(glacier.JobRequest{ArchiveID: "no-such-archive"}), glacier.KindNotFound, "The archive ID was not found: no-such-archive"},
		{"another vault's archive", "v", archive(glacier.JobRequest{ArchiveID: other.ID}), glacier.KindNotFound, "The archive ID was not found: " + other.ID},
		{"a missing vault", "nope", archive(glacier.JobRequest{}), glacier.KindNotFound, "Vault not found"},
		{"a bad vault name", "no/pe", archive(glacier.JobRequest{}), glacier.KindInvalidParameter, "Invalid vault name"},
		{"a non-ASCII description", "v", archive(glacier.JobRequest{Description: "\x01"}), glacier.KindInvalidParameter, "Invalid job description: byte 0x01 at position 0 is not printable ASCII"},
		{"a long description", "v", archive(glacier.JobRequest{Description: strings.Repeat("d", 1025)}), glacier.KindInvalidParameter, "Invalid job description: 1025 characters is longer than the maximum of 1024"},
		{"a bad topic", "v", archive(glacier.JobRequest{SNSTopic: "topic"}), glacier.KindInvalidParameter, `Invalid SNS topic: "topic" is not an SNS topic ARN`},
		{"another account's topic", "v", archive(glacier.JobRequest{SNSTopic: "arn:aws:sns:us-east-1:" + otherAccount + ":t"}), glacier.KindInvalidParameter, "Invalid SNS topic: topic arn:aws:sns:us-east-1:" + otherAccount + ":t belongs to account " + otherAccount},
		{"a select job without output location", "v", glacier.JobRequest{Type: glacier.SelectJobAction, ArchiveID: a.ID, SelectParameters: selectRequest(a.ID).SelectParameters}, glacier.KindMissingParameter, "Required parameter missing: OutputLocation.S3"},
	} {
		e.failsCleanly(c.what, c.kind, func() error {
			_, err := s.InitiateJob(ctx, owner, ownerAccount, c.vault, c.req)
			return err
		}, c.frag)
	}

	// A range gets a tree hash only when it is a subtree of the archive's
	// tree (data-plane.md §5.6).
	data := payload(3*mib + 5)
	for _, c := range []struct {
		r    glacier.RetrievalRange
		want *treehash.Hash
	}{
		{glacier.RetrievalRange{Start: 0, End: 2097151}, ptr(treehash.Sum(data[:2*mib]))},
		{glacier.RetrievalRange{Start: 2097152, End: 3145727}, ptr(treehash.Sum(data[2*mib : 3*mib]))},
		{glacier.RetrievalRange{Start: 1048576, End: 3145727}, nil},
	} {
		j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", archive(glacier.JobRequest{Range: &c.r}))
		if err != nil {
			t.Fatalf("range %s: %v", c.r, err)
		}
		if (j.RangeTreeHash == nil) != (c.want == nil) || c.want != nil && *j.RangeTreeHash != *c.want {
			t.Errorf("range %s: tree hash %v, want %v", c.r, j.RangeTreeHash, c.want)
		}
	}
}

// TestJobsCompleteOnTheClock: a job stays InProgress until the service
// clock reaches its tier's delay, then the scheduler's pass completes it;
// its output is served in ranges with the tree hash where the rules allow
// one; and after the retention it is gone.
func TestJobsCompleteOnTheClock(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.ExpeditedSharedPool = -1 })
	s := e.svc
	e.mustVault("v")
	data := payload(3*mib + 5)
	a := e.mustArchive("v", data)

	created := e.clock.Now()
	std, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Range: &glacier.RetrievalRange{Start: 2097152, End: 3145732}, Description: "tail"})
	if err != nil {
		t.Fatal(err)
	}
	if std.Status != glacier.JobInProgress || std.Tier != glacier.TierStandard || std.RangeStart != 2*mib || std.RangeEnd != 3*mib+4 {
		t.Errorf("new job %+v", std)
	}
	exp, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Tier: glacier.TierExpedited})
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Tier: glacier.TierBulk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, nil)
	wantErr(t, err, glacier.KindInvalidParameter, "The job is not currently available for download: "+std.ID)

	status := func(id string) glacier.JobStatus {
		t.Helper()
		j, err := s.DescribeJob(ctx, owner, ownerAccount, "v", id)
		if err != nil {
			t.Fatal(err)
		}
		return j.Status
	}
	e.advance(59 * time.Second)
	if status(exp.ID) != glacier.JobInProgress {
		t.Errorf("Expedited done before its minute")
	}
	e.advance(2 * time.Second)
	if status(exp.ID) != glacier.JobSucceeded || status(std.ID) != glacier.JobInProgress {
		t.Errorf("after a minute: Expedited %s, Standard %s", status(exp.ID), status(std.ID))
	}
	succeeded, _, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{Status: glacier.JobSucceeded}, "", 10)
	if err != nil || len(succeeded) != 1 || succeeded[0].ID != exp.ID {
		t.Errorf("ListJobs Succeeded = %v, %v", succeeded, err)
	}
	no := false
	running, _, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{Completed: &no}, "", 10)
	if err != nil || len(running) != 2 {
		t.Errorf("ListJobs not completed = %d jobs, %v; want 2", len(running), err)
	}
	e.clock.Advance(3*time.Hour - 2*time.Minute)
	e.advance(0)
	if status(std.ID) != glacier.JobInProgress {
		t.Errorf("Standard done before its 3 hours")
	}
	e.advance(2 * time.Minute)
	if status(std.ID) != glacier.JobSucceeded || status(bulk.ID) != glacier.JobInProgress {
		t.Errorf("after 3 hours: Standard %s, Bulk %s", status(std.ID), status(bulk.ID))
	}
	e.advance(2 * time.Hour)
	if status(bulk.ID) != glacier.JobSucceeded {
		t.Errorf("Bulk not done after 5 hours")
	}
	j, _ := s.DescribeJob(ctx, owner, ownerAccount, "v", std.ID)
	if !j.CompletedAt.After(created.Add(3*time.Hour)) || j.Description != "tail" {
		t.Errorf("completed job %+v", j)
	}

	// The whole range of the job: the last two tree-hash leaves (1 MiB and
	// 5 bytes), a subtree, so it has a tree hash.
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := data[2*mib:]
	if got := readAll(t, out.Body); !bytes.Equal(got, want) || out.Total != int64(len(want)) || out.Partial {
		t.Errorf("whole output: %d bytes (total %d, partial %v), want %d", len(got), out.Total, out.Partial, len(want))
	}
	if out.TreeHash == nil || *out.TreeHash != treehash.Sum(want) {
		t.Errorf("whole output tree hash %v, want %s", out.TreeHash, treehash.Sum(want))
	}
	// A slice on a subtree has a tree hash; an unaligned one has none.
	out, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, &glacier.ByteRange{First: 0, Last: mib - 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, want[:mib]) || !out.Partial || out.TreeHash == nil || *out.TreeHash != treehash.Sum(want[:mib]) {
		t.Errorf("aligned slice: %d bytes, partial %v, tree hash %v", len(got), out.Partial, out.TreeHash)
	}
	out, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, &glacier.ByteRange{First: 10, Last: 19})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, want[10:20]) || out.TreeHash != nil || out.First != 10 || out.Last != 19 {
		t.Errorf("unaligned slice: %q, tree hash %v, %d-%d", got, out.TreeHash, out.First, out.Last)
	}
	out, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, &glacier.ByteRange{First: mib, Last: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, want[mib:]) {
		t.Errorf("open-ended range: %d bytes, want 5", len(got))
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, &glacier.ByteRange{First: int64(len(want)), Last: -1})
	wantErr(t, err, glacier.KindInvalidParameter, "The start of the range is larger than size of retrieved data: bytes=1048581-")
	// A reversed or negative range is refused, not read backwards (it
	// used to panic in the verified reader).
	for _, r := range []glacier.ByteRange{{First: 10, Last: 5}, {First: -5, Last: 3}} {
		_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", std.ID, &r)
		wantErr(t, err, glacier.KindInvalidParameter, "Invalid range: bytes=")
	}
	_, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", "no-such-job", nil)
	wantErr(t, err, glacier.KindNotFound, "The job ID was not found: no-such-job")

	// Paging and a marker from elsewhere.
	page, next, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{}, "", 2)
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("ListJobs page = %d, %q, %v", len(page), next, err)
	}
	if rest, last, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{}, next, 2); err != nil || len(rest) != 1 || last != "" {
		t.Errorf("ListJobs second page = %d, %q, %v", len(rest), last, err)
	}
	_, _, err = s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{}, "bogus", 2)
	wantErr(t, err, glacier.KindInvalidParameter, `Invalid marker: "bogus" is not a job of this vault`)

	// After the 24-hour retention the jobs are gone.
	e.advance(25 * time.Hour)
	_, err = s.DescribeJob(ctx, owner, ownerAccount, "v", std.ID)
	wantErr(t, err, glacier.KindNotFound, "The job ID was not found: "+std.ID)
	if jobs, _, err := s.ListJobs(ctx, owner, ownerAccount, "v", glacier.JobFilter{}, "", 10); err != nil || len(jobs) != 0 {
		t.Errorf("ListJobs after the retention = %d, %v", len(jobs), err)
	}
}

// TestJobOutputOfADeletedArchive: a succeeded retrieval stays
// downloadable after its archive is deleted; a job still running when the
// archive goes fails.
func TestJobOutputOfADeletedArchive(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	data := []byte("precious bytes")
	a := e.mustArchive("v", data)
	done, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	b := e.mustArchive("v", data)
	running, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", id); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", done.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); !bytes.Equal(got, data) {
		t.Errorf("output after the delete = %q", got)
	}
	e.advance(3*time.Hour + time.Second)
	j, err := s.DescribeJob(ctx, owner, ownerAccount, "v", running.ID)
	if err != nil || j.Status != glacier.JobFailed || !strings.Contains(j.StatusMessage, "The archive was deleted before the job completed") {
		t.Errorf("the job of a deleted archive: %s %q, %v", j.Status, j.StatusMessage, err)
	}
	// Once the succeeded job is purged, its pinned blob goes too.
	e.advance(25 * time.Hour)
	if blobs := e.snapshot()["blobs"]; len(blobs) != 0 {
		t.Errorf("blobs after the jobs were purged: %v", blobs)
	}
}

func TestInventoryJob(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("one"))
	b := e.mustArchive("v", []byte("two!"))
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.InventoryRetrieval})
	if err != nil {
		t.Fatal(err)
	}
	if j.Format != "JSON" || j.Action != glacier.InventoryRetrieval {
		t.Errorf("inventory job %+v", j)
	}
	csv, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.InventoryRetrieval, Inventory: glacier.InventoryRequest{Format: "CSV"}})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	out, err := s.GetJobOutput(ctx, owner, ownerAccount, "v", j.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		VaultARN    string
		ArchiveList []struct {
			ArchiveId string
			Size      int64
		}
	}
	raw := readAll(t, out.Body)
	if err := json.Unmarshal(raw, &inv); err != nil {
		t.Fatalf("inventory %s: %v", raw, err)
	}
	if inv.VaultARN != s.VaultARN(ownerAccount, "v") || len(inv.ArchiveList) != 2 {
		t.Fatalf("inventory %s", raw)
	}
	sizes := map[string]int64{}
	for _, x := range inv.ArchiveList {
		sizes[x.ArchiveId] = x.Size
	}
	if sizes[a.ID] != 3 || sizes[b.ID] != 4 {
		t.Errorf("inventory sizes %v", sizes)
	}
	out, err = s.GetJobOutput(ctx, owner, ownerAccount, "v", csv.ID, &glacier.ByteRange{First: 0, Last: 9})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, out.Body); len(got) != 10 || !out.Partial || out.TreeHash != nil {
		t.Errorf("CSV inventory range: %q, partial %v", got, out.Partial)
	}
}

func TestDataRetrievalPolicy(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	p, err := s.GetDataRetrievalPolicy(ctx, owner, ownerAccount)
	if err != nil || p.Strategy != "None" {
		t.Errorf("default policy %+v, %v; want None", p, err)
	}
	for _, c := range []struct {
		what  string
		rules []glacier.RetrievalPolicy
		kind  glacier.Kind
		frag  string
	}{
		{"no rules", nil, glacier.KindInvalidParameter, "it must have exactly one rule, not 0"},
		{"two rules", []glacier.RetrievalPolicy{{Strategy: "None"}, {Strategy: "FreeTier"}}, glacier.KindInvalidParameter, "exactly one rule, not 2"},
		{"BytesPerHour without bytes", []glacier.RetrievalPolicy{{Strategy: "BytesPerHour"}}, glacier.KindInvalidParameter, "BytesPerHour must be between 1 and 9223372036854775807"},
		{"bytes without BytesPerHour", []glacier.RetrievalPolicy{{Strategy: "FreeTier", BytesPerHour: 5}}, glacier.KindInvalidParameter, "BytesPerHour is only allowed with the BytesPerHour strategy"},
		{"no strategy", []glacier.RetrievalPolicy{{}}, glacier.KindMissingParameter, "Required parameter missing: Strategy"},
		{"an unknown strategy", []glacier.RetrievalPolicy{{Strategy: "Unlimited"}}, glacier.KindInvalidParameter, `strategy "Unlimited" must be BytesPerHour, FreeTier or None`},
	} {
		e.failsCleanly(c.what, c.kind, func() error { return s.SetDataRetrievalPolicy(ctx, owner, ownerAccount, c.rules) }, c.frag)
	}

	e.mustVault("v")
	a := e.mustArchive("v", payload(3*mib+5))
	job := func(tier, r string) error {
		req := glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Tier: tier}
		if first, last, ok := strings.Cut(r, "-"); ok {
			start, _ := strconv.ParseInt(first, 10, 64)
			end, _ := strconv.ParseInt(last, 10, 64)
			req.Range = &glacier.RetrievalRange{Start: start, End: end}
		}
		_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", req)
		return err
	}

	// BytesPerHour: in-flight Standard bytes count spread over 4 hours.
	if err := s.SetDataRetrievalPolicy(ctx, owner, ownerAccount, []glacier.RetrievalPolicy{{Strategy: "BytesPerHour", BytesPerHour: 500000}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.GetDataRetrievalPolicy(ctx, owner, ownerAccount); p.Strategy != "BytesPerHour" || p.BytesPerHour != 500000 {
		t.Errorf("policy read back %+v", p)
	}
	const denied = "InitiateJob request denied by current data retrieval policy."
	e.failsCleanly("the whole archive over BytesPerHour", glacier.KindPolicyEnforced, func() error { return job("", "") }, denied)
	if err := job("", "0-1048575"); err != nil {
		t.Fatalf("one MiB under BytesPerHour: %v", err)
	}
	e.failsCleanly("a second MiB while the first is in flight", glacier.KindPolicyEnforced, func() error { return job("", "1048576-2097151") }, denied)
	if err := job(glacier.TierBulk, ""); err != nil {
		t.Errorf("a Bulk job is not subject to the policy: %v", err)
	}
	e.advance(3*time.Hour + time.Second)
	if err := job("", "1048576-2097151"); err != nil {
		t.Errorf("a MiB once the first finished: %v", err)
	}

	// FreeTier: the day's Standard bytes against the allowance.
	e2 := newService(t, func(s *glacier.Service) { s.FreeTierBytesPerDay = 2 * mib })
	s, e = e2.svc, e2
	e.mustVault("v")
	a = e.mustArchive("v", payload(3*mib+5))
	if err := s.SetDataRetrievalPolicy(ctx, owner, ownerAccount, []glacier.RetrievalPolicy{{Strategy: "FreeTier"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"0-1048575", "1048576-2097151"} {
		if err := job("", r); err != nil {
			t.Fatalf("range %s within the free tier: %v", r, err)
		}
	}
	e.failsCleanly("a third MiB in one day", glacier.KindPolicyEnforced, func() error { return job("", "2097152-3145727") }, denied)
	e.advance(24*time.Hour + time.Second)
	if err := job("", "2097152-3145727"); err != nil {
		t.Errorf("the next day: %v", err)
	}
}

func TestProvisionedCapacity(t *testing.T) {
	ctx := context.Background()
	e := newService(t) // no shared Expedited pool: only purchased capacity
	s := e.svc
	e.mustVault("v")
	a := e.mustArchive("v", []byte("urgent"))
	expedited := func() error {
		_, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID, Tier: glacier.TierExpedited})
		return err
	}
	const noCapacity = "There is not enough capacity to process this Expedited job request"
	e.failsCleanly("Expedited without capacity", glacier.KindInsufficientCapacity, expedited, noCapacity)

	pc, err := s.PurchaseProvisionedCapacity(ctx, owner, ownerAccount)
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.ExpiresAt.Sub(pc.StartDate); got < 28*24*time.Hour || got > 31*24*time.Hour {
		t.Errorf("a unit lasts %v, want a month", got)
	}
	for i := range 3 {
		if err := expedited(); err != nil {
			t.Fatalf("Expedited job %d of 3 with one unit: %v", i+1, err)
		}
	}
	e.failsCleanly("a fourth Expedited job in 5 minutes", glacier.KindInsufficientCapacity, expedited, noCapacity)
	e.advance(5*time.Minute + time.Second)
	if err := expedited(); err != nil {
		t.Errorf("Expedited 5 minutes later: %v", err)
	}

	if _, err := s.PurchaseProvisionedCapacity(ctx, owner, ownerAccount); err != nil {
		t.Fatal(err)
	}
	e.failsCleanly("a third unit", glacier.KindLimitExceeded, func() error {
		_, err := s.PurchaseProvisionedCapacity(ctx, owner, ownerAccount)
		return err
	}, "You have reached the limit of 2 provisioned capacity units for account "+ownerAccount)
	if units, err := s.ListProvisionedCapacity(ctx, owner, ownerAccount); err != nil || len(units) != 2 {
		t.Errorf("ListProvisionedCapacity = %d, %v; want 2", len(units), err)
	}
	if units, err := s.ListProvisionedCapacity(ctx, root(otherAccount), otherAccount); err != nil || len(units) != 0 {
		t.Errorf("another account's capacity = %d, %v; want 0", len(units), err)
	}
	e.clock.Advance(32 * 24 * time.Hour)
	if units, err := s.ListProvisionedCapacity(ctx, owner, ownerAccount); err != nil || len(units) != 0 {
		t.Errorf("after a month ListProvisionedCapacity = %d, %v; want 0", len(units), err)
	}
}
