package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/permafrost/permafrost/internal/glacier"
)

// SQLSTATEs the store tells apart.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// retryable reports whether running the whole transaction again may
// succeed and is safe: it deadlocked or failed to serialize (everything
// was rolled back), it could not even begin on a pooled connection that
// turned out dead, or pgx knows that the request that failed (COMMIT
// included) never reached the server, whose end of the broken connection
// rolls the transaction back. A failure to connect is not retried: the
// pool has just dialed, and a server that does not answer would cost
// another connect timeout.
func retryable(err error) bool {
	var ce *callerError
	var ge *glacier.Error
	if errors.As(err, &ce) || errors.As(err, &ge) {
		return false
	}
	switch sqlState(err) {
	case serializationFailure, deadlockDetected:
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return false
	}
	var be *beginError
	if errors.As(err, &be) {
		return connectionLost(err)
	}
	return pgconn.SafeToRetry(err)
}

// sqlState returns the SQLSTATE of a server error, "" for other errors.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// classifyCtx is classify for an error of an operation run under ctx: when
// the caller's context ended, that is the cause, whatever the driver made
// of it (a broken connection, a cancelled query), unless the server had
// answered with an error of its own.
func classifyCtx(ctx context.Context, op string, err error) error {
	var ce *callerError
	var ge *glacier.Error
	code := sqlState(err)
	if ctx.Err() != nil && !errors.As(err, &ce) && !errors.As(err, &ge) && (code == "" || code == "57014") { // query_canceled
		cause := context.Cause(ctx)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return glacier.Wrap(glacier.KindUnavailable, errors.Join(cause, err), op+": the database did not answer in time")
		}
		return glacier.Wrap(glacier.KindInternal, errors.Join(cause, err), "postgres: "+op+": canceled")
	}
	return classify(op, err)
}

// classify turns err into a *glacier.Error (see the package comment). The
// messages of KindNotFound, KindConflict and KindUnavailable reach clients:
// they name the operation and the condition, not the engine or its error.
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
	if errors.Is(err, pgx.ErrNoRows) {
		return glacier.Wrap(glacier.KindNotFound, err, op+": not found")
	}
	switch code := sqlState(err); {
	case code == uniqueViolation:
		return glacier.Wrap(glacier.KindConflict, err, op+": already exists")
	case code == foreignKeyViolation:
		return glacier.Wrap(glacier.KindNotFound, err, op+": what it refers to does not exist")
	case code == serializationFailure || code == deadlockDetected || code == "55P03" || code == "57014":
		// 55P03 lock_not_available and 57014 query_canceled: a lock_timeout
		// or statement_timeout the DBA set ran out.
		return glacier.Wrap(glacier.KindUnavailable, err, op+": the database is too busy")
	case unavailableState(code):
		return glacier.Wrap(glacier.KindUnavailable, err, op+": the database is unavailable")
	case code != "":
		return glacier.Wrap(glacier.KindInternal, err, "postgres: "+op)
	}
	if errors.Is(err, context.Canceled) {
		return glacier.Wrap(glacier.KindInternal, err, "postgres: "+op+": canceled")
	}
	if connectionLost(err) || errors.Is(err, context.DeadlineExceeded) {
		return glacier.Wrap(glacier.KindUnavailable, err, op+": the database is unreachable")
	}
	return glacier.Wrap(glacier.KindInternal, err, "postgres: "+op)
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// now but may later: connection exceptions (class 08), shutdowns and
// startups (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now, 57P05 idle_session_timeout), too many connections,
// and a server out of memory or disk (class 53).
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "57P05":
		return true
	}
	return false
}

// refusedByServer reports whether the server itself answered with an error
// that waiting will not cure: authentication (class 28) or a database or
// role that does not exist (3D000, 42704).
func refusedByServer(err error) bool {
	code := sqlState(err)
	return strings.HasPrefix(code, "28") || code == "3D000" || code == "42704"
}

// connectionLost reports whether err means the server could not be reached
// or the connection broke: a failed connect (refused, timed out, or the
// server shutting down), a network error, or a connection pgx had already
// closed.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return !refusedByServer(err)
	}
	if code := sqlState(err); code != "" {
		return unavailableState(code)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || pgconn.Timeout(err) {
		return true
	}
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE} {
		if errors.Is(err, target) {
			return true
		}
	}
	// pgx's error for a connection it closed after a fatal error.
	return strings.Contains(err.Error(), "conn closed")
}
