package glacier

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the client should learn from it. The API
// layer maps each kind to a Glacier error code and HTTP status in one table;
// nothing below it knows about codes or statuses.
type Kind int

const (
	// KindInternal is anything unclassified: the client gets a generic 500.
	KindInternal Kind = iota
	// KindNotFound: a vault, archive, upload, job or policy does not exist.
	KindNotFound
	// KindInvalidParameter: a value is present but invalid, or a state
	// conflict Glacier reports as an invalid parameter (vault not empty…).
	KindInvalidParameter
	// KindMissingParameter: a required header, path part or member is absent.
	KindMissingParameter
	// KindAccessDenied: the authorization decision said no.
	KindAccessDenied
	// KindLimitExceeded: a count limit (vaults, tags…) would be exceeded.
	KindLimitExceeded
	// KindRequestTimeout: an upload body stalled or ended early.
	KindRequestTimeout
	// KindUnavailable: a storage engine is down; the client may retry.
	KindUnavailable
	// KindPolicyEnforced: a job would exceed the account's data
	// retrieval policy (PolicyEnforcedException).
	KindPolicyEnforced
	// KindInsufficientCapacity: an Expedited job cannot be admitted now.
	KindInsufficientCapacity
	// KindConflict is used inside stores for lost races (an upload that was
	// completed or aborted meanwhile). The service translates it before it
	// reaches a client.
	KindConflict
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindInvalidParameter:
		return "invalid parameter"
	case KindMissingParameter:
		return "missing parameter"
	case KindAccessDenied:
		return "access denied"
	case KindLimitExceeded:
		return "limit exceeded"
	case KindRequestTimeout:
		return "request timeout"
	case KindUnavailable:
		return "unavailable"
	case KindPolicyEnforced:
		return "policy enforced"
	case KindInsufficientCapacity:
		return "insufficient capacity"
	case KindConflict:
		return "conflict"
	}
	return "internal"
}

// Error is the domain error: a kind, a message that is safe to show the
// client (AWS's wording where the spec gives one) and an optional cause
// that is only logged.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted client message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given kind whose cause is err.
func Wrap(kind Kind, err error, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// or KindInternal.
func KindOf(err error) Kind {
	if err == nil { // before e, which escapes: no allocation on the hot path
		return KindInternal
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the client-safe message of err, or "" when err carries
// none (internal errors must not leak their causes).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// IsNotFound reports whether err is of KindNotFound.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }
