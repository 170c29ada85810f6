// Package metatest is the conformance suite of Store: every
// implementation's tests call [Run], so the stores agree on the contract
// written in internal/glacier/store.go, error kinds included, as go-cloud's
// drivertest does for its blob drivers.
//
// Each subtest opens a new, empty store, so subtests never see each other's
// data and may use fixed ids. The races start their goroutines together on
// a closed channel and then check both the outcome counts (exactly one
// winner) and the state left behind.
//
// Only what the contract states is tested. Times are compared through
// their printed form, which shows the location, so a store that returns a
// correct instant in the wrong zone fails; stores keep times at millisecond
// precision in UTC, truncating finer precision.
package metatest

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/notify"
	"github.com/permafrost/permafrost/internal/treehash"
)

// Store is what the suite tests: a metadata store in every role the
// service declares (internal/glacier/store.go), and the outbox that
// internal/notify drains. Both engines implement it.
type Store interface {
	glacier.IdentityStore
	glacier.VaultStore
	glacier.PolicyStore
	glacier.ArchiveStore
	glacier.UploadStore
	glacier.JobStore
	glacier.HousekeepingStore
	glacier.IntentStore
	glacier.SettingStore
	glacier.InlineStore
	notify.Outbox
}

// test is one case of a section.
type test struct {
	name string
	fn   func(t *testing.T, s Store)
}

// sections are the suite, one per role, each in the file named after it;
// a case may use other roles to set up what it checks. The last section
// holds the abilities other consumers declare (internal/notify's
// CreateSetting, permafrost import's progress table).
var sections = []struct {
	role  string
	tests []test
}{
	{"IdentityStore", []test{ // identity.go
		{"Accounts", testAccounts},
		{"AccessKeys", testAccessKeys},
		{"Users", testUsers},
		{"DeleteUser", testDeleteUser},
		{"IdentityCreator", testIdentityCreator}, // identitycreate.go
	}},
	{"VaultStore", []test{ // vaults.go
		{"CreateVault", testCreateVault},
		{"VaultLimit", testVaultLimit},
		{"ListVaults", testListVaults},
		{"DeleteVault/Missing", testDeleteVaultMissing},
		{"DeleteVault/Refused", testDeleteVaultRefused},
		{"DeleteVault/Cascade", testDeleteVaultCascade},
		{"Tags", testTags},
		{"TagLimit", testTagLimit},
		{"NotificationConfig", testNotificationConfig},
		{"Race/CreateVaultLimit", testRaceCreateVaultLimit},
		{"Race/AddTagsLimit", testRaceAddTagsLimit},
	}},
	{"PolicyStore", []test{ // policies.go
		{"AccessPolicy", testAccessPolicy},
		{"Locks", testLocks},
		{"VaultPolicies", testVaultPolicies},
		{"DeleteVault/Policies", testDeleteVaultPolicies},
		{"Race/LockInitiate", testRaceLockInitiate},
		{"Race/LockCompleteVersusAbort", testRaceLockCompleteVersusAbort},
	}},
	{"ArchiveStore", []test{ // archives.go
		{"CreateArchive", testCreateArchive},
		{"GetArchive", testGetArchive},
		{"DeleteArchive", testDeleteArchive},
		{"ArchivePage", testArchivePage},
	}},
	{"UploadStore", []test{ // uploads.go
		{"Uploads", testUploads},
		{"ListUploads", testListUploads},
		{"Parts", testParts},
		{"PutPartClosed", testPutPartClosed},
		{"CompleteUpload/Refused", testCompleteUploadRefused},
		{"CompleteUpload", testCompleteUpload},
		{"CompleteUpload/NotOpen", testCompleteUploadNotOpen},
		{"AbortUpload", testAbortUpload},
		{"Race/CompleteUpload", testRaceCompleteUpload},
		{"Race/CompleteVersusAbort", testRaceCompleteVersusAbort},
	}},
	{"JobStore", []test{ // jobs.go
		{"SelectParams", testSelectParams},
		{"ClaimJob", testClaimJob},
		{"CreateJobIf", testCreateJobIf}, // admission.go
		{"Race/CreateJobIf", testRaceCreateJobIf},
	}},
	{"HousekeepingStore", []test{ // housekeeping.go
		{"PurgeClosedUploads", testPurgeClosedUploads},
		{"ClaimInventory", testClaimInventory},
		{"BlobReferenced", testBlobReferenced},
		{"ResetData", testResetData},
	}},
	{"IntentStore", []test{ // intents.go
		{"BlobIntents", testBlobIntents},
		{"BlobIntentBatch", testBlobIntentBatch},
		{"SpaceUsage", testSpaceUsage},
	}},
	{"InlineStore", []test{ // inline.go
		{"InlineBlobs", testInlineBlobs},
		{"InlineArchive", testInlineArchive},
	}},
	{"SettingStore", []test{ // settings.go
		{"Settings", testSettings},
		{"TimeRoundTrip", testTimeRoundTrip},
	}},
	{"Others", []test{
		{"CreateSetting", testCreateSetting}, // settings.go
		{"SwapSetting", testSwapSetting},     // settingswap.go
		{"ImportProgress", testImportProgress},
	}},
}

