package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
// once its write ran, it waits for the commit and gets its outcome. A
// caller is always answered, never abandoned: CreateArchive's inline bytes
// live in the caller's pooled buffer until then. The statements never see
// the callers' contexts (their cancellation would end the transaction the
// others share); the batch is bounded by groupTimeout instead.
//
// Lock order. A write to a vault's contents locks the vault row first (FOR
// NO KEY UPDATE), then its counters' UPDATE moves the account's data stamp
// (migrations 0010, 0012), then the audit head is locked for the append. A batch
// keeps that order across all its writes: its vaults are locked first,
// once each, sorted by (account, name) (byte order on both sides); then the
// writes; then the counters of each vault, summed over the batch, in the
// same order; the audit records of the writes that succeeded last. So two nodes' batches, or a batch and a single transaction, take
// their locks in one global order and do not deadlock.
//
// Stamps: the counters' UPDATE moves the account's data stamp (v) inside
// the batch's transaction, as each CreateArchive's own UPDATE did (now
// once per vault and batch rather than once per archive), and leaves its
// authorization stamp (a) alone (migration 0012): nodes keep the account's
// keys and policies cached across uploads. Blob intents move neither.

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
	// queue appends the write's statements to b. The vault's row is
	// locked by then; its statements find it by account and name.
	queue func(b *pgx.Batch)
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

// vaultRef names a vault of a batch.
type vaultRef struct{ account, vault string }

// vaultTotal sums a batch's changes to one vault's counters.
type vaultTotal struct {
	n, size int64
	at      time.Time
}

