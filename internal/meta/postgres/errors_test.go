package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/permafrost/permafrost/internal/glacier"
)

func wantKind(t *testing.T, what string, err error, kind glacier.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %v", what, kind)
	} else if got := glacier.KindOf(err); got != kind {
		t.Errorf("%s: got error %q of kind %v, want %v", what, err, got, kind)
	}
}

func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	caller := errors.New("the caller's")
	for _, tc := range []struct {
		err  error
		want glacier.Kind
	}{
		{pgx.ErrNoRows, glacier.KindNotFound},
		{pg(uniqueViolation), glacier.KindConflict},
		{pg(foreignKeyViolation), glacier.KindNotFound},
		{pg(serializationFailure), glacier.KindUnavailable},
		{pg(deadlockDetected), glacier.KindUnavailable},
		{pg("55P03"), glacier.KindUnavailable}, // lock_not_available
		{pg("57P01"), glacier.KindUnavailable}, // admin_shutdown
		{pg("57P03"), glacier.KindUnavailable}, // cannot_connect_now
		{pg("08006"), glacier.KindUnavailable}, // connection_failure
		{pg("53300"), glacier.KindUnavailable}, // too_many_connections
		{pg("22021"), glacier.KindInternal},    // character_not_in_repertoire
		{pg("28P01"), glacier.KindInternal},    // invalid_password
		{pg("42P01"), glacier.KindInternal},    // undefined_table
		{io.ErrUnexpectedEOF, glacier.KindUnavailable},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), glacier.KindUnavailable},
		{refused, glacier.KindUnavailable},
		{context.DeadlineExceeded, glacier.KindUnavailable},
		{context.Canceled, glacier.KindInternal},
		{errors.New("something else"), glacier.KindInternal},
		{glacier.Errorf(glacier.KindLimitExceeded, "limit"), glacier.KindLimitExceeded},
	} {
		got := classify("op", tc.err)
		if k := glacier.KindOf(got); k != tc.want {
			t.Errorf("classify(%v) = %v of kind %v, want %v", tc.err, got, k, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("classify(%v) = %v, which does not wrap the cause", tc.err, got)
		}
	}
	if got := classify("op", &callerError{caller}); got != caller {
		t.Errorf("classify of a callback's error = %v, want it unchanged", got)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: deadlockDetected}, true},
		{&pgconn.PgError{Code: serializationFailure}, true},
		{&beginError{io.ErrUnexpectedEOF}, true},            // a dead pooled connection
		{&beginError{&pgconn.PgError{Code: "57P01"}}, true}, // terminated meanwhile
		{&beginError{&pgconn.PgError{Code: "28P01"}}, false},
		{&pgconn.PgError{Code: uniqueViolation}, false},
		{io.ErrUnexpectedEOF, false}, // later in a transaction: not retried
		{&callerError{errors.New("no")}, false},
		{glacier.Errorf(glacier.KindNotFound, "gone"), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestClosedStore: a closed store fails every call with KindInternal (a
// bug of the caller, not an outage).
func TestClosedStore(t *testing.T) {
	db, err := Open(t.Context(), newDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	must(t, "Close", db.Close())
	must(t, "Close again", db.Close())
	_, err = db.GetSetting(t.Context(), "k")
	wantKind(t, "GetSetting on a closed store", err, glacier.KindInternal)
	wantKind(t, "PutSetting on a closed store", db.PutSetting(t.Context(), "k", "v"), glacier.KindInternal)
}

// TestUnreachable: Open and the methods of a store whose server does not
// answer fail promptly with KindUnavailable.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	_, err = Open(t.Context(), "postgres://nobody:secret@"+addr+"/db?sslmode=disable")
	wantKind(t, "Open of a server that is not there", err, glacier.KindUnavailable)
	if d := time.Since(start); d > connectTimeout+time.Second {
		t.Errorf("Open took %v to fail", d)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestBlackHole: a server that accepts connections but never answers
// costs a call no more than the connect timeout.
func TestBlackHole(t *testing.T) {
	t.Parallel() // mostly waiting
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	dsn := "postgres://nobody:secret@" + l.Addr().String() + "/db?sslmode=disable"
	start := time.Now()
	_, err = Open(t.Context(), dsn)
	wantKind(t, "Open of a server that never answers", err, glacier.KindUnavailable)
	if d := time.Since(start); d < connectTimeout-time.Second || d > connectTimeout+2*time.Second {
		t.Errorf("Open took %v to fail, want about the connect timeout %v", d, connectTimeout)
	}

	// A method is not slowed down by retries either; the DSN's own
	// connect_timeout is honoured.
	pool, err := pgxpool.New(t.Context(), dsn+"&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{pool: pool}
	defer db.Close()
	start = time.Now()
	_, err = db.GetSetting(t.Context(), "k")
	wantKind(t, "GetSetting on a server that never answers", err, glacier.KindUnavailable)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("GetSetting took %v to fail, want about the connect timeout 1 s", d)
	}
}

// withPassword returns dsn with another password.
func withPassword(t *testing.T, dsn, password string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.User = url.UserPassword(u.User.Username(), password)
		return u.String()
	}
	return dsn + " password=" + password
}

// TestBadPassword: a refused login is a configuration error, not an
// outage to wait out.
func TestBadPassword(t *testing.T) {
	_, err := Open(t.Context(), withPassword(t, newDSN(t), "wrong"))
	wantKind(t, "Open with a wrong password", err, glacier.KindInternal)
}

// TestContextEnds: a call that waits for a lock past the caller's deadline
// is KindUnavailable; one whose context is cancelled is KindInternal
// wrapping context.Canceled. The store works on afterwards.
func TestContextEnds(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)

	// Another node holds the vault row.
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM vaults FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = db.AddTags(short, acct, "v", map[string]string{"k": "v"}, 10)
	wantKind(t, "AddTags past the deadline", err, glacier.KindUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AddTags past the deadline: %v, want it to wrap context.DeadlineExceeded", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	err = db.AddTags(cancelled, acct, "v", map[string]string{"k": "v"}, 10)
	wantKind(t, "AddTags cancelled", err, glacier.KindInternal)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AddTags cancelled: %v, want it to wrap context.Canceled", err)
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, "AddTags afterwards", db.AddTags(ctx, acct, "v", map[string]string{"k": "v"}, 10))
}

// TestDuplicateArchiveIsConflict checks the classification of a unique
// violation, and that the refused insert changed nothing.
func TestDuplicateArchiveIsConflict(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v"}, 10)
	must(t, "CreateVault", err)
	a := archive("a", "v", t0, "k")
	must(t, "CreateArchive", db.CreateArchive(ctx, a))
	wantKind(t, "CreateArchive of an existing id", db.CreateArchive(ctx, a), glacier.KindConflict)
	v, err := db.GetVault(ctx, acct, "v")
	if err != nil || v.NumberOfArchives != 1 {
		t.Errorf("vault after the refused duplicate = %+v, %v; want 1 archive", v, err)
	}
}

// TestCompleteUploadDuplicateArchive checks that an archive id collision
// while completing is not mistaken for the contract's "upload not open".
func TestCompleteUploadDuplicateArchive(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v"}, 10)
	must(t, "CreateVault", err)
	must(t, "CreateArchive", db.CreateArchive(ctx, glacier.Archive{ID: "a", AccountID: acct, VaultName: "v"}))
	must(t, "CreateUpload", db.CreateUpload(ctx, glacier.Upload{ID: "u", AccountID: acct, VaultName: "v", PartSize: 1 << 20}))
	_, err = db.CompleteUpload(ctx, "u", glacier.Archive{ID: "a", AccountID: acct, VaultName: "v"},
		func(glacier.Upload, []glacier.Part) error { return nil })
	wantKind(t, "CompleteUpload onto an existing archive id", err, glacier.KindInternal)
	u, err := db.GetUpload(ctx, acct, "v", "u")
	if err != nil || u.State != glacier.UploadOpen {
		t.Errorf("upload after the failed completion = %+v, %v; want it open", u, err)
	}
}

// TestTextPostgresCannotHold documents a difference from SQLite: text with
// NUL bytes or invalid UTF-8 is refused (KindInternal) and changes nothing.
func TestTextPostgresCannotHold(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v"}, 10)
	must(t, "CreateVault", err)
	for _, bad := range []string{"nul\x00", "latin1 caf\xe9"} {
		wantKind(t, fmt.Sprintf("AddTags %q", bad), db.AddTags(ctx, acct, "v", map[string]string{"k": bad}, 10), glacier.KindInternal)
	}
	tags, err := db.GetTags(ctx, acct, "v")
	if err != nil || len(tags) != 0 {
		t.Errorf("tags after the refusals = %v, %v; want none", tags, err)
	}
}
