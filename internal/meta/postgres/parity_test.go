package postgres

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// The conformance suite does not cover jobs, inventories, provisioned
// capacity and the outbox yet. TestParityWithSQLite runs one script of
// calls against both stores and requires the same results, error kinds
// included: the SQLite store is the reference.

const (
	acct  = "111122223333"
	acct2 = "444455556666"
)

var t0 = time.Date(2024, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func hashOf(name string) treehash.Hash { return treehash.Hash(sha256.Sum256([]byte(name))) }

func leavesOf(prefix string, n int) []treehash.Hash {
	l := make([]treehash.Hash, n)
	for i := range l {
		l[i] = hashOf(fmt.Sprintf("%s/leaf%d", prefix, i))
	}
	return l
}

// archive returns an archive of the vault with one segment per key.
func archive(id, vault string, created time.Time, keys ...string) glacier.Archive {
	a := glacier.Archive{ID: id, AccountID: acct, VaultName: vault, CreatedAt: created,
		TreeHash: hashOf(id), Description: "archive " + id}
	for i, k := range keys {
		a.Segments = append(a.Segments, glacier.Segment{BlobKey: k, Size: int64(i + 1), TreeHash: hashOf(k), Leaves: leavesOf(k, i+1)})
		a.Size += int64(i + 1)
	}
	return a
}

// retrieval returns an archive retrieval job of a.
func retrieval(id string, a glacier.Archive, tier string, created, due time.Time) glacier.Job {
	rh := hashOf("range " + id)
	return glacier.Job{ID: id, AccountID: a.AccountID, VaultName: a.VaultName, Action: glacier.ArchiveRetrieval,
		Description: "job " + id, SNSTopic: "arn:aws:sns:us-east-1:111122223333:t", Tier: tier,
		CreatedAt: created, DueAt: due, Status: glacier.JobInProgress, StatusMessage: "",
		ArchiveID: a.ID, ArchiveSize: a.Size, ArchiveTreeHash: a.TreeHash, ArchiveDescription: a.Description,
		RangeStart: 0, RangeEnd: a.Size - 1, RangeTreeHash: &rh}
}

// recorder logs what each call returned, for comparing two stores.
type recorder struct{ lines []string }

func (r *recorder) add(what string, vals ...any) {
	var b strings.Builder
	b.WriteString(what)
	for _, v := range vals {
		switch v := v.(type) {
		case error:
			fmt.Fprintf(&b, " error(%v)", glacier.KindOf(v))
		case nil:
			b.WriteString(" <nil>")
		default:
			fmt.Fprintf(&b, " %+v", v)
		}
	}
	r.lines = append(r.lines, b.String())
}

// sortedKeys returns a sorted copy of a set of blob keys (the contract
// gives no order).
func sortedKeys(keys []string) []string {
	k := slices.Clone(keys)
	slices.Sort(k)
	return k
}

// jobScript exercises jobs, inventories, capacity and the outbox.
func jobScript(t *testing.T, s metatest.Store) []string {
	ctx := t.Context()
	r := &recorder{}
	for _, v := range []string{"v1", "v2"} {
		_, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: v, CreatedAt: t0}, 10)
		r.add("CreateVault "+v, err)
	}
	a1 := archive("a1", "v1", at(time.Second), "k1a", "k1b")
	a2 := archive("a2", "v1", at(time.Second), "k2")
	a3 := archive("a0", "v1", at(2*time.Second), "k3")
	for _, a := range []glacier.Archive{a1, a2, a3} {
		r.add("CreateArchive "+a.ID, s.CreateArchive(ctx, a))
	}

	// Jobs.
	j1 := retrieval("j1", a1, "Standard", at(time.Minute), at(time.Hour))
	j2 := retrieval("j2", a2, "Bulk", at(time.Minute), at(2*time.Hour))
	j3 := glacier.Job{ID: "j3", AccountID: acct, VaultName: "v1", Action: glacier.InventoryRetrieval,
		Description: "inv", CreatedAt: at(2 * time.Minute), DueAt: at(3 * time.Hour), Status: glacier.JobInProgress,
		Format: "JSON", StartDate: at(-time.Hour), EndDate: at(time.Hour), Limit: 10, Marker: "m"}
	j4 := retrieval("j0", a3, "Expedited", at(time.Minute), at(time.Hour))
	for _, j := range []glacier.Job{j1, j2, j3, j4} {
		r.add("CreateJob "+j.ID, s.CreateJob(ctx, j))
	}
	missing := j1
	missing.ID, missing.VaultName = "jx", "nope"
	r.add("CreateJob in a missing vault", s.CreateJob(ctx, missing))
	r.add("CreateJob duplicate", s.CreateJob(ctx, j1))

	for _, id := range []string{"j1", "j3", "jx"} {
		j, err := s.GetJob(ctx, acct, "v1", id)
		r.add("GetJob "+id, j, err)
	}
	_, err := s.GetJob(ctx, acct, "v2", "j1")
	r.add("GetJob of another vault", err)
	yes, no := true, false
	for _, f := range []glacier.JobFilter{{}, {Completed: &yes}, {Completed: &no}, {Status: glacier.JobInProgress}, {Status: glacier.JobFailed}} {
		for _, from := range []string{"", "j1", "jx"} {
			for _, limit := range []int{0, 2} {
				list, err := s.ListJobs(ctx, acct, "v1", f, from, limit)
				completed := "any"
				if f.Completed != nil {
					completed = fmt.Sprint(*f.Completed)
				}
				r.add(fmt.Sprintf("ListJobs completed %s status %q from %q limit %d", completed, f.Status, from, limit), jobIDs(list), err)
			}
		}
	}
	_, err = s.ListJobs(ctx, acct, "nope", glacier.JobFilter{}, "", 0)
	r.add("ListJobs of a missing vault", err)
	for _, now := range []time.Time{t0, at(time.Hour), at(90 * time.Minute), at(24 * time.Hour)} {
		for _, limit := range []int{0, 1} {
			list, err := s.DueJobs(ctx, now, limit)
			r.add(fmt.Sprintf("DueJobs %v limit %d", now, limit), list, err)
		}
	}
	for _, tier := range []string{"Standard", "Bulk", "Expedited"} {
		for _, inProgress := range []bool{false, true} {
			n, b, err := s.JobsSince(ctx, acct, tier, at(time.Minute), inProgress)
			r.add(fmt.Sprintf("JobsSince %s %v", tier, inProgress), n, b, err)
		}
	}
	n, b, err := s.JobsSince(ctx, acct, "Standard", at(time.Hour), false)
	r.add("JobsSince later", n, b, err)
	leaves, err := s.JobLeaves(ctx, "j1")
	r.add("JobLeaves before finishing", len(leaves), leaves == nil, err)

	note := func(id string, next time.Time) glacier.Notification {
		return glacier.Notification{ID: id, TopicARN: "arn:t", Subject: "s " + id, Message: "m " + id,
			CreatedAt: at(time.Hour), NextAttemptAt: next}
	}
	done := j1
	done.Status, done.StatusMessage, done.CompletedAt = glacier.JobSucceeded, "Succeeded", at(time.Hour)
	r.add("FinishJob j1", s.FinishJob(ctx, done, []glacier.Notification{note("n2", at(time.Hour)), note("n1", at(time.Hour))}))
	r.add("FinishJob j1 again", s.FinishJob(ctx, done, []glacier.Notification{note("n3", at(time.Hour))}))
	j, err := s.GetJob(ctx, acct, "v1", "j1")
	r.add("GetJob finished", j, err)
	leaves, err = s.JobLeaves(ctx, "j1")
	r.add("JobLeaves", leaves, err)

	_, err = s.DeleteArchive(ctx, acct, "v1", "a2", at(time.Hour))
	r.add("DeleteArchive a2", err)
	done2 := j2
	done2.Status, done2.StatusMessage, done2.CompletedAt = glacier.JobSucceeded, "Succeeded", at(2*time.Hour)
	r.add("FinishJob of a deleted archive", s.FinishJob(ctx, done2, []glacier.Notification{note("n4", at(time.Hour))}))
	done2.Status, done2.StatusMessage = glacier.JobFailed, "archive deleted"
	r.add("FinishJob failed", s.FinishJob(ctx, done2, nil))
	gone := j1
	gone.ID = "nope"
	r.add("FinishJob of a missing job", s.FinishJob(ctx, gone, nil))
	done3 := j3
	done3.Status, done3.StatusMessage, done3.CompletedAt = glacier.JobSucceeded, "Succeeded", at(3*time.Hour)
	done3.OutputKey, done3.OutputSize, done3.NextMarker, done3.InventoryDate = "inv-out", 123, "next", at(30*time.Minute)
	r.add("FinishJob inventory", s.FinishJob(ctx, done3, nil))
	for _, id := range []string{"j2", "j3"} {
		j, err := s.GetJob(ctx, acct, "v1", id)
		r.add("GetJob "+id, j, err)
	}

	// Pins outlive the archive.
	_, err = s.DeleteArchive(ctx, acct, "v1", "a1", at(4*time.Hour))
	r.add("DeleteArchive a1", err)
	for _, k := range []string{"k1a", "k1b", "k2", "k3", "inv-out", "nothing"} {
		used, err := s.BlobReferenced(ctx, k)
		r.add("BlobReferenced "+k, used, err)
	}

	// The outbox.
	due, err := s.DueNotifications(ctx, at(time.Hour), 10)
	r.add("DueNotifications", due, err)
	r.add("NotificationFailed n1", s.NotificationFailed(ctx, "n1", at(2*time.Hour), "boom"))
	r.add("NotificationDelivered n2", s.NotificationDelivered(ctx, "n2"))
	r.add("NotificationDelivered missing", s.NotificationDelivered(ctx, "n-none"))
	due, err = s.DueNotifications(ctx, at(time.Hour+time.Minute), 10)
	r.add("DueNotifications before the retry", due, err)
	due, err = s.DueNotifications(ctx, at(2*time.Hour), 10)
	r.add("DueNotifications at the retry", due, err)
	r.add("NotificationDelivered n1", s.NotificationDelivered(ctx, "n1"))

	// Purging jobs.
	orphans, err := s.PurgeJobs(ctx, at(time.Hour))
	r.add("PurgeJobs before any completion", sortedKeys(orphans), err)
	orphans, err = s.PurgeJobs(ctx, at(2*time.Hour+time.Millisecond))
	r.add("PurgeJobs j1 and j2", sortedKeys(orphans), err)
	for _, id := range []string{"j1", "j2", "j3", "j0"} {
		_, err := s.GetJob(ctx, acct, "v1", id)
		r.add("GetJob after purge "+id, err)
	}

	// Inventories.
	var scanned []string
	err = s.ScanArchives(ctx, acct, "v1", func(a glacier.Archive) error {
		scanned = append(scanned, fmt.Sprintf("%+v", a))
		return nil
	})
	r.add("ScanArchives", scanned, err)
	stop := errors.New("stop")
	err = s.ScanArchives(ctx, acct, "v1", func(glacier.Archive) error { return stop })
	r.add("ScanArchives stopped", errors.Is(err, stop))
	r.add("ScanArchives of a missing vault", s.ScanArchives(ctx, acct, "nope", func(glacier.Archive) error { return nil }))
	for _, before := range []time.Time{at(-time.Hour), t0, at(24 * time.Hour)} {
		vs, err := s.VaultsNeedingInventory(ctx, before, 0)
		r.add(fmt.Sprintf("VaultsNeedingInventory %v", before), vs, err)
	}
	replaced, err := s.PutInventory(ctx, acct, "v1", glacier.Inventory{Key: "snap-1", Count: 1, Size: 1, TakenAt: at(5 * time.Hour)})
	r.add("PutInventory", replaced, err)
	replaced, err = s.PutInventory(ctx, acct, "v1", glacier.Inventory{Key: "snap-2", Count: 1, Size: 1, TakenAt: at(6 * time.Hour)})
	r.add("PutInventory again", replaced, err)
	_, err = s.PutInventory(ctx, acct, "nope", glacier.Inventory{Key: "snap-x"})
	r.add("PutInventory of a missing vault", err)
	v, err := s.GetVault(ctx, acct, "v1")
	r.add("GetVault after inventory", v, err)
	vs, err := s.VaultsNeedingInventory(ctx, at(24*time.Hour), 0)
	r.add("VaultsNeedingInventory after inventory", vs, err)
	r.add("CreateArchive after inventory", s.CreateArchive(ctx, archive("a4", "v1", at(7*time.Hour), "k4")))
	for _, before := range []time.Time{at(5 * time.Hour), at(6 * time.Hour)} {
		vs, err := s.VaultsNeedingInventory(ctx, before, 1)
		r.add(fmt.Sprintf("VaultsNeedingInventory after a write %v", before), vs, err)
	}

	// Provisioned capacity.
	unit := func(id, account string, start time.Time) glacier.ProvisionedCapacity {
		return glacier.ProvisionedCapacity{ID: id, AccountID: account, StartDate: start, ExpiresAt: start.AddDate(0, 1, 0)}
	}
	for _, c := range []glacier.ProvisionedCapacity{unit("c2", acct, at(time.Hour)), unit("c1", acct, t0), unit("c3", acct2, t0)} {
		r.add("PurchaseCapacity "+c.ID, s.PurchaseCapacity(ctx, c, 2))
	}
	r.add("PurchaseCapacity over the limit", s.PurchaseCapacity(ctx, unit("c4", acct, at(2*time.Hour)), 2))
	r.add("PurchaseCapacity after expiry", s.PurchaseCapacity(ctx, unit("c5", acct, t0.AddDate(0, 1, 1)), 2))
	r.add("PurchaseCapacity duplicate id", s.PurchaseCapacity(ctx, unit("c3", acct2, t0), 5))
	for _, now := range []time.Time{t0, t0.AddDate(0, 1, 0), t0.AddDate(0, 2, 0)} {
		list, err := s.ListCapacity(ctx, acct, now)
		r.add(fmt.Sprintf("ListCapacity %v", now), list, err)
	}

	// Deleting a vault with jobs and an inventory.
	r.add("CreateJob before DeleteVault", s.CreateJob(ctx, retrieval("j5", archive("a4", "v1", at(7*time.Hour), "k4"), "Bulk", at(7*time.Hour), at(8*time.Hour))))
	orphans, err = s.DeleteVault(ctx, acct, "v1", func(glacier.Vault) error { return nil })
	r.add("DeleteVault", sortedKeys(orphans), err)
	for _, k := range []string{"k1a", "k3", "k4", "inv-out", "snap-2"} {
		used, err := s.BlobReferenced(ctx, k)
		r.add("BlobReferenced after DeleteVault "+k, used, err)
	}
	return r.lines
}

func jobIDs(list []glacier.Job) []string {
	ids := []string{}
	for _, j := range list {
		ids = append(ids, j.ID)
	}
	return ids
}

func TestParityWithSQLite(t *testing.T) {
	ref, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	want := jobScript(t, ref)
	got := jobScript(t, newDB(t))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PostgreSQL differs from SQLite (-sqlite +postgres):\n%s", diff)
	}
	for _, line := range want {
		if strings.Contains(line, "error(internal)") {
			t.Errorf("the script hit an internal error: %s", line)
		}
	}
}
