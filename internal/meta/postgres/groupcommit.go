package postgres

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

// Group commit, as in the SQLite store (internal/meta/sqlite/groupcommit.go).
// Every archive created updates its vault's row (the counters and last
// write) and, by trigger, the account's authorization stamp: concurrent
// uploads to one vault would queue on those row locks, one commit (one WAL
// flush) each. Archive creations and blob intents of one node therefore go
// through group: the first caller becomes the leader and runs, in one
// transaction, every write that queued meanwhile (at most maxGroup), each
// inside its own savepoint — a write that fails (its vault is missing, its
// id is taken) is rolled back alone and its caller gets its error, the
// others are kept — then commits once and answers them all. While a batch
// commits the next one queues: under load each commit carries many writes,
// alone a write costs what it did (no waiting for company).
//
// Nobody is answered before the COMMIT that holds their write succeeded; a
// failed COMMIT fails every write of the batch, and none of it is visible.
// A batch that deadlocks or fails to serialize is run again whole, as run
// does for a single transaction.
//
// Cancellation, as in the SQLite store: a caller whose context ended before
// its turn in the batch is skipped and answered with its context's error;
// once its write ran, it waits for the commit and gets its outcome. The
// statements never see the callers' contexts (context.WithoutCancel):
// interrupting one would end the transaction the others share. The batch
// is bounded by groupTimeout instead.
//
// Lock order. A write to a vault's contents locks the vault row first (FOR
// NO KEY UPDATE), then its counters' UPDATE moves the account's auth stamp
// (migration 0010), then the audit head is locked for the append. A batch
// keeps that order across all its writes: its writes run sorted by (account,
// vault), each vault locked once, the first time it is needed; the counters
// of each vault are summed and updated once, after every write and in the
// same order; the audit records of the writes that succeeded are appended
// last. So two nodes' batches, or a batch and a single transaction, take
// their locks in one global order and do not deadlock.
//
// Authorization stamp: unchanged semantics. The counters' UPDATE bumps the
// account's stamp inside the batch's transaction, as each CreateArchive's
// own UPDATE did (now once per vault and batch rather than once per
// archive).

// maxGroup bounds the writes of one transaction.
const maxGroup = 64

// groupTimeout bounds one batch (every attempt): the callers' contexts do
// not reach its statements.
const groupTimeout = 60 * time.Second

// groupWrite is one caller's write.
type groupWrite struct {
	ctx context.Context // the caller's: its cancellation and audit record
	op  string
	// account and vault name the vault whose row the write needs locked
	// (and whose counters it changes); "" for none.
	account, vault string
	// queue appends the write's statements to b, for the vault's row id
	// (0 when the write names no vault).
	queue func(b *pgx.Batch, vaultID int64)
	// n, size and at are added to the vault's counters and last write.
	n, size int64
	at      time.Time
	done    chan error
}

type groupCommitter struct {
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool
	// hook, set by tests only, is called with the stage ("begin" before
	// the transaction, "commit" before its COMMIT) and the batch size.
	hook func(stage string, n int)
}

// group runs w in a write transaction shared with concurrent group writes;
// it returns once that transaction committed (or w failed).
func (db *DB) group(w *groupWrite) error {
	if db.closed.Load() {
		return glacier.Errorf(glacier.KindInternal, "postgres: %s: the store is closed", w.op)
	}
	w.done = make(chan error, 1)
	g := &db.gc
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.leading {
		g.mu.Unlock()
		return <-w.done
	}
	g.leading = true
	g.mu.Unlock()
	db.lead()
	return <-w.done
}

// lead commits the next batch; if more writes queued meanwhile, a new
// goroutine leads on, so that the leader's own caller is answered now.
func (db *DB) lead() {
	g := &db.gc
	g.mu.Lock()
	batch := g.queue
	if len(batch) > maxGroup {
		batch = batch[:maxGroup]
	}
	g.queue = g.queue[len(batch):]
	g.mu.Unlock()
	db.commitGroup(batch)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	go db.lead()
}

// vaultTotal sums a batch's changes to one vault's counters.
type vaultTotal struct {
	id      int64
	n, size int64
	at      time.Time
}

