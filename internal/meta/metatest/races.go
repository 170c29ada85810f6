package metatest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// racers is how many goroutines contend in each race.
const racers = 8

// Race runs fn(0) … fn(n-1) in goroutines released together and returns
// their errors by index. Store-specific race tests use it too.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Winners returns the indexes of the nil errors and fails t unless every
// other error is of kind loser.
func Winners(t *testing.T, what string, errs []error, loser glacier.Kind) []int {
	t.Helper()
	var won []int
	for i, err := range errs {
		if err == nil {
			won = append(won, i)
		} else if glacier.KindOf(err) != loser {
			t.Errorf("%s: racer %d got error %q of kind %v, want %v", what, i, err, glacier.KindOf(err), loser)
		}
	}
	return won
}

// testRaceCompleteUpload: of many completions of one upload exactly one
// wins; the others see KindConflict and leave no trace.
func testRaceCompleteUpload(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	mustUpload(t, s, acct, "v", "u1")
	mustPart(t, s, "u1", 0, mib, "p0")
	mustPart(t, s, "u1", mib, 10, "p1")

	errs := Race(racers, func(i int) error {
		_, err := s.CompleteUpload(ctx, "u1", archiveOf(fmt.Sprintf("arch-%d", i), "v", t0), ok)
		return err
	})
	won := Winners(t, "CompleteUpload", errs, glacier.KindConflict)
	if len(won) != 1 {
		t.Fatalf("CompleteUpload race: %d winners, want exactly 1", len(won))
	}
	winner := fmt.Sprintf("arch-%d", won[0])
	for i := range racers {
		_, err := s.GetArchive(ctx, fmt.Sprintf("arch-%d", i))
		if i == won[0] {
			must(t, "GetArchive of the winner", err)
		} else {
			wantKind(t, "GetArchive of a loser", err, glacier.KindNotFound)
		}
	}
	u, err := s.GetUpload(ctx, acct, "v", "u1")
	must(t, "GetUpload", err)
	if u.State != glacier.UploadCompleted || u.ArchiveID != winner {
		t.Errorf("upload after the race = %+v, want completed as %s", u, winner)
	}
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 1 || v.SizeInBytes != 0 {
		// archiveOf without segments has size 0.
		t.Errorf("vault after the race: %d archives of %d bytes, want 1 of 0", v.NumberOfArchives, v.SizeInBytes)
	}
}

// testRaceCreateVaultLimit: with room for one more vault, exactly one of
// many concurrent creations succeeds.
func testRaceCreateVaultLimit(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	const limit = 5
	for i := range limit - 1 {
		mustVault(t, s, acct, fmt.Sprintf("old-%d", i))
	}
	created := make([]bool, racers)
	errs := Race(racers, func(i int) error {
		var err error
		_, created[i], err = s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: fmt.Sprintf("new-%d", i), CreatedAt: t0}, limit)
		return err
	})
	won := Winners(t, "CreateVault", errs, glacier.KindLimitExceeded)
	if len(won) != 1 {
		t.Errorf("CreateVault race: %d new vaults, want exactly 1", len(won))
	}
	for _, i := range won {
		if !created[i] {
			t.Errorf("CreateVault race: winner %d not created", i)
		}
	}
	list, err := s.ListVaults(ctx, acct, "", 100)
	must(t, "ListVaults", err)
	if len(list) != limit {
		t.Errorf("after the race the account has %d vaults, want %d", len(list), limit)
	}
}

// testRaceAddTagsLimit: concurrent AddTags near the limit never exceed it.
func testRaceAddTagsLimit(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	const limit = 10
	mustVault(t, s, acct, "v")
	start := map[string]string{}
	for i := range limit - 2 {
		start[fmt.Sprintf("old-%d", i)] = "x"
	}
	must(t, "AddTags", s.AddTags(ctx, acct, "v", start, limit))

	errs := Race(racers, func(i int) error {
		return s.AddTags(ctx, acct, "v", map[string]string{fmt.Sprintf("new-%d", i): "y"}, limit)
	})
	won := Winners(t, "AddTags", errs, glacier.KindLimitExceeded)
	if len(won) != 2 {
		t.Errorf("AddTags race: %d succeeded, want exactly 2", len(won))
	}
	tags, err := s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	if len(tags) != limit {
		t.Errorf("after the race the vault has %d tags, want %d", len(tags), limit)
	}
	for _, i := range won {
		if _, ok := tags[fmt.Sprintf("new-%d", i)]; !ok {
			t.Errorf("AddTags race: winner %d's tag is missing", i)
		}
	}
}

// testRaceCompleteVersusAbort: a completion racing an abort; exactly one
// wins and the state agrees with the winner.
func testRaceCompleteVersusAbort(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	const rounds = 6
	archives := int64(0)
	for r := range rounds {
		id := fmt.Sprintf("u%d", r)
		arch := fmt.Sprintf("arch%d", r)
		key := id + "/p0"
		mustUpload(t, s, acct, "v", id)
		mustPart(t, s, id, 0, 1, key)

		var orphans []string
		errs := Race(2, func(i int) error {
			if i == 0 {
				_, err := s.CompleteUpload(ctx, id, archiveOf(arch, "v", t0), ok)
				return err
			}
			var err error
			orphans, err = s.AbortUpload(ctx, id, t0)
			return err
		})
		won := Winners(t, "CompleteUpload versus AbortUpload", errs, glacier.KindConflict)
		if len(won) != 1 {
			t.Fatalf("round %d: %d winners (errors %v), want exactly 1", r, len(won), errs)
		}

		u, err := s.GetUpload(ctx, acct, "v", id)
		must(t, "GetUpload", err)
		_, archErr := s.GetArchive(ctx, arch)
		used, err := s.BlobReferenced(ctx, key)
		must(t, "BlobReferenced", err)
		if won[0] == 0 {
			archives++
			if u.State != glacier.UploadCompleted || u.ArchiveID != arch || archErr != nil || !used || len(orphans) != 0 {
				t.Errorf("round %d, completion won: upload %+v, archive error %v, part referenced %v, abort orphans %v",
					r, u, archErr, used, orphans)
			}
		} else {
			if u.State != glacier.UploadAborted || glacier.KindOf(archErr) != glacier.KindNotFound || used ||
				len(orphans) != 1 || orphans[0] != key {
				t.Errorf("round %d, abort won: upload %+v, archive error %v, part referenced %v, abort orphans %v",
					r, u, archErr, used, orphans)
			}
		}
	}
	v, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != archives {
		t.Errorf("vault counts %d archives, want %d", v.NumberOfArchives, archives)
	}
}
