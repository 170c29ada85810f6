package metatest

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func testPurgeClosedUploads(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	for _, id := range []string{"completed", "aborted", "late", "open"} {
		mustUpload(t, s, acct, "v", id)
	}
	mustPart(t, s, "completed", 0, 1, "c0")
	mustPart(t, s, "open", 0, 1, "o0")
	_, err := s.CompleteUpload(ctx, "completed", archiveOf("arch", "v", at(time.Hour)), ok)
	must(t, "CompleteUpload", err)
	_, err = s.AbortUpload(ctx, "aborted", at(2*time.Hour))
	must(t, "AbortUpload", err)
	_, err = s.AbortUpload(ctx, "late", at(4*time.Hour))
	must(t, "AbortUpload", err)

	n, err := s.PurgeClosedUploads(ctx, at(3*time.Hour))
	must(t, "PurgeClosedUploads", err)
	if n != 2 {
		t.Errorf("PurgeClosedUploads removed %d, want 2", n)
	}
	for _, id := range []string{"completed", "aborted"} {
		_, err := s.GetUpload(ctx, acct, "v", id)
		wantKind(t, "GetUpload of a purged upload", err, glacier.KindNotFound)
	}
	for _, id := range []string{"late", "open"} {
		_, err := s.GetUpload(ctx, acct, "v", id)
		must(t, "GetUpload of a kept upload", err)
	}
	// Purging forgets uploads, not what they produced or hold.
	_, err = s.GetArchive(ctx, "arch")
	must(t, "GetArchive after purge", err)
	wantReferenced(t, s, true, "c0", "o0")

	n, err = s.PurgeClosedUploads(ctx, at(3*time.Hour))
	must(t, "PurgeClosedUploads again", err)
	if n != 0 {
		t.Errorf("PurgeClosedUploads again removed %d, want 0", n)
	}
	n, err = s.PurgeClosedUploads(ctx, at(100*time.Hour))
	must(t, "PurgeClosedUploads", err)
	if n != 1 {
		t.Errorf("PurgeClosedUploads later removed %d, want 1", n)
	}
	_, err = s.GetUpload(ctx, acct, "v", "open")
	must(t, "GetUpload: open uploads are never purged", err)
}

// testClaimInventory: a claim holds until its time; meanwhile no other
// claim succeeds; afterwards one does.
func testClaimInventory(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.ClaimInventory(ctx, acct, "v", t0, t0.Add(time.Minute)); glacier.KindOf(err) != glacier.KindNotFound {
		t.Errorf("ClaimInventory of a missing vault: %v, want KindNotFound", err)
	}
	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	claim := func(vault string, now time.Time) bool {
		t.Helper()
		ok, err := s.ClaimInventory(ctx, acct, vault, now, now.Add(10*time.Minute))
		must(t, "ClaimInventory", err)
		return ok
	}
	if !claim("v", t0) {
		t.Fatal("the first claim on a vault failed")
	}
	if claim("v", t0.Add(time.Minute)) {
		t.Error("a second claim within the first one's time succeeded")
	}
	if !claim("w", t0.Add(time.Minute)) {
		t.Error("a claim on another vault failed")
	}
	if !claim("v", t0.Add(10*time.Minute)) {
		t.Error("a claim once the first one expired failed")
	}
	// Of racing claims exactly one wins.
	mustVault(t, s, acct, "x")
	wins := 0
	for _, err := range Race(racers, func(int) error {
		ok, err := s.ClaimInventory(ctx, acct, "x", t0, t0.Add(time.Hour))
		if err == nil && !ok {
			return glacier.Errorf(glacier.KindConflict, "lost")
		}
		return err
	}) {
		if err == nil {
			wins++
		} else if glacier.KindOf(err) != glacier.KindConflict {
			t.Errorf("racing ClaimInventory: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d racing claims won, want exactly 1", wins)
	}
}

func testBlobReferenced(t *testing.T, s Store) {
	ctx := t.Context()
	wantReferenced(t, s, false, "unknown")
	mustVault(t, s, acct, "v")

	// A single-request archive's segment.
	must(t, "CreateArchive", s.CreateArchive(ctx, archiveOf("single", "v", t0, segmentOf("single/0", 10))))
	wantReferenced(t, s, true, "single/0")

	// Parts, then the same keys as segments after completion.
	mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, mib, "u1/0")
	mustPart(t, s, "u1", mib, 1, "u1/1")
	wantReferenced(t, s, true, "u1/0", "u1/1")
	_, err := s.CompleteUpload(ctx, "u1", archiveOf("multi", "v", t0), ok)
	must(t, "CompleteUpload", err)
	wantReferenced(t, s, true, "u1/0", "u1/1")

	// Parts of an aborted upload are no longer referenced.
	mustUpload(t, s, acct, "v", "u2")
	mustPart(t, s, "u2", 0, 1, "u2/0")
	_, err = s.AbortUpload(ctx, "u2", t0)
	must(t, "AbortUpload", err)
	wantReferenced(t, s, false, "u2/0")

	// Nor segments of deleted archives.
	_, err = s.DeleteArchive(ctx, acct, "v", "multi", t0)
	must(t, "DeleteArchive", err)
	_, err = s.DeleteArchive(ctx, acct, "v", "single", t0)
	must(t, "DeleteArchive", err)
	wantReferenced(t, s, false, "u1/0", "u1/1", "single/0")
}

