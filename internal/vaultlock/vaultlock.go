// Package vaultlock is the Vault Lock state machine of vault-lock.md §2–3,
// as pure functions: each transition takes the current record and "now" and
// returns the next record or the refusal. Storage applies a transition
// atomically (compare-and-swap per vault); this package only decides.
//
// Expiry is lazy (§2.1): a record that is InProgress at or after its
// expiration instant is treated everywhere as if it did not exist, so a
// draft stops being enforced at the exact instant even if no request came.
package vaultlock

import (
	"time"
)

// Window is how long a lock may stay InProgress before it expires.
const Window = 24 * time.Hour

// State is a lock's state; None means no lock record in force.
type State int

const (
	None State = iota
	InProgress
	Locked
)

func (s State) String() string {
	switch s {
	case InProgress:
		return "InProgress"
	case Locked:
		return "Locked"
	}
	return "None"
}

// Lock is a lock record.
type Lock struct {
	Policy    string
	State     State
	ID        string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Refusal says why a transition is not allowed and which error family the
// API answers with (§3).
type Refusal struct {
	Denied  bool // true → AccessDeniedException, false → InvalidParameterValueException
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Effective returns the lock in force at now: nil when there is no record
// or an InProgress record has expired (the boundary instant counts as
// expired), else the record itself.
func Effective(cur *Lock, now time.Time) *Lock {
	if cur == nil || cur.State == None {
		return nil
	}
	if cur.State == InProgress && !now.Before(cur.ExpiresAt) {
		return nil
	}
	return cur
}

// Initiate installs policy as an InProgress lock with the fresh id. Only
// allowed when no lock is in force.
func Initiate(cur *Lock, policy, id string, now time.Time) (*Lock, error) {
	switch l := Effective(cur, now); {
	case l == nil:
		return &Lock{Policy: policy, State: InProgress, ID: id, CreatedAt: now, ExpiresAt: now.Add(Window)}, nil
	case l.State == InProgress:
		return nil, &Refusal{Denied: true, Message: "A vault lock is already in progress; abort it before initiating a new one"}
	default:
		return nil, &Refusal{Denied: true, Message: "The vault is locked; its lock policy can no longer be changed"}
	}
}

// Complete locks an InProgress lock whose id matches; completing a Locked
// lock with its id again changes nothing.
func Complete(cur *Lock, id string, now time.Time) (*Lock, error) {
	switch l := Effective(cur, now); {
	case l == nil:
		return nil, &Refusal{Message: "No vault lock is in progress for lock ID: " + id}
	case l.State == InProgress && l.ID == id:
		next := *l
		next.State = Locked
		return &next, nil
	case l.State == InProgress:
		return nil, &Refusal{Message: "Invalid lock ID: " + id + " does not match the vault lock in progress"}
	case l.ID == id:
		return l, nil
	default:
		return nil, &Refusal{Denied: true, Message: "The vault is locked; lock ID " + id + " does not match its lock"}
	}
}

// Abort removes an InProgress lock; with no lock in force it changes
// nothing. A Locked lock cannot be aborted.
func Abort(cur *Lock, now time.Time) (*Lock, error) {
	if l := Effective(cur, now); l != nil && l.State == Locked {
		return cur, &Refusal{Denied: true, Message: "The vault is locked; its lock policy cannot be removed"}
	}
	return nil, nil
}