// Run runs the conformance suite against the stores that open returns, a
// subtest per role (e.g. -run 'Conformance/UploadStore/').
// open must return a new, empty store each time it is called and close it
// when its test ends (with t.Cleanup); it fails t itself if it cannot.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, sec := range sections {
		t.Run(sec.role, func(t *testing.T) {
			for _, tc := range sec.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// Fixed values of the suite.
const (
	acct  = "111122223333"
	acct2 = "444455556666"
	mib   = 1 << 20
)

// t0 is the suite's base time: UTC, whole milliseconds.
var t0 = time.Date(2024, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// hashOf returns a distinct hash for each name.
func hashOf(name string) treehash.Hash { return treehash.Hash(sha256.Sum256([]byte(name))) }

// leavesOf returns n distinct leaf hashes named after prefix.
func leavesOf(prefix string, n int) []treehash.Hash {
	l := make([]treehash.Hash, n)
	for i := range l {
		l[i] = hashOf(fmt.Sprintf("%s/leaf%d", prefix, i))
	}
	return l
}

// wantKind fails t unless err is of the given kind.
func wantKind(t *testing.T, what string, err error, kind glacier.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %v", what, kind)
		return
	}
	if got := glacier.KindOf(err); got != kind {
		t.Errorf("%s: got error %q of kind %v, want %v", what, err, got, kind)
	}
}

// must fails t now if err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same fails t unless got and want print the same with %+v: times print
// with their location and nil and empty slices alike.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want)
	if g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// sorted returns a sorted copy of keys, for comparing sets of blob keys.
func sorted(keys []string) []string {
	k := slices.Clone(keys)
	slices.Sort(k)
	return k
}

// mustVault creates a vault created at t0 (no practical limit).
func mustVault(t *testing.T, s Store, accountID, name string) glacier.Vault {
	t.Helper()
	v, created, err := s.CreateVault(t.Context(), glacier.Vault{AccountID: accountID, Name: name, CreatedAt: t0}, 1000)
	must(t, "CreateVault "+name, err)
	if !created {
		t.Fatalf("CreateVault %s: not created", name)
	}
	return v
}

// mustUpload creates an open upload in the vault with parts of size mib.
func mustUpload(t *testing.T, s Store, accountID, vault, id string) glacier.Upload {
	t.Helper()
	u := glacier.Upload{
		ID: id, AccountID: accountID, VaultName: vault,
		Description: "upload " + id, PartSize: mib, CreatedAt: t0,
	}
	must(t, "CreateUpload "+id, s.CreateUpload(t.Context(), u))
	return u
}

// mustPart records a part of size bytes starting at start, with one leaf
// per started MiB, stored under key.
func mustPart(t *testing.T, s Store, uploadID string, start, size int64, key string) glacier.Part {
	t.Helper()
	p := glacier.Part{
		UploadID: uploadID, Start: start, Size: size,
		TreeHash: hashOf(key), Leaves: leavesOf(key, int(treehash.LeafCount(size))), BlobKey: key,
	}
	replaced, err := s.PutPart(t.Context(), p)
	must(t, "PutPart "+key, err)
	if replaced != "" {
		t.Fatalf("PutPart %s: replaced %q, want nothing", key, replaced)
	}
	return p
}

// withoutLeaves returns the parts as listed: leaves not loaded.
func withoutLeaves(parts ...glacier.Part) []glacier.Part {
	out := make([]glacier.Part, len(parts))
	for i, p := range parts {
		p.Leaves = nil
		out[i] = p
	}
	return out
}

// segmentsOf returns the segments an archive made of the parts has, as
// GetArchive returns them (without leaves).
func segmentsOf(parts ...glacier.Part) []glacier.Segment {
	out := make([]glacier.Segment, len(parts))
	for i, p := range parts {
		out[i] = glacier.Segment{BlobKey: p.BlobKey, Size: p.Size, TreeHash: p.TreeHash}
	}
	return out
}

// ok is a check function that accepts everything.
func ok(glacier.Upload, []glacier.Part) error { return nil }

// wantReferenced fails t unless BlobReferenced reports want for each key.
func wantReferenced(t *testing.T, s Store, want bool, keys ...string) {
	t.Helper()
	for _, k := range keys {
		got, err := s.BlobReferenced(t.Context(), k)
		if err != nil {
			t.Errorf("BlobReferenced %s: %v", k, err)
		} else if got != want {
			t.Errorf("BlobReferenced %s = %v, want %v", k, got, want)
		}
	}
}
