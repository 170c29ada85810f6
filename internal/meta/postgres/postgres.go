// Package postgres implements the metadata store roles of internal/glacier (store.go) on PostgreSQL, for
// deployments where several permafrost nodes share one metadata database
// (issue #6). It follows the SQLite store (internal/meta/sqlite) table for
// table and method for method; what differs is how concurrency is handled,
// because here other nodes write at the same time.
//
// Decisions:
//
//   - pgx's own interface and pool (pgxpool), not database/sql through
//     pgx/v5/stdlib: the store needs PostgreSQL's error fields (SQLSTATE) to
//     classify errors, typed scanning of bigint and bytea without
//     interface{} round trips, text[] and bytea[] parameters for one-statement
//     bulk inserts, and control over connecting (timeout, liveness checks)
//     that database/sql would hide behind a second pool.
//   - Isolation. Writes run in READ COMMITTED transactions and serialize
//     what must be serialized with explicit row locks, always taken in one
//     order — account advisory lock, vault row, upload or job row, archive
//     row — so that they do not deadlock. Every write to a vault's contents
//     first locks the vault row: FOR NO KEY UPDATE when it changes the vault
//     or must exclude the vault's other writers of the same kind (archives
//     and counters, CompleteUpload, tags and their limit, the lock record's
//     compare-and-swap, the inventory), FOR KEY SHARE when it only needs the
//     vault to stay (uploads and parts, jobs, policies, notification
//     configuration). DeleteVault locks it FOR UPDATE: it waits for all of
//     those, and they, coming after it, find no vault; so nothing is added
//     to a vault behind the back of its deletion, whose list of orphaned
//     blobs is therefore complete. CreateVault's and PurchaseCapacity's
//     per-account limits are counted under a transaction advisory lock on
//     the account (vaults need no accounts row, so there is no row to
//     lock). Parts are recorded under a lock on their upload row, which
//     CompleteUpload and AbortUpload take too: a part never lands in an
//     upload that closed meanwhile, and exactly one completion or abort
//     wins. FinishJob is a compare-and-set (UPDATE … WHERE status =
//     'InProgress'): of several nodes finishing one job, one updates it and
//     the others get KindConflict. It locks the archive row FOR KEY SHARE
//     before pinning the archive's segments, so a concurrent DeleteArchive
//     either waits for the pins (and its caller sees them through
//     BlobReferenced) or makes FinishJob find no archive. The purges skip
//     rows another transaction holds (SKIP LOCKED) instead of waiting.
//     Should a deadlock or serialization failure (40P01, 40001) happen
//     anyway, the whole transaction is retried a few times; the callbacks
//     then run again, so they must be free of side effects (they are pure
//     checks in the service).
//   - Reads run in REPEATABLE READ READ ONLY transactions: one snapshot for
//     all their statements (VaultPolicies, ScanArchives, …), and read-only
//     transactions never fail to serialize.
//   - The callbacks of DeleteVault, CompleteUpload and UpdateLock run inside
//     the transaction while it holds its row locks and a pooled connection:
//     they must not call the store (a write on the same vault would wait
//     for itself).
//   - Errors are classified here and nowhere above: a missing row is
//     KindNotFound (a foreign-key violation too: what it refers to was
//     deleted meanwhile), a unique violation KindConflict; an engine that
//     cannot be reached or answered in time is KindUnavailable (connection
//     refused or broken, connect timeout, the caller's deadline, admin or
//     crash shutdown, too many connections, lock or serialization
//     contention that outlasted the retries); a context cancelled by the
//     caller, a closed store and anything else are KindInternal wrapping
//     the cause. Errors returned by the callers' callbacks come back
//     unchanged.
//   - Outages. Connecting is bounded by a 5 s connect timeout (unless the
//     DSN sets connect_timeout), so with PostgreSQL down every method fails
//     promptly with KindUnavailable. pgxpool drops broken connections and
//     dials again on demand, and pings a connection that sat idle before
//     handing it out, so the store recovers by itself when the server is
//     back. A transaction whose BEGIN failed on a dead pooled connection,
//     or whose failing request pgx knows it never sent, is retried on a
//     fresh connection; a failure to connect is not retried (a server that
//     does not answer would cost another connect timeout), nor is a
//     transaction whose outcome may be unknown: those report
//     KindUnavailable.
//   - Several nodes. DueJobs may hand the same job to several nodes; the
//     compare-and-set of FinishJob completes it (and queues its
//     notifications) exactly once. DueNotifications claims the rows it
//     returns: in the same statement that selects them (FOR UPDATE SKIP
//     LOCKED) it moves their next attempt to the caller's now plus a lease
//     (notificationLease, 60 s), so two nodes polling at once never deliver
//     the same message at the same moment. NotificationDelivered or
//     NotificationFailed settles a claim; a message whose claimant died or
//     gave up without a word (a shutdown mid-pass) is tried again when the
//     lease runs out. Delivery stays at least once (a delivered message
//     whose removal failed is sent again), with stable ids. The SQLite
//     store, with one process, needs no claim.
//   - Schema. The tables are those of the SQLite store, in migrations of the
//     same numbers and meaning, so that a copy between the engines maps
//     rows one to one: times are bigint Unix milliseconds (NULL for the zero
//     time, returned in UTC), hashes 32-byte bytea, leaf lists one bytea of
//     concatenated hashes, and every compared or ordered text column is
//     COLLATE "C" (byte order, like SQLite's BINARY) whatever the database's
//     default collation. SQLite's rowid, which orders access keys, is an
//     identity column seq. Identity columns are GENERATED BY DEFAULT, so a
//     copy may keep the source's ids (and must then advance the sequences
//     with setval). PostgreSQL text cannot hold NUL bytes or invalid UTF-8,
//     which SQLite accepts; such input fails with KindInternal. The tables
//     live in the connection's current schema: a DSN may set search_path
//     to give permafrost a schema of its own in a shared database.
//   - Migrations are SQL files embedded from migrations/, named
//     NNNN_name.sql, applied in order, each in its own transaction with its
//     row in schema_migrations. Each transaction first takes a transaction
//     advisory lock, so nodes starting together apply every migration
//     exactly once and wait for each other. A database migrated by a newer
//     binary is refused rather than misread.
//   - Pool. pgxpool's defaults (at most max(4, CPUs) connections) unless the
//     DSN sets pool_max_conns and friends. No method needs more than one
//     connection at a time, and all locks are transaction-scoped, so a
//     transaction-pooling PgBouncer works too if the DSN also sets
//     default_query_exec_mode=exec (no prepared statements kept across
//     transactions).
//   - A limit <= 0 given to ListVaults, ListUploads or ListParts means no
//     limit (LIMIT NULL).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

