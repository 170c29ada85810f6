package sqlite

import (
	"context"
	"github.com/permafrost/permafrost/internal/audit"
	"sync"
)

// Group commit. Every write transaction ends with an fsync of the WAL
// (synchronous=FULL), and there is one writer connection: uploads that
// finish at once would queue for one fsync each. Small, independent writes
// that many requests make concurrently (an archive created, an archive
// deleted) therefore go through group: the first caller becomes the
// leader and runs, in one transaction, its own write and every write that
// queued meanwhile, each inside its own savepoint — a write that fails is
// rolled back alone and its caller gets its error, the others are kept —
// then commits once and answers them all. Nobody is answered before the
// commit that holds their write is durable; a failed commit fails every
// write in it. While the leader commits, the next batch queues: under load
// each fsync carries many writes, alone a write costs what it did.
//
// Only writes that change nothing authorization reads may go through
// group: archives, their vault's counters and last write, blob intents.
// Their transaction leaves the authorization stamp alone (sharedstamp.go).
type groupWrite struct {
	ctx  context.Context
	op   string
	fn   func(tx *txn) error
	done chan error
}

type groupCommitter struct {
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool
}

// maxGroup bounds the writes of one transaction.
const maxGroup = 256

// group runs fn in a write transaction shared with concurrent group
// writes; it returns once that transaction committed (or fn failed).
func (db *DB) group(ctx context.Context, op string, fn func(tx *txn) error) error {
	w := &groupWrite{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	g := &db.gc
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.leading {
		g.mu.Unlock()
		return <-w.done
	}
	g.leading = true
	for {
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
			break
		}
	}
	return <-w.done
}

// commitGroup runs batch in one transaction and answers every write.
func (db *DB) commitGroup(batch []*groupWrite) {
	errs := make([]error, len(batch))
	claimed := make([]*audit.Record, len(batch))
	ok := 0
	// The transaction outlives any one caller: a caller that went away is
	// answered with its context's error, and its write is skipped.
	// Group writes change archives, vault counters and blob intents only:
	// the authorization stamp stays (sharedstamp.go).
	err := db.write(context.Background(), "group commit", false, func(tx *txn) error {
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			// One savepoint name, reused: the savepoints follow each
			// other, never nest, and their statements stay prepared.
			if _, err := tx.ExecContext(w.ctx, qSavepoint); err != nil {
				return err
			}
			err := w.fn(tx)
			if err == nil {
				// The caller's audit record commits with its write, in
				// its savepoint (internal/audit), as in update.
				if rec := audit.FromContext(w.ctx); rec.Claim() {
					if err = appendAudit(w.ctx, tx, rec); err != nil {
						rec.Settle(false)
					} else {
						claimed[i] = rec
					}
				}
			}
			if err != nil {
				errs[i] = classify(w.op, err)
				if _, err := tx.ExecContext(context.Background(), qRollbackTo); err != nil {
					return err
				}
			} else {
				ok++
			}
			if _, err := tx.ExecContext(context.Background(), qRelease); err != nil {
				return err
			}
		}
		return nil
	})
	for i, w := range batch {
		e := errs[i]
		if e == nil && err != nil {
			e = classify(w.op, err)
		}
		if claimed[i] != nil {
			claimed[i].Settle(err == nil)
		}
		w.done <- e
	}
}
