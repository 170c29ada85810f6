package postgres

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

// Races the conformance suite does not run (yet), between operations that
// several nodes may perform at once. Each runs its racers on two stores
// opened on the same database, as two nodes would.

const racers = 8

// twoNodes returns two stores on one fresh database.
func twoNodes(t *testing.T) [2]*DB {
	dsn := newDSN(t)
	nodes := [2]*DB{mustOpen(t, dsn), mustOpen(t, dsn)}
	warm(t, nodes[0])
	warm(t, nodes[1])
	return nodes
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestRaceFinishJob: of many nodes finishing one job exactly one wins, and
// only its notification is queued. Rounds alternate archive retrievals
// (which pin segments) and inventory retrievals (which do not).
func TestRaceFinishJob(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	a := archive("a", "v", t0, "k0", "k1")
	must(t, "CreateArchive", s.CreateArchive(ctx, a))
	const rounds = 4
	for r := range rounds {
		j := retrieval(fmt.Sprintf("j%d", r), a, "Standard", t0, at(time.Hour))
		pins := 2
		if r%2 == 1 {
			j = glacier.Job{ID: fmt.Sprintf("j%d", r), AccountID: acct, VaultName: "v", Action: glacier.InventoryRetrieval,
				CreatedAt: t0, DueAt: at(time.Hour), Status: glacier.JobInProgress, Format: "JSON"}
			pins = 0
		}
		must(t, "CreateJob", s.CreateJob(ctx, j))
		errs := metatest.Race(racers, func(i int) error {
			done := j
			done.Status, done.StatusMessage, done.CompletedAt = glacier.JobSucceeded, fmt.Sprint(i), at(time.Hour)
			done.OutputKey = fmt.Sprintf("%s-out-%d", j.ID, i)
			note := glacier.Notification{ID: fmt.Sprintf("%s-note-%d", j.ID, i), TopicARN: "arn:t", CreatedAt: at(time.Hour), NextAttemptAt: at(time.Hour)}
			return nodes[i%2].FinishJob(ctx, done, []glacier.Notification{note})
		})
		won := metatest.Winners(t, "FinishJob", errs, glacier.KindConflict)
		if len(won) != 1 {
			t.Fatalf("round %d: %d winners (%v), want exactly 1", r, len(won), errs)
		}
		got, err := s.GetJob(ctx, acct, "v", j.ID)
		must(t, "GetJob", err)
		if got.Status != glacier.JobSucceeded || got.StatusMessage != fmt.Sprint(won[0]) || len(got.Segments) != pins ||
			got.OutputKey != fmt.Sprintf("%s-out-%d", j.ID, won[0]) {
			t.Errorf("round %d: job after the race = %+v, want succeeded by racer %d with %d pinned segments", r, got, won[0], pins)
		}
		notes, err := s.DueNotifications(ctx, at(time.Hour), 100)
		must(t, "DueNotifications", err)
		if len(notes) != 1 || notes[0].ID != fmt.Sprintf("%s-note-%d", j.ID, won[0]) {
			t.Errorf("round %d: outbox holds %+v, want only the winner's note", r, notes)
		}
		for _, n := range notes {
			must(t, "NotificationDelivered", s.NotificationDelivered(ctx, n.ID))
		}
	}
}

// TestRaceDeleteArchiveVersusFinishJob: a retrieval that succeeds while its
// archive is deleted either pins the segments (and they stay referenced)
// or finds the archive gone; never are the pins committed after the
// deleter was told the blobs are free.
func TestRaceDeleteArchiveVersusFinishJob(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	outcomes := map[string]int{}
	for r := range 12 {
		key := fmt.Sprintf("k%d", r)
		a := archive(fmt.Sprintf("a%d", r), "v", t0, key)
		must(t, "CreateArchive", s.CreateArchive(ctx, a))
		j := retrieval(fmt.Sprintf("j%d", r), a, "Standard", t0, at(time.Hour))
		must(t, "CreateJob", s.CreateJob(ctx, j))

		var referencedAfterDelete bool
		errs := metatest.Race(2, func(i int) error {
			if i == 0 {
				done := j
				done.Status, done.StatusMessage, done.CompletedAt = glacier.JobSucceeded, "Succeeded", at(time.Hour)
				return nodes[0].FinishJob(ctx, done, nil)
			}
			if _, err := nodes[1].DeleteArchive(ctx, acct, "v", a.ID, at(time.Hour)); err != nil {
				return err
			}
			// What the deleting service asks before removing the blob.
			var err error
			referencedAfterDelete, err = nodes[1].BlobReferenced(ctx, key)
			return err
		})
		if errs[1] != nil {
			t.Fatalf("round %d: DeleteArchive: %v", r, errs[1])
		}
		switch {
		case errs[0] == nil:
			outcomes["pinned"]++
			if !referencedAfterDelete {
				t.Errorf("round %d: the job pinned %s but the deleter saw it unreferenced", r, key)
			}
		case glacier.IsNotFound(errs[0]):
			outcomes["archive gone"]++
			if referencedAfterDelete {
				t.Errorf("round %d: the job failed but %s is still referenced", r, key)
			}
		default:
			t.Errorf("round %d: FinishJob: %v", r, errs[0])
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestRaceCreateArchiveVersusDeleteVault: a vault whose deletion requires
// it to be empty is never deleted with an archive just added.
func TestRaceCreateArchiveVersusDeleteVault(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	outcomes := map[string]int{}
	defer func() { t.Logf("outcomes: %v", outcomes) }()
	for r := range 12 {
		vault := fmt.Sprintf("v%d", r)
		_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: vault, CreatedAt: t0}, 100)
		must(t, "CreateVault", err)
		refused := fmt.Errorf("not empty")
		errs := metatest.Race(2, func(i int) error {
			if i == 0 {
				return nodes[0].CreateArchive(ctx, archive("a"+vault, vault, t0, "k"+vault))
			}
			_, err := nodes[1].DeleteVault(ctx, acct, vault, func(v glacier.Vault) error {
				if v.NumberOfArchives > 0 {
					return refused
				}
				return nil
			})
			return err
		})
		created, deleted := errs[0] == nil, errs[1] == nil
		outcomes[fmt.Sprintf("created %v, deleted %v", created, deleted)]++
		switch {
		case created && deleted:
			t.Errorf("round %d: the vault was deleted with its new archive", r)
		case created && errs[1] != refused:
			t.Errorf("round %d: DeleteVault: %v, want the check's refusal", r, errs[1])
		case deleted && !glacier.IsNotFound(errs[0]):
			t.Errorf("round %d: CreateArchive into the deleted vault: %v, want KindNotFound", r, errs[0])
		}
		used, err := s.BlobReferenced(ctx, "k"+vault)
		must(t, "BlobReferenced", err)
		if used != created {
			t.Errorf("round %d: archive created %v but its blob referenced %v", r, created, used)
		}
	}
}

// TestRacePutPartVersusComplete: a part recorded while its upload completes
// either makes it into the archive or is refused; it never lingers in a
// closed upload.
func TestRacePutPartVersusComplete(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	outcomes := map[string]int{}
	defer func() { t.Logf("outcomes: %v", outcomes) }()
	for r := range 12 {
		id := fmt.Sprintf("u%d", r)
		must(t, "CreateUpload", s.CreateUpload(ctx, glacier.Upload{ID: id, AccountID: acct, VaultName: "v", PartSize: 1 << 20, CreatedAt: t0}))
		first := glacier.Part{UploadID: id, Start: 0, Size: 1 << 20, TreeHash: hashOf(id + "p0"), Leaves: leavesOf(id+"p0", 1), BlobKey: id + "/p0"}
		_, err := s.PutPart(ctx, first)
		must(t, "PutPart", err)
		late := glacier.Part{UploadID: id, Start: 1 << 20, Size: 1, TreeHash: hashOf(id + "p1"), Leaves: leavesOf(id+"p1", 1), BlobKey: id + "/p1"}
		var parts int
		errs := metatest.Race(2, func(i int) error {
			if i == 0 {
				_, err := nodes[0].PutPart(ctx, late)
				return err
			}
			_, err := nodes[1].CompleteUpload(ctx, id, archive("a"+id, "v", t0), func(_ glacier.Upload, p []glacier.Part) error {
				parts = len(p)
				return nil
			})
			return err
		})
		must(t, "CompleteUpload", errs[1])
		a, err := s.GetArchive(ctx, "a"+id)
		must(t, "GetArchive", err)
		used, err := s.BlobReferenced(ctx, late.BlobKey)
		must(t, "BlobReferenced", err)
		outcomes[fmt.Sprintf("part recorded %v", errs[0] == nil)]++
		switch {
		case errs[0] == nil:
			if parts != 2 || len(a.Segments) != 2 || !used {
				t.Errorf("round %d: the late part was recorded but the archive has %d segments (check saw %d), referenced %v", r, len(a.Segments), parts, used)
			}
		case glacier.KindOf(errs[0]) == glacier.KindConflict:
			if parts != 1 || len(a.Segments) != 1 || used {
				t.Errorf("round %d: the late part was refused but the archive has %d segments, referenced %v", r, len(a.Segments), used)
			}
		default:
			t.Errorf("round %d: PutPart: %v", r, errs[0])
		}
	}
}

// TestRacePurchaseCapacity: concurrent purchases never exceed the limit.
func TestRacePurchaseCapacity(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	const limit = 3
	errs := metatest.Race(racers, func(i int) error {
		return nodes[i%2].PurchaseCapacity(ctx, glacier.ProvisionedCapacity{ID: fmt.Sprintf("c%d", i), AccountID: acct,
			StartDate: t0, ExpiresAt: t0.AddDate(0, 1, 0)}, limit)
	})
	if won := metatest.Winners(t, "PurchaseCapacity", errs, glacier.KindLimitExceeded); len(won) != limit {
		t.Errorf("%d purchases succeeded, want %d", len(won), limit)
	}
	list, err := nodes[0].ListCapacity(ctx, acct, t0)
	must(t, "ListCapacity", err)
	if len(list) != limit {
		t.Errorf("the account holds %d units, want %d", len(list), limit)
	}
}

// TestRaceDueNotifications: nodes polling the outbox at once share the due
// notifications out, each to one node; claimed ones come back when the
// lease ends.
func TestRaceDueNotifications(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	const total = 40
	var notes []glacier.Notification
	for i := range total {
		notes = append(notes, glacier.Notification{ID: fmt.Sprintf("n%02d", i), TopicARN: "arn:t", Subject: "s", Message: "m",
			CreatedAt: at(time.Duration(i) * time.Millisecond), NextAttemptAt: t0})
	}
	j := glacier.Job{ID: "j", AccountID: acct, VaultName: "v", Action: glacier.InventoryRetrieval, CreatedAt: t0, DueAt: t0,
		Status: glacier.JobInProgress, Format: "JSON"}
	must(t, "CreateJob", s.CreateJob(ctx, j))
	j.Status, j.CompletedAt = glacier.JobSucceeded, t0
	must(t, "FinishJob", s.FinishJob(ctx, j, notes))

	now := at(time.Second)
	got := make([][]glacier.Notification, racers)
	errs := metatest.Race(racers, func(i int) error {
		var err error
		got[i], err = nodes[i%2].DueNotifications(ctx, now, 10)
		return err
	})
	var ids []string
	for i, err := range errs {
		must(t, fmt.Sprintf("DueNotifications %d", i), err)
		if len(got[i]) > 10 {
			t.Errorf("racer %d got %d notifications, limit 10", i, len(got[i]))
		}
		for k, n := range got[i] {
			ids = append(ids, n.ID)
			if !n.NextAttemptAt.Equal(t0) {
				t.Errorf("racer %d: %s NextAttemptAt %v, want %v as stored before the claim", i, n.ID, n.NextAttemptAt, t0)
			}
			if k > 0 && got[i][k-1].CreatedAt.After(n.CreatedAt) {
				t.Errorf("racer %d: notifications out of order: %s before %s", i, got[i][k-1].ID, n.ID)
			}
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("a notification went to two racers: %v", ids)
	}
	if len(ids) != total {
		t.Errorf("the racers claimed %d notifications, want all %d", len(ids), total)
	}

	again, err := s.DueNotifications(ctx, now, 100)
	must(t, "DueNotifications", err)
	if len(again) != 0 {
		t.Errorf("claimed notifications due again within the lease: %d", len(again))
	}
	must(t, "NotificationDelivered", s.NotificationDelivered(ctx, "n00"))
	must(t, "NotificationFailed", s.NotificationFailed(ctx, "n01", at(time.Hour), "boom"))
	again, err = s.DueNotifications(ctx, now.Add(notificationLease), 100)
	must(t, "DueNotifications", err)
	if len(again) != total-2 {
		t.Errorf("after the lease %d notifications are due, want %d", len(again), total-2)
	}
}

// TestRacePutPartVersusDeleteVault: a part recorded while its vault is
// deleted is either refused (the caller deletes its blob) or among the
// blobs the deletion reports; it never leaks.
func TestRacePutPartVersusDeleteVault(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	s := nodes[0]
	outcomes := map[string]int{}
	for r := range 12 {
		vault := fmt.Sprintf("v%d", r)
		_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: vault, CreatedAt: t0}, 100)
		must(t, "CreateVault", err)
		id := "u" + vault
		must(t, "CreateUpload", s.CreateUpload(ctx, glacier.Upload{ID: id, AccountID: acct, VaultName: vault, PartSize: 1 << 20, CreatedAt: t0}))
		part := glacier.Part{UploadID: id, Start: 0, Size: 1, TreeHash: hashOf(id), Leaves: leavesOf(id, 1), BlobKey: id + "/p0"}
		var orphans []string
		errs := metatest.Race(2, func(i int) error {
			if i == 0 {
				_, err := nodes[0].PutPart(ctx, part)
				return err
			}
			if r%2 == 0 {
				time.Sleep(time.Millisecond) // let the part go first, sometimes
			}
			var err error
			orphans, err = nodes[1].DeleteVault(ctx, acct, vault, func(glacier.Vault) error { return nil })
			return err
		})
		must(t, "DeleteVault", errs[1])
		switch {
		case errs[0] == nil:
			outcomes["recorded"]++
			if !slices.Contains(orphans, part.BlobKey) {
				t.Errorf("round %d: the part was recorded, but DeleteVault reported %v without it", r, orphans)
			}
		case glacier.IsNotFound(errs[0]):
			outcomes["refused"]++
			if slices.Contains(orphans, part.BlobKey) {
				t.Errorf("round %d: the part was refused, but DeleteVault reported it too", r)
			}
		default:
			t.Errorf("round %d: PutPart: %v", r, errs[0])
		}
	}
	t.Logf("outcomes: %v", outcomes)
}