// testResetData: ResetData removes every vault with everything attached
// (a Locked vault included), capacity, the outbox and the named settings,
// returns every blob key once, and keeps accounts, users, keys and other
// settings.
func testResetData(t *testing.T, s Store) {
	ctx := t.Context()
	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: t0}))
	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct2, CreatedAt: t0}))
	user := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICE", Policy: policyA, CreatedAt: t0}
	must(t, "CreateUser", s.CreateUser(ctx, user))
	key := glacier.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA1", Secret: "secret1", AccountID: acct, UserName: "alice", CreatedAt: t0}
	must(t, "CreateAccessKey", s.CreateAccessKey(ctx, key))

	mustVault(t, s, acct, "locked")
	mustVault(t, s, acct2, "other")
	a := glacier.Archive{ID: "arch-a", AccountID: acct, VaultName: "locked", CreatedAt: t0, Size: 10, TreeHash: hashOf("a"),
		Segments: []glacier.Segment{{BlobKey: "seg-a", Size: 10, TreeHash: hashOf("a"), Leaves: leavesOf("a", 1)}}}
	must(t, "CreateArchive", s.CreateArchive(ctx, a))
	b := glacier.Archive{ID: "arch-b", AccountID: acct2, VaultName: "other", CreatedAt: t0, Size: 10, TreeHash: hashOf("b"),
		Segments: []glacier.Segment{{BlobKey: "seg-b", Size: 10, TreeHash: hashOf("b"), Leaves: leavesOf("b", 1)}}}
	must(t, "CreateArchive", s.CreateArchive(ctx, b))
	mustUpload(t, s, acct, "locked", "up-1")
	mustPart(t, s, "up-1", 0, mib, "part-1")
	must(t, "AddTags", s.AddTags(ctx, acct, "locked", map[string]string{"k": "v"}, 50))
	must(t, "SetNotificationConfig", s.SetNotificationConfig(ctx, acct, "locked", glacier.NotificationConfig{SNSTopic: "arn:aws:sns:us-east-1:111122223333:t", Events: []string{"ArchiveRetrievalCompleted"}}))
	must(t, "SetAccessPolicy", s.SetAccessPolicy(ctx, acct, "locked", policyA))
	setLock(t, s, acct, "locked", lockOf(policyB, "lock-1", glacier.LockLocked, t0))
	_, err := s.PutInventory(ctx, acct2, "other", glacier.Inventory{Key: "snap-1", Count: 1, Size: 10, TakenAt: t0})
	must(t, "PutInventory", err)

	job := glacier.Job{ID: "job-1", AccountID: acct, VaultName: "locked", Action: glacier.ArchiveRetrieval, Tier: glacier.TierStandard,
		CreatedAt: t0, DueAt: t0, Status: glacier.JobInProgress, ArchiveID: "arch-a", ArchiveSize: 10, ArchiveTreeHash: hashOf("a"), RangeEnd: 9}
	must(t, "CreateJob", s.CreateJob(ctx, job))
	job.Status, job.CompletedAt = glacier.JobSucceeded, at(time.Second)
	note := glacier.Notification{ID: "note-1", TopicARN: "arn:aws:sns:us-east-1:111122223333:t", Subject: "s", Message: "{}", CreatedAt: t0, NextAttemptAt: t0}
	must(t, "FinishJob", s.FinishJob(ctx, job, []glacier.Notification{note}))
	inv := glacier.Job{ID: "job-2", AccountID: acct2, VaultName: "other", Action: glacier.InventoryRetrieval, Format: "JSON",
		CreatedAt: t0, DueAt: t0, Status: glacier.JobInProgress}
	must(t, "CreateJob", s.CreateJob(ctx, inv))
	inv.Status, inv.CompletedAt, inv.OutputKey, inv.OutputSize = glacier.JobSucceeded, at(time.Second), "out-2", 5
	must(t, "FinishJob", s.FinishJob(ctx, inv, nil))

	must(t, "PurchaseCapacity", s.PurchaseCapacity(ctx, glacier.ProvisionedCapacity{ID: "cap-1", AccountID: acct, StartDate: t0, ExpiresAt: at(24 * time.Hour)}, 2))
	must(t, "PutSetting", s.PutSetting(ctx, "retrieval-policy/"+acct, "BytesPerHour:1"))
	must(t, "PutSetting", s.PutSetting(ctx, "keep-me", "1"))

	orphans, err := s.ResetData(ctx, []string{"retrieval-policy/"})
	must(t, "ResetData", err)
	same(t, "ResetData orphans", sorted(orphans), []string{"out-2", "part-1", "seg-a", "seg-b", "snap-1"})
	wantReferenced(t, s, false, "out-2", "part-1", "seg-a", "seg-b", "snap-1")

	for _, id := range []string{acct, acct2} {
		vs, err := s.ListVaults(ctx, id, "", 0)
		must(t, "ListVaults", err)
		if len(vs) != 0 {
			t.Errorf("ListVaults %s after reset = %v, want none", id, vs)
		}
	}
	_, err = s.GetArchive(ctx, "arch-a")
	wantKind(t, "GetArchive after reset", err, glacier.KindNotFound)
	_, err = s.GetJob(ctx, acct, "locked", "job-1")
	wantKind(t, "GetJob after reset", err, glacier.KindNotFound)
	caps, err := s.ListCapacity(ctx, acct, t0)
	must(t, "ListCapacity", err)
	if len(caps) != 0 {
		t.Errorf("ListCapacity after reset = %v, want none", caps)
	}
	notes, err := s.DueNotifications(ctx, at(time.Hour), 10)
	must(t, "DueNotifications", err)
	if len(notes) != 0 {
		t.Errorf("DueNotifications after reset = %v, want none", notes)
	}
	if v, err := s.GetSetting(ctx, "retrieval-policy/"+acct); err != nil || v != "" {
		t.Errorf("retrieval policy setting after reset = %q, %v; want it gone", v, err)
	}
	if v, err := s.GetSetting(ctx, "keep-me"); err != nil || v != "1" {
		t.Errorf("other setting after reset = %q, %v; want it kept", v, err)
	}

	// Accounts, users and keys stay.
	accounts, err := s.ListAccounts(ctx)
	must(t, "ListAccounts", err)
	if len(accounts) != 2 {
		t.Errorf("ListAccounts after reset = %v, want both accounts", accounts)
	}
	gotUser, err := s.GetUser(ctx, acct, "alice")
	must(t, "GetUser after reset", err)
	same(t, "GetUser after reset", gotUser, user)
	gotKey, err := s.GetAccessKey(ctx, key.ID)
	must(t, "GetAccessKey after reset", err)
	same(t, "GetAccessKey after reset", gotKey, key)

	// The locked vault's name is free again, without lock or policy.
	v := mustVault(t, s, acct, "locked")
	if v.NumberOfArchives != 0 || v.SizeInBytes != 0 {
		t.Errorf("recreated vault = %+v, want empty", v)
	}
	vp, err := s.VaultPolicies(ctx, acct, "locked")
	must(t, "VaultPolicies of the recreated vault", err)
	if vp.AccessPolicy != "" || vp.Lock != nil || len(vp.Tags) != 0 {
		t.Errorf("VaultPolicies of the recreated vault = %#v, want nothing", vp)
	}
	_, err = s.GetNotificationConfig(ctx, acct, "locked")
	wantKind(t, "GetNotificationConfig of the recreated vault", err, glacier.KindNotFound)

	// Resetting an empty installation is fine.
	orphans, err = s.ResetData(ctx, nil)
	must(t, "ResetData again", err)
	if len(orphans) != 0 {
		t.Errorf("second ResetData orphans = %v, want none", orphans)
	}
}
