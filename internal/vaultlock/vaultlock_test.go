package vaultlock

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func inProgress(id string) *Lock {
	return &Lock{Policy: "P", State: InProgress, ID: id, CreatedAt: t0, ExpiresAt: t0.Add(Window)}
}

func locked(id string) *Lock {
	l := inProgress(id)
	l.State = Locked
	return l
}

// TestMatrix is vault-lock.md §3, row for row: each operation in each
// state, with the expected outcome.
func TestMatrix(t *testing.T) {
	now := t0.Add(time.Hour)
	expired := t0.Add(Window) // the boundary instant counts as expired
	type want struct {
		state   State // state after the call (None = no record)
		denied  bool  // refusal: AccessDenied
		invalid bool  // refusal: InvalidParameter
	}
	rows := []struct {
		name string
		cur  *Lock
		at   time.Time
		op   func(*Lock, time.Time) (*Lock, error)
		want want
	}{
		{"initiate/none", nil, now, initiate("N"), want{state: InProgress}},
		{"initiate/in-progress", inProgress("L"), now, initiate("N"), want{state: InProgress, denied: true}},
		{"initiate/locked", locked("L"), now, initiate("N"), want{state: Locked, denied: true}},
		{"initiate/expired", inProgress("L"), expired, initiate("N"), want{state: InProgress}},

		{"complete-match/in-progress", inProgress("L"), now, complete("L"), want{state: Locked}},
		{"complete-match/locked", locked("L"), now, complete("L"), want{state: Locked}},
		{"complete-match/expired", inProgress("L"), expired, complete("L"), want{state: None, invalid: true}},
		{"complete-mismatch/none", nil, now, complete("X"), want{state: None, invalid: true}},
		{"complete-mismatch/in-progress", inProgress("L"), now, complete("X"), want{state: InProgress, invalid: true}},
		{"complete-mismatch/locked", locked("L"), now, complete("X"), want{state: Locked, denied: true}},
		{"complete/just-before-expiry", inProgress("L"), expired.Add(-time.Millisecond), complete("L"), want{state: Locked}},

		{"abort/none", nil, now, Abort, want{state: None}},
		{"abort/in-progress", inProgress("L"), now, Abort, want{state: None}},
		{"abort/locked", locked("L"), now, Abort, want{state: Locked, denied: true}},
		{"abort/expired", inProgress("L"), expired, Abort, want{state: None}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			next, err := r.op(r.cur, r.at)
			after := next
			if err != nil {
				after = Effective(r.cur, r.at) // a refusal changes nothing
				ref, ok := err.(*Refusal)
				if !ok {
					t.Fatalf("error %T, want *Refusal", err)
				}
				if ref.Denied != r.want.denied || !ref.Denied != r.want.invalid {
					t.Fatalf("refusal denied=%v, want denied=%v invalid=%v", ref.Denied, r.want.denied, r.want.invalid)
				}
			} else if r.want.denied || r.want.invalid {
				t.Fatalf("no refusal, want one")
			}
			got := None
			if e := Effective(after, r.at); e != nil {
				got = e.State
			}
			if got != r.want.state {
				t.Fatalf("state after = %v, want %v", got, r.want.state)
			}
		})
	}
}

func initiate(id string) func(*Lock, time.Time) (*Lock, error) {
	return func(cur *Lock, now time.Time) (*Lock, error) { return Initiate(cur, "P2", id, now) }
}

func complete(id string) func(*Lock, time.Time) (*Lock, error) {
	return func(cur *Lock, now time.Time) (*Lock, error) { return Complete(cur, id, now) }
}

func TestInitiateSetsWindow(t *testing.T) {
	l, err := Initiate(nil, "policy", "ID", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !l.CreatedAt.Equal(t0) || !l.ExpiresAt.Equal(t0.Add(24*time.Hour)) || l.ID != "ID" || l.Policy != "policy" {
		t.Fatalf("lock = %+v", l)
	}
}

func TestEffectiveBoundary(t *testing.T) {
	l := inProgress("L")
	if Effective(l, l.ExpiresAt.Add(-time.Millisecond)) == nil {
		t.Fatal("expired a millisecond early")
	}
	if Effective(l, l.ExpiresAt) != nil {
		t.Fatal("still in force at the expiry instant")
	}
	if Effective(locked("L"), t0.Add(1000*Window)) == nil {
		t.Fatal("a Locked lock expired")
	}
}