// commitGroup runs batch in one transaction and answers every write.
func (db *DB) commitGroup(batch []*groupWrite) {
	// Sorted by vault: the vault rows are locked in one order (see above).
	slices.SortStableFunc(batch, func(a, b *groupWrite) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.vault, b.vault))
	})
	hook := db.gc.hook
	if hook != nil {
		hook("begin", len(batch))
	}
	errs := make([]error, len(batch))
	var claimed []*audit.Record
	settle := func(ok bool) {
		for _, r := range claimed {
			r.Settle(ok)
		}
		claimed = claimed[:0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	fn := func(tx pgx.Tx) error {
		clear(errs)
		settle(false) // a previous attempt's
		ids := map[[2]string]int64{}
		var totals []*vaultTotal
		byID := map[int64]*vaultTotal{}
		// The vault rows, in the batch's (sorted) order, one each.
		vaultIDs := make([]int64, len(batch))
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				errs[i] = classifyCtx(w.ctx, w.op, err)
				continue
			}
			if w.vault == "" {
				continue
			}
			key := [2]string{w.account, w.vault}
			id, seen := ids[key]
			if !seen {
				var err error
				id, err = findVaultID(ctx, tx, w.account, w.vault, ownVault)
				if err != nil && !glacier.IsNotFound(err) {
					return err
				}
				ids[key] = id // 0: not found
			}
			if id == 0 {
				errs[i] = glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", w.vault, w.account)
			}
			vaultIDs[i] = id
		}
		// The writes, each in its own savepoint, all in one pipeline (one
		// round trip). A statement that fails makes the server skip the
		// rest of the pipeline: that write is rolled back to its savepoint
		// and the writes after it go in a new pipeline.
		for next := 0; next < len(batch); {
			b := &pgx.Batch{}
			var who []int // per queued statement, the write it belongs to
			for i := next; i < len(batch); i++ {
				if errs[i] != nil {
					continue
				}
				b.Queue(`SAVEPOINT g`)
				batch[i].queue(b, vaultIDs[i])
				b.Queue(`RELEASE SAVEPOINT g`)
				for len(who) < b.Len() {
					who = append(who, i)
				}
			}
			if b.Len() == 0 {
				break
			}
			failed, err := sendPipeline(ctx, tx, b)
			if err == nil {
				break
			}
			if failed < 0 || !ownFailure(err) {
				return err
			}
			i := who[failed]
			errs[i] = classify(batch[i].op, err)
			// One savepoint name, reused: the savepoints follow each
			// other and never nest, so "g" is the failed write's.
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT g`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT g`); err != nil {
				return err
			}
			next = i + 1
		}
		for i, w := range batch {
			if errs[i] != nil || vaultIDs[i] == 0 {
				continue
			}
			t := byID[vaultIDs[i]]
			if t == nil {
				t = &vaultTotal{id: vaultIDs[i]}
				byID[vaultIDs[i]] = t
				totals = append(totals, t) // in the batch's (sorted) order
			}
			t.n += w.n
			t.size += w.size
			if w.at.After(t.at) {
				t.at = w.at
			}
		}
		if len(totals) > 0 {
			b := &pgx.Batch{}
			for _, t := range totals {
				b.Queue(`UPDATE vaults SET
					number_of_archives = number_of_archives + $1,
					size_in_bytes = size_in_bytes + $2,
					last_write_at = $3
					WHERE id = $4`, t.n, t.size, millis(t.at), t.id)
			}
			if err := sendBatch(ctx, tx, b); err != nil {
				return err
			}
		}
		// The callers' audit records commit with their writes (in
		// internal/audit's sense), appended last: the audit head's row is
		// held only for the commit.
		for i, w := range batch {
			if errs[i] != nil {
				continue
			}
			if rec := audit.FromContext(w.ctx); rec.Claim() {
				claimed = append(claimed, rec)
			}
		}
		if err := appendAudits(ctx, tx, claimed); err != nil {
			return err
		}
		if hook != nil {
			hook("commit", len(batch))
		}
		return nil
	}
	var err error
	for attempt := 1; ; attempt++ {
		if err = db.try(ctx, writeTx, fn); err == nil || attempt >= maxAttempts || !retryable(err) || db.closed.Load() {
			break
		}
		d := time.Duration(5<<(attempt-1)) * time.Millisecond
		d += rand.N(d)
		time.Sleep(d)
	}
	settle(err == nil)
	for i, w := range batch {
		e := errs[i]
		if err != nil {
			e = classifyCtx(ctx, w.op, err)
		}
		w.done <- e
	}
}

// sendBatch runs b's statements in tx in one round trip and returns the
// first error.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	br := tx.SendBatch(ctx, b)
	var first error
	for range b.Len() {
		if _, err := br.Exec(); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// sendPipeline runs b's statements in tx in one round trip. On failure it
// returns the index of the statement that failed (-1 if none did itself,
// e.g. the connection broke) with its error.
func sendPipeline(ctx context.Context, tx pgx.Tx, b *pgx.Batch) (int, error) {
	br := tx.SendBatch(ctx, b)
	failed, first := -1, error(nil)
	for i := range b.Len() {
		if _, err := br.Exec(); err != nil && first == nil {
			failed, first = i, err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return failed, first
}

// ownFailure reports whether err, from a write's statements, is that
// write's own: the server refused a statement (a taken id, a vault gone)
// and the transaction can go on after rolling back to the savepoint.
// Contention and a broken or unavailable server fail the whole batch.
func ownFailure(err error) bool {
	switch code := sqlState(err); {
	case code == "":
		return false
	case code == serializationFailure || code == deadlockDetected:
		return false
	case code == "57014" || code == "55P03" || code == "25P02": // canceled, lock timeout, transaction aborted
		return false
	default:
		return !unavailableState(code)
	}
}
