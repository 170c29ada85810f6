package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

const gcAccount = "111122223333"

func gcArchive(id, vault string, now time.Time) glacier.Archive {
	return glacier.Archive{ID: id, AccountID: gcAccount, VaultName: vault, CreatedAt: now, Size: 10,
		Segments: []glacier.Segment{{BlobKey: "blob-" + id, Size: 10}}}
}

func gcVault(t *testing.T, db *DB, name string, now time.Time) {
	t.Helper()
	if _, _, err := db.CreateVault(t.Context(), glacier.Vault{AccountID: gcAccount, Name: name, CreatedAt: now}, 100); err != nil {
		t.Fatal(err)
	}
}

// wantCounts checks the vault's counters.
func wantCounts(t *testing.T, db *DB, vault string, n int) {
	t.Helper()
	v, err := db.GetVault(t.Context(), gcAccount, vault)
	if err != nil {
		t.Fatal(err)
	}
	if v.NumberOfArchives != int64(n) || v.SizeInBytes != int64(10*n) {
		t.Errorf("vault %s counts %d archives, %d bytes; want %d, %d", vault, v.NumberOfArchives, v.SizeInBytes, n, 10*n)
	}
}

// queued returns how many writes wait for the group commit.
func queued(db *DB) int {
	db.gc.mu.Lock()
	defer db.gc.mu.Unlock()
	return len(db.gc.queue)
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for queued(db) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", queued(db), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit: concurrent archive creations share commits; one that
// fails (its vault does not exist, or its id is taken) fails alone, every
// other one is stored and counted exactly once, and its audit record is
// appended with it.
func TestGroupCommit(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	gcVault(t, db, "v", now)
	gcVault(t, db, "w", now)
	if err := db.CreateArchive(ctx, gcArchive("archive-999", "v", now)); err != nil {
		t.Fatal(err)
	}
	var maxBatch atomic.Int64
	db.gc.hook = func(stage string, n int) {
		if stage == "begin" && int64(n) > maxBatch.Load() {
			maxBatch.Store(int64(n))
		}
	}
	const n = 200
	errs := make([]error, n)
	recs := make([]*audit.Record, n)
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = audit.NewRecord(audit.Event{EventName: "UploadArchive", EventTime: now})
		wg.Go(func() {
			actx := audit.WithRecord(ctx, recs[i])
			id := fmt.Sprintf("archive-%03d", i)
			switch {
			case i%10 == 0:
				errs[i] = db.CreateArchive(actx, gcArchive(id, "missing", now))
			case i%10 == 5:
				errs[i] = db.CreateArchive(actx, gcArchive("archive-999", "v", now)) // id taken
			case i%10 == 7:
				errs[i] = db.AddBlobIntent(ctx, "intent-"+id, now)
			case i%2 == 0:
				errs[i] = db.CreateArchive(actx, gcArchive(id, "w", now))
			default:
				errs[i] = db.CreateArchive(actx, gcArchive(id, "v", now))
			}
		})
	}
	wg.Wait()
	stored := map[string]int{"v": 1, "w": 0}
	intents := 0
	for i := range n {
		id := fmt.Sprintf("archive-%03d", i)
		switch {
		case i%10 == 0:
			if !glacier.IsNotFound(errs[i]) {
				t.Errorf("write %d to a missing vault: %v, want not found", i, errs[i])
			}
		case i%10 == 5:
			if glacier.KindOf(errs[i]) != glacier.KindConflict {
				t.Errorf("write %d with a taken id: %v, want conflict", i, errs[i])
			}
		case i%10 == 7:
			if errs[i] != nil {
				t.Errorf("intent %d: %v", i, errs[i])
			}
			intents++
		default:
			if errs[i] != nil {
				t.Errorf("write %d: %v", i, errs[i])
				continue
			}
			a, err := db.GetArchive(ctx, id)
			if err != nil {
				t.Errorf("archive %d acknowledged but not stored: %v", i, err)
				continue
			}
			stored[a.VaultName]++
			if !recs[i].Appended() {
				t.Errorf("archive %d stored without its audit record", i)
			}
		}
		if errs[i] != nil && recs[i].Appended() {
			t.Errorf("write %d failed but its audit record was appended", i)
		}
	}
	wantCounts(t, db, "v", stored["v"])
	wantCounts(t, db, "w", stored["w"])
	if got, err := db.CountBlobIntents(ctx); err != nil || got != int64(intents) {
		t.Errorf("%d blob intents (%v), want %d", got, err, intents)
	}
	// The audit chain holds exactly the appended records, in one chain.
	appended := 0
	for _, r := range recs {
		if r.Appended() {
			appended++
		}
	}
	var seen int
	var prev string
	var last int64
	if err := db.ScanAudit(ctx, 0, func(s audit.Stored) error {
		seen++
		if (last != 0 && s.Seq != last+1) || (last != 0 && s.PrevHash != prev) || audit.Hash(s.PrevHash, s.Body) != s.Hash {
			t.Errorf("audit record %d breaks the chain (after %d)", s.Seq, last)
		}
		last, prev = s.Seq, s.Hash
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen != appended {
		t.Errorf("audit log holds %d records, %d were appended", seen, appended)
	}
	if maxBatch.Load() < 2 {
		t.Errorf("no batch held more than one write (largest %d)", maxBatch.Load())
	}
	t.Logf("largest batch: %d writes", maxBatch.Load())
}

// TestGroupCommitFailedCommit: when the shared COMMIT fails, every write of
// the batch fails and none of it is visible; the next batch commits. The
// failure is a deferred constraint trigger, checked only at COMMIT.
func TestGroupCommitFailedCommit(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	gcVault(t, db, "v", now)
	if _, err := db.pool.Exec(ctx, `
		CREATE FUNCTION poison_check() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.description = 'poison' THEN RAISE EXCEPTION 'poisoned batch' USING ERRCODE = 'P0001'; END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON archives DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION poison_check();`); err != nil {
		t.Fatal(err)
	}
	// The first write's batch is held until the others queued: they form
	// the second batch, with the poisoned archive among them.
	const n = 12
	release := make(chan struct{})
	var batches atomic.Int64
	db.gc.hook = func(stage string, _ int) {
		if stage == "begin" && batches.Add(1) == 1 {
			<-release
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = db.CreateArchive(ctx, gcArchive("archive-000", "v", now)) })
	for queued(db) != 0 || batches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < n; i++ {
		wg.Go(func() {
			a := gcArchive(fmt.Sprintf("archive-%03d", i), "v", now)
			if i == 6 {
				a.Description = "poison"
			}
			errs[i] = db.CreateArchive(ctx, a)
		})
	}
	waitQueued(t, db, n-1)
	close(release)
	wg.Wait()
	if errs[0] != nil {
		t.Fatalf("first batch: %v", errs[0])
	}
	for i := 1; i < n; i++ {
		if errs[i] == nil {
			t.Errorf("write %d acknowledged from a batch whose commit failed", i)
		}
		if _, err := db.GetArchive(ctx, fmt.Sprintf("archive-%03d", i)); !glacier.IsNotFound(err) {
			t.Errorf("archive %d of the failed batch: %v, want not found", i, err)
		}
	}
	t.Logf("a write of the failed batch got: %v", errs[1])
	wantCounts(t, db, "v", 1)
	if err := db.CreateArchive(ctx, gcArchive("archive-100", "v", now)); err != nil {
		t.Fatalf("after the failed batch: %v", err)
	}
	wantCounts(t, db, "v", 2)
}

// TestGroupCommitCancel: a caller whose context ends while its write waits
// for its batch is answered with that error and its write is not made; a
// caller whose context ends after its write ran gets the commit's outcome.
// Neither disturbs the others of the batch.
func TestGroupCommitCancel(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	gcVault(t, db, "v", now)
	release := make(chan struct{})
	atCommit := make(chan struct{})
	var batches atomic.Int64
	lateCtx, lateCancel := context.WithCancel(ctx)
	defer lateCancel()
	db.gc.hook = func(stage string, _ int) {
		switch {
		case stage == "begin" && batches.Add(1) == 1:
			<-release
		case stage == "commit" && batches.Load() == 2:
			close(atCommit)
			lateCancel() // the late caller's write already ran
		}
	}
	var wg sync.WaitGroup
	var first, early, late, other error
	wg.Go(func() { first = db.CreateArchive(ctx, gcArchive("archive-first", "v", now)) })
	for batches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	earlyCtx, earlyCancel := context.WithCancel(ctx)
	wg.Go(func() { early = db.CreateArchive(earlyCtx, gcArchive("archive-early", "v", now)) })
	wg.Go(func() { late = db.CreateArchive(lateCtx, gcArchive("archive-late", "v", now)) })
	wg.Go(func() { other = db.CreateArchive(ctx, gcArchive("archive-other", "v", now)) })
	waitQueued(t, db, 3)
	earlyCancel()
	close(release)
	wg.Wait()
	<-atCommit
	if first != nil || other != nil {
		t.Fatalf("uncancelled writes: %v, %v", first, other)
	}
	if !errors.Is(early, context.Canceled) {
		t.Errorf("write cancelled while queued: %v, want context.Canceled", early)
	}
	if _, err := db.GetArchive(ctx, "archive-early"); !glacier.IsNotFound(err) {
		t.Errorf("write cancelled while queued was stored: %v", err)
	}
	if late != nil {
		t.Errorf("write cancelled after it ran: %v, want the commit's outcome (nil)", late)
	}
	for _, id := range []string{"archive-first", "archive-late", "archive-other"} {
		if _, err := db.GetArchive(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	wantCounts(t, db, "v", 3)
}

// TestGroupCommitTwoNodes: two nodes' batches racing on the same vaults
// (each batch touching both) neither deadlock nor lose a count.
func TestGroupCommitTwoNodes(t *testing.T) {
	nodes := twoNodes(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	gcVault(t, nodes[0], "a", now)
	gcVault(t, nodes[0], "b", now)
	const per = 150
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for node := range 2 {
		for i := range per {
			wg.Go(func() {
				vault := []string{"a", "b"}[(i+node)%2]
				err := nodes[node].CreateArchive(ctx, gcArchive(fmt.Sprintf("archive-%d-%03d", node, i), vault, now))
				if err == nil && i%3 == 0 {
					_, err = nodes[1-node].DeleteArchive(ctx, gcAccount, vault, fmt.Sprintf("archive-%d-%03d", node, i), now)
				}
				if err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range failed {
		t.Error(err)
	}
	// Per node and vault: per/2 created, a third of those deleted.
	left := 0
	for i := range per {
		if i%3 != 0 {
			left++
		}
	}
	var a, b int
	for node := range 2 {
		for i := range per {
			if i%3 == 0 {
				continue
			}
			if (i+node)%2 == 0 {
				a++
			} else {
				b++
			}
		}
	}
	if a+b != 2*left {
		t.Fatalf("test arithmetic: %d + %d != %d", a, b, 2*left)
	}
	wantCounts(t, nodes[1], "a", a)
	wantCounts(t, nodes[1], "b", b)
	for _, v := range []string{"a", "b"} {
		page, err := nodes[0].ArchivePage(ctx, gcAccount, v, time.Time{}, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"a": a, "b": b}[v]
		if len(page) != want {
			t.Errorf("vault %s lists %d archives, counts say %d", v, len(page), want)
		}
	}
}