// Statements of the group's pipelines.
const (
	qGroupBegin   = `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE`
	qGroupLock    = `SELECT id FROM vaults WHERE account_id = $1 AND name = $2` + ownVault
	qGroupCount   = `UPDATE vaults SET number_of_archives = number_of_archives + $1, size_in_bytes = size_in_bytes + $2, last_write_at = $3 WHERE account_id = $4 AND name = $5`
	qGroupHead    = `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`
	qGroupAudit   = `INSERT INTO audit_log (seq, event_time, account_id, vault, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qGroupSetHead = `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`
)

// commitGroup runs batch in one transaction and answers every write.
//
// The transaction is two round trips when no write fails: one pipeline
// holds BEGIN, the vault rows' locks, every write in its savepoint, the
// counters' updates and the audit head's lock; the second the audit
// records, the head's update and COMMIT. A write that fails makes the
// server skip the rest of the first pipeline: the write is rolled back to
// its savepoint and what followed it is sent again.
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
	fn := func(conn *pgx.Conn) error {
		clear(errs)
		settle(false) // a previous attempt's
		var vaults []vaultRef
		missing := map[vaultRef]bool{}
		audited := false
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				errs[i] = classifyCtx(w.ctx, w.op, err)
				continue
			}
			if r := (vaultRef{w.account, w.vault}); w.vault != "" && (len(vaults) == 0 || vaults[len(vaults)-1] != r) {
				vaults = append(vaults, r) // sorted: equal refs are adjacent
			}
			if rec := audit.FromContext(w.ctx); rec != nil && !rec.Appended() {
				audited = true
			}
		}
		var seq int64
		var prev string
		begun := false
		for next := 0; ; {
			b := &pgx.Batch{}
			const (
				stBegin = -1 - iota
				stLock
				stCount
				stHead
			)
			var who []int // per statement: the write's index, or one of st*
			add := func(w int) {
				for len(who) < b.Len() {
					who = append(who, w)
				}
			}
			if !begun {
				b.Queue(qGroupBegin)
				add(stBegin)
				for _, r := range vaults {
					b.Queue(qGroupLock, r.account, r.vault)
				}
				add(stLock)
			}
			totals := map[vaultRef]*vaultTotal{}
			for i, w := range batch {
				if errs[i] != nil {
					continue
				}
				r := vaultRef{w.account, w.vault}
				if w.vault != "" {
					t := totals[r]
					if t == nil {
						t = &vaultTotal{}
						totals[r] = t
					}
					t.n += w.n
					t.size += w.size
					if w.at.After(t.at) {
						t.at = w.at
					}
				}
				if i < next {
					continue // done in an earlier pipeline
				}
				b.Queue(`SAVEPOINT g`)
				w.queue(b)
				b.Queue(`RELEASE SAVEPOINT g`)
				add(i)
			}
			for _, r := range vaults {
				if t := totals[r]; t != nil {
					b.Queue(qGroupCount, t.n, t.size, millis(t.at), r.account, r.vault)
				}
			}
			add(stCount)
			if audited {
				b.Queue(qGroupHead)
			}
			add(stHead)
			failed, err := func() (int, error) {
				br := conn.SendBatch(ctx, b)
				defer br.Close()
				for st := range b.Len() {
					var err error
					switch who[st] {
					case stLock:
						var id int64
						err = br.QueryRow().Scan(&id)
						if errNotFound(err) {
							err = nil
							r := vaults[st-1] // after BEGIN
							missing[r] = true
						}
					case stHead:
						err = br.QueryRow().Scan(&seq, &prev)
					default:
						_, err = br.Exec()
					}
					if err != nil {
						return st, err
					}
				}
				return -1, br.Close()
			}()
			if err == nil && failed < 0 {
				break
			}
			if failed < 0 || who[failed] < 0 || !ownFailure(err) {
				return err
			}
			begun = true // BEGIN and the locks came before the failed write
			i := who[failed]
			if missing[vaultRef{batch[i].account, batch[i].vault}] {
				err = glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", batch[i].vault, batch[i].account)
			}
			errs[i] = classify(batch[i].op, err)
			for j, w := range batch {
				if errs[j] == nil && missing[vaultRef{w.account, w.vault}] {
					errs[j] = glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", w.vault, w.account)
				}
			}
			// One savepoint name, reused: the savepoints follow each
			// other and never nest, so "g" is the failed write's.
			// (Not a batch: the server refuses to describe anything but
			// the ROLLBACK TO in an aborted transaction.)
			if _, err := conn.Exec(ctx, `ROLLBACK TO SAVEPOINT g`); err != nil {
				return err
			}
			if _, err := conn.Exec(ctx, `RELEASE SAVEPOINT g`); err != nil {
				return err
			}
			next = i + 1
		}
		// The callers' audit records commit with their writes (in
		// internal/audit's sense), appended last: the audit head's row is
		// held only for the commit.
		b := &pgx.Batch{}
		for i, w := range batch {
			if errs[i] != nil {
				continue
			}
			if rec := audit.FromContext(w.ctx); rec.Claim() {
				claimed = append(claimed, rec)
				seq++
				body := rec.Body(seq)
				hash := audit.Hash(prev, body)
				b.Queue(qGroupAudit, seq, rec.Event.EventTime.UnixMilli(), rec.Account(), rec.Vault(), string(body), prev, hash)
				prev = hash
			}
		}
		if len(claimed) > 0 {
			b.Queue(qGroupSetHead, seq, prev)
		}
		if hook != nil {
			hook("commit", len(batch))
		}
		b.Queue(`COMMIT`)
		br := conn.SendBatch(ctx, b)
		var tag pgconn.CommandTag
		var err error
		for range b.Len() {
			if tag, err = br.Exec(); err != nil {
				break
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("commit ended with %q", tag.String())
		}
		return err
	}
	var err error
	for attempt := 1; ; attempt++ {
		if err = db.tryGroup(ctx, fn); err == nil || attempt >= maxAttempts || !retryable(err) || db.closed.Load() {
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

// tryGroup runs fn on a pooled connection; fn begins and commits the
// transaction itself. A transaction fn left open is rolled back.
func (db *DB) tryGroup(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return &beginError{err}
	}
	defer c.Release()
	err = fn(c.Conn())
	if err != nil && !c.Conn().IsClosed() && c.Conn().PgConn().TxStatus() != 'I' {
		// Not cut short by the batch's context, so that a healthy
		// connection goes back to the pool rather than being closed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if _, rerr := c.Conn().Exec(rctx, `ROLLBACK`); rerr != nil {
			c.Conn().Close(rctx)
		}
	}
	return err
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
