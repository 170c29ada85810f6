// Package sqlite implements the metadata store roles of internal/glacier (store.go) on an SQLite database file,
// through the pure-Go driver modernc.org/sqlite (no cgo).
//
// Decisions:
//
//   - Durability. The database runs in WAL mode with synchronous=FULL: a
//     commit returns only after the WAL is fsynced, so an upload the service
//     has acknowledged survives a power loss. (NORMAL would only risk the
//     last commits, but that is exactly the acknowledged upload.)
//   - Two pools. Every write goes through a pool of exactly one connection,
//     in BEGIN IMMEDIATE transactions (the driver's _txlock=immediate).
//     Writers of this process therefore queue in database/sql, honouring
//     their contexts, instead of colliding inside SQLite: a deferred
//     transaction that reads and then writes can fail with SQLITE_BUSY
//     when another writer got there first, which busy_timeout cannot
//     resolve. IMMEDIATE still matters for other processes on the same file
//     (a CLI next to the server): they wait up to the busy timeout for the
//     write lock, and a lock that outlasts it is reported as
//     KindUnavailable. Reads go through a separate pool of read-only
//     connections (query_only) that WAL lets run beside the writer; a read
//     of several statements runs in one transaction, so it sees one
//     snapshot.
//   - One transaction per method. Each exported method opens one
//     transaction and composes unexported helpers that take the *sql.Tx, as
//     benbjohnson/wtf does. The callbacks of DeleteVault and CompleteUpload
//     run inside the write transaction, holding the only write connection:
//     they must not call back into the store to write (that would wait for
//     itself); reads are fine.
//   - Errors are classified here and nowhere above: a missing row is
//     KindNotFound, a unique or primary-key violation KindConflict, a lock
//     that survives the busy timeout KindUnavailable, and anything else
//     KindInternal wrapping the driver's error. Errors returned by the
//     callers' check functions come back unchanged.
//   - Times are INTEGER Unix milliseconds (Glacier shows milliseconds), NULL
//     for the zero time.Time; they come back in UTC. Sub-millisecond
//     precision is truncated.
//   - Leaf hashes are stored per segment and per part as one BLOB of 32-byte
//     hashes (treehash.EncodeLeaves), so completing a multipart upload moves
//     parts into segments with a single INSERT … SELECT and never touches
//     blob bytes.
//   - Migrations are SQL files embedded from migrations/, named
//     NNNN_name.sql and applied in order, each in its own transaction
//     together with its row in schema_migrations, so applying them is
//     idempotent and a failed migration leaves nothing behind. A database
//     migrated by a newer binary is refused rather than misread.
//   - A limit <= 0 given to ListVaults, ListUploads or ListParts means no
//     limit.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for a lock held by another
// process before the operation fails with KindUnavailable. Tests shorten it.
var busyTimeout = 5 * time.Second

// DB is a metadata store (every role of glacier.Stores) backed by one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	w *sql.DB // one connection; every write transaction
	r *sql.DB // read-only connections

	hot  map[string]*sql.Stmt // hot reads, prepared on r (stmts.go)
	whot map[string]*sql.Stmt // hot writes, prepared on w (stmts.go)

	stamp *sharedStamp // the change counter shared with other processes (sharedstamp.go)

	gc groupCommitter // concurrent small writes share a commit (groupcommit.go)
}