// connectTimeout bounds establishing one connection when the DSN does not
// set connect_timeout.
const connectTimeout = 5 * time.Second

// rollbackTimeout bounds rolling back a failed transaction.
const rollbackTimeout = 5 * time.Second

// maxAttempts is how many times a transaction runs when it deadlocks, fails
// to serialize or cannot begin on a dead connection.
const maxAttempts = 4

// DB is a metadata store (every role of glacier.Stores) backed by a PostgreSQL database. It is safe for
// concurrent use, by several goroutines and several processes.
type DB struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	gc     groupCommitter // groupcommit.go
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value DSN; pgxpool settings such as pool_max_conns are honoured) and
// applies pending migrations. ctx bounds connecting and migrating.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error quotes the DSN with its password masked.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "permafrost"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, classify("open", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the pool, waiting for connections in use to be returned.
// Methods called afterwards fail with KindInternal.
func (db *DB) Close() error {
	if db.closed.CompareAndSwap(false, true) {
		db.pool.Close()
	}
	return nil
}

// writeTx and readTx are the transaction modes of update and view.
var (
	writeTx = pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}
	readTx  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// update runs fn in a write transaction and commits it. op names the
// operation in error messages.
func (db *DB) update(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return db.run(ctx, op, writeTx, fn)
}

// view runs fn in a read-only transaction: one snapshot for all its
// statements.
func (db *DB) view(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return db.run(ctx, op, readTx, fn)
}

// run runs fn in a transaction of the given mode, retrying it when that is
// safe and may help (see retryable), and classifies the error.
func (db *DB) run(ctx context.Context, op string, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	if db.closed.Load() {
		return glacier.Errorf(glacier.KindInternal, "postgres: %s: the store is closed", op)
	}
	for attempt := 1; ; attempt++ {
		err := db.try(ctx, opts, fn)
		if err == nil {
			return nil
		}
		if attempt >= maxAttempts || !retryable(err) || ctx.Err() != nil || db.closed.Load() {
			return classifyCtx(ctx, op, err)
		}
		// Jittered backoff: 5–10 ms, 10–20 ms, 20–40 ms.
		d := time.Duration(5<<(attempt-1)) * time.Millisecond
		d += rand.N(d)
		select {
		case <-ctx.Done():
			return classifyCtx(ctx, op, err)
		case <-time.After(d):
		}
	}
}

// try runs fn in one transaction.
func (db *DB) try(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return &beginError{err}
	}
	defer func() {
		// After Commit a no-op. Not cut short by the caller's context, so
		// that a healthy connection goes back to the pool rather than
		// being closed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	// The request's audit record, if it has one not yet appended, is part
	// of this transaction (internal/audit); only write transactions carry
	// it.
	if rec := audit.FromContext(ctx); opts.AccessMode == pgx.ReadWrite && rec.Claim() {
		err := appendAudit(ctx, tx, rec)
		if err == nil {
			err = tx.Commit(ctx)
		}
		rec.Settle(err == nil)
		return err
	}
	return tx.Commit(ctx)
}

// callerError carries an error of a caller's callback through run, which
// returns it unchanged.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }

// beginError marks an error of starting a transaction: nothing was done.
type beginError struct{ err error }

func (e *beginError) Error() string { return e.err.Error() }
func (e *beginError) Unwrap() error { return e.err }

// errNotFound reports whether err is a missing row of QueryRow.
func errNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// limitArg is the LIMIT argument for a list limit: NULL (no limit) for a
// limit <= 0.
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}