// Open opens the database file at path, creating it and its directory if
// needed, and applies pending migrations.
func Open(path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		// Two pools need one shared file, and the driver reads a '?' as
		// the start of its parameters.
		return nil, fmt.Errorf("sqlite: database path %q must be a plain file path without '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}

	params := "_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) +
		"&_foreign_keys=on&_synchronous=FULL"
	// The writer keeps its statement journal in memory (temp_store): each
	// write of a group commit runs in its own savepoint, whose journal of
	// the pages it changes would otherwise spill to a temporary file once
	// a batch of small inline archives passes 64 KiB (a write syscall per
	// page). Only the writer: large sorts of reads stay on disk.
	w, err := sql.Open("sqlite", path+"?"+params+"&_journal_mode=WAL&_txlock=immediate&_pragma=temp_store(memory)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	ctx := context.Background()
	var mode string
	if err := w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: journal mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}

	if err := tightenFiles(path); err != nil { // a -wal or -shm of an older version
		w.Close()
		return nil, err
	}

	// The read pool opens after the writer has created the file and
	// switched it to WAL, which is persistent.
	r, err := sql.Open("sqlite", path+"?"+params+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	hot, err := prepareHot(ctx, r, hotQueries)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	whot, err := prepareHot(ctx, w, hotWrites)
	if err != nil {
		for _, st := range hot {
			st.Close()
		}
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &DB{w: w, r: r, hot: hot, whot: whot, stamp: openSharedStamp(path)}, nil
}

// Close closes both pools. The readers close first so that the writer is
// the last connection, the one that checkpoints the WAL.
func (db *DB) Close() error {
	for _, st := range db.hot {
		st.Close()
	}
	for _, st := range db.whot {
		st.Close()
	}
	db.stamp.close()
	return errors.Join(db.r.Close(), db.w.Close())
}

// migrate applies the embedded migrations that schema_migrations does not
// list yet, in version order, each in its own transaction.
func migrate(ctx context.Context, w *sql.DB) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)

	known := 0
	for _, name := range names {
		base := filepath.Base(name)
		digits, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(digits)
		if !ok || err != nil || version <= known {
			return fmt.Errorf("migration %s: name must start with an increasing version number", base)
		}
		known = version
		if err := migrateFile(ctx, w, version, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}

	var newest int
	if err := w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > known {
		return fmt.Errorf("database schema version %d is newer than this program's %d", newest, known)
	}
	return nil
}

// migrateFile applies one migration unless it is already recorded. The
// check and the change share an IMMEDIATE transaction, so two processes
// opening the same new file do not both apply it.
func migrateFile(ctx context.Context, w *sql.DB, version int, name string) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var applied bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version).Scan(&applied); err != nil {
		return err
	}
	if applied {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, filepath.Base(name), time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// update runs fn in a write transaction and commits it. op names the
// operation in error messages. It moves both shared stamps
// (sharedstamp.go): what it changes may be anything authorization reads.
func (db *DB) update(ctx context.Context, op string, fn func(tx *txn) error) error {
	return db.write(ctx, op, true, fn)
}

// write is update; auth = false for a transaction that changes nothing
// authorization reads (only archives, their vault's counters and last
// write, and blob intents), which leaves the authorization stamp alone.
func (db *DB) write(ctx context.Context, op string, auth bool, fn func(tx *txn) error) error {
	defer db.stamp.begin(auth)()
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(op, err)
	}
	tx := &txn{Tx: t, stmts: db.whot}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(op, err)
	}
	// The request's audit record, if it has one not yet appended, is part
	// of this transaction (internal/audit).
	if rec := audit.FromContext(ctx); rec.Claim() {
		err := appendAudit(ctx, tx, rec)
		if err == nil {
			err = tx.Commit()
		}
		rec.Settle(err == nil)
		return classify(op, err)
	}
	return classify(op, tx.Commit())
}

// view runs fn in a read-only transaction: one snapshot for all its
// statements.
func (db *DB) view(ctx context.Context, op string, fn func(tx *txn) error) error {
	t, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(op, err)
	}
	tx := &txn{Tx: t, stmts: db.hot}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(op, err)
	}
	return classify(op, tx.Commit())
}

// callerError carries an error of a caller's check function through update,
// which returns it unchanged.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }

// classify turns err into a *glacier.Error (see the package comment).
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	var ge *glacier.Error
	if errors.As(err, &ge) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return glacier.Wrap(glacier.KindNotFound, err, op+": not found")
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return glacier.Wrap(glacier.KindConflict, err, op+": already exists")
		case code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED:
			return glacier.Wrap(glacier.KindUnavailable, err, op+": database is busy")
		case code&0xff == sqlite3.SQLITE_FULL:
			// Nothing of the transaction committed; deletes, which free
			// space, still fit in the blob store's reserve.
			return glacier.Wrap(glacier.KindUnavailable, err, "The server's metadata disk is full: nothing was changed; try again once space is freed")
		}
	}
	return glacier.Wrap(glacier.KindInternal, err, "sqlite: "+op)
}

// millis is the column value of t: Unix milliseconds, or NULL for the zero
// time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// timeCol scans a column written by millis.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMilli(v).UTC()
	default:
		return fmt.Errorf("time column holds %T, want integer", v)
	}
	return nil
}

// hashCol scans a 32-byte BLOB into a hash.
type hashCol struct{ h *treehash.Hash }

func (c hashCol) Scan(v any) error {
	b, ok := v.([]byte)
	if !ok || len(b) != len(c.h) {
		return fmt.Errorf("hash column holds %T of %d bytes, want %d bytes", v, len(b), len(c.h))
	}
	copy(c.h[:], b)
	return nil
}

// encodeLeaves returns leaves as a BLOB column value: never nil, because the
// driver binds a nil slice as NULL.
func encodeLeaves(leaves []treehash.Hash) []byte {
	b := treehash.EncodeLeaves(leaves)
	if b == nil {
		b = []byte{}
	}
	return b
}

// limitArg is the LIMIT argument for a list limit; SQLite reads -1 as no
// limit.
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
