package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/vaultlock"
)

// Policy texts with unicode (non-BMP, combining marks, NFD next to NFC),
// a BOM, tabs, CRLF and leading and trailing whitespace: stores keep them
// byte for byte.
const (
	policyA = "\ufeff  {\n\t\"Version\": \"2012-10-17\",\r\n\t\"Sid\": \"caf\u00e9 cafe\u0301 \u65e5\u672c \U0001F9CA\",  \n\t\"Statement\": []\n}\n\n "
	policyB = "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"glacier:DeleteArchive\",\"Resource\":\"*\"}]}\t"
)

// fine is t0 plus a sub-millisecond part, in another zone: stores keep it
// as t0 (millisecond precision, UTC).
var fine = t0.Add(999_999 * time.Nanosecond).In(time.FixedZone("UTC+5:30", 5*3600+1800))

// lockOf returns a lock record created at created, expiring a window later.
func lockOf(policy, id string, state glacier.LockState, created time.Time) *glacier.Lock {
	return &glacier.Lock{Policy: policy, State: state, ID: id, CreatedAt: created, ExpiresAt: created.Add(vaultlock.Window)}
}

// wantPolicy fails t unless GetAccessPolicy returns exactly want.
func wantPolicy(t *testing.T, s Store, what, accountID, vault, want string) {
	t.Helper()
	got, err := s.GetAccessPolicy(t.Context(), accountID, vault)
	if err != nil {
		t.Errorf("%s: GetAccessPolicy: %v", what, err)
	} else if got != want {
		t.Errorf("%s: GetAccessPolicy =\n %q\nwant\n %q", what, got, want)
	}
}

// wantLock fails t unless GetLock returns want (nil for none).
func wantLock(t *testing.T, s Store, what, accountID, vault string, want *glacier.Lock) {
	t.Helper()
	got, err := s.GetLock(t.Context(), accountID, vault)
	if err != nil {
		t.Errorf("%s: GetLock: %v", what, err)
		return
	}
	same(t, what, got, want)
}

// setLock stores l as the vault's lock record.
func setLock(t *testing.T, s Store, accountID, vault string, l *glacier.Lock) {
	t.Helper()
	must(t, "UpdateLock "+vault, s.UpdateLock(t.Context(), accountID, vault, func(*glacier.Lock) (*glacier.Lock, error) {
		return l, nil
	}))
}

func testAccessPolicy(t *testing.T, s Store) {
	ctx := t.Context()
	wantKind(t, "SetAccessPolicy of a missing vault", s.SetAccessPolicy(ctx, acct, "v", policyA), glacier.KindNotFound)
	_, err := s.GetAccessPolicy(ctx, acct, "v")
	wantKind(t, "GetAccessPolicy of a missing vault", err, glacier.KindNotFound)
	wantKind(t, "DeleteAccessPolicy of a missing vault", s.DeleteAccessPolicy(ctx, acct, "v"), glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	mustVault(t, s, acct2, "v")
	_, err = s.GetAccessPolicy(ctx, acct, "v")
	wantKind(t, "GetAccessPolicy when none is set", err, glacier.KindNotFound)
	must(t, "DeleteAccessPolicy when none is set", s.DeleteAccessPolicy(ctx, acct, "v"))

	must(t, "SetAccessPolicy", s.SetAccessPolicy(ctx, acct, "v", policyA))
	wantPolicy(t, s, "after SetAccessPolicy", acct, "v", policyA)
	for _, o := range [][2]string{{acct, "w"}, {acct2, "v"}} {
		_, err = s.GetAccessPolicy(ctx, o[0], o[1])
		wantKind(t, "GetAccessPolicy of another vault "+o[0]+"/"+o[1], err, glacier.KindNotFound)
	}

	must(t, "SetAccessPolicy replacing", s.SetAccessPolicy(ctx, acct, "v", policyB))
	wantPolicy(t, s, "after replace", acct, "v", policyB)
	must(t, "SetAccessPolicy of another vault", s.SetAccessPolicy(ctx, acct2, "v", policyA))
	wantPolicy(t, s, "the other vault's", acct2, "v", policyA)
	wantPolicy(t, s, "after setting another vault's", acct, "v", policyB)

	must(t, "DeleteAccessPolicy", s.DeleteAccessPolicy(ctx, acct, "v"))
	_, err = s.GetAccessPolicy(ctx, acct, "v")
	wantKind(t, "GetAccessPolicy after delete", err, glacier.KindNotFound)
	must(t, "DeleteAccessPolicy again", s.DeleteAccessPolicy(ctx, acct, "v"))
	wantPolicy(t, s, "the other vault's after delete", acct2, "v", policyA)
}

func testLocks(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetLock(ctx, acct, "v")
	wantKind(t, "GetLock of a missing vault", err, glacier.KindNotFound)
	err = s.UpdateLock(ctx, acct, "v", func(*glacier.Lock) (*glacier.Lock, error) {
		return lockOf(policyA, "lock-0", glacier.LockInProgress, t0), nil
	})
	wantKind(t, "UpdateLock of a missing vault", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	mustVault(t, s, acct2, "v")
	wantLock(t, s, "GetLock of a vault without lock", acct, "v", nil)

	// fn gets nil when there is no record; what it returns is stored.
	calls := 0
	err = s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) {
		calls++
		if cur != nil {
			t.Errorf("UpdateLock without a record: fn got %+v, want nil", cur)
		}
		return lockOf(policyA, "lock-1", glacier.LockInProgress, fine), nil
	})
	must(t, "UpdateLock installing", err)
	if calls == 0 {
		t.Errorf("UpdateLock did not call fn")
	}
	stored := lockOf(policyA, "lock-1", glacier.LockInProgress, t0) // millisecond precision, UTC
	got, err := s.GetLock(ctx, acct, "v")
	must(t, "GetLock", err)
	same(t, "GetLock after install", got, stored)
	if got != nil {
		if got.Policy != policyA {
			t.Errorf("GetLock: policy\n %q\nwant\n %q", got.Policy, policyA)
		}
		if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("GetLock: locations %v, %v; want UTC", got.CreatedAt.Location(), got.ExpiresAt.Location())
		}
	}
	wantLock(t, s, "GetLock of another vault", acct, "w", nil)
	wantLock(t, s, "GetLock of the same name in another account", acct2, "v", nil)

	// fn gets the current record.
	locked := lockOf(policyA, "lock-1", glacier.LockLocked, t0)
	calls = 0
	err = s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) {
		calls++
		same(t, "fn's current record", cur, stored)
		next := *locked
		return &next, nil
	})
	must(t, "UpdateLock completing", err)
	if calls == 0 {
		t.Errorf("UpdateLock did not call fn")
	}
	wantLock(t, s, "GetLock after the change", acct, "v", locked)

	// Returning the current record changes nothing.
	must(t, "UpdateLock keeping", s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) { return cur, nil }))
	wantLock(t, s, "GetLock after returning the current record", acct, "v", locked)

	// An error from fn changes nothing, whatever fn returned with it, and
	// comes back as it is.
	refused := errors.New("refused")
	err = s.UpdateLock(ctx, acct, "v", func(*glacier.Lock) (*glacier.Lock, error) {
		return lockOf(policyB, "lock-2", glacier.LockInProgress, at(time.Hour)), refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("UpdateLock with fn failing: got error %v, want fn's", err)
	}
	err = s.UpdateLock(ctx, acct, "v", func(*glacier.Lock) (*glacier.Lock, error) { return nil, refused })
	if !errors.Is(err, refused) {
		t.Errorf("UpdateLock with fn failing: got error %v, want fn's", err)
	}
	refusal := &vaultlock.Refusal{Denied: true, Message: "The vault is locked"}
	err = s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) { return cur, refusal })
	var r *vaultlock.Refusal
	if !errors.As(err, &r) || r != refusal {
		t.Errorf("UpdateLock with fn refusing: got error %v, want fn's *vaultlock.Refusal", err)
	}
	wantLock(t, s, "GetLock after fn failed", acct, "v", locked)

	// Returning nil deletes the record.
	must(t, "UpdateLock deleting", s.UpdateLock(ctx, acct, "v", func(*glacier.Lock) (*glacier.Lock, error) { return nil, nil }))
	wantLock(t, s, "GetLock after delete", acct, "v", nil)
	err = s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) {
		if cur != nil {
			t.Errorf("UpdateLock after delete: fn got %+v, want nil", cur)
		}
		return nil, nil
	})
	must(t, "UpdateLock deleting nothing", err)
	wantLock(t, s, "GetLock after deleting nothing", acct, "v", nil)

	// An fn error with no record leaves none.
	err = s.UpdateLock(ctx, acct, "w", func(*glacier.Lock) (*glacier.Lock, error) {
		return lockOf(policyB, "lock-3", glacier.LockInProgress, t0), refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("UpdateLock with fn failing: got error %v, want fn's", err)
	}
	wantLock(t, s, "GetLock after fn failed without a record", acct, "w", nil)
}

func testVaultPolicies(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.VaultPolicies(ctx, acct, "v")
	wantKind(t, "VaultPolicies of a missing vault", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	mustVault(t, s, acct, "w")
	mustVault(t, s, acct2, "v")
	empty := func(what, accountID, vault string) {
		t.Helper()
		vp, err := s.VaultPolicies(ctx, accountID, vault)
		must(t, "VaultPolicies", err)
		if vp.AccessPolicy != "" || vp.Lock != nil || vp.Tags == nil || len(vp.Tags) != 0 {
			t.Errorf("%s: VaultPolicies = %#v, want no policy, nil lock and an empty non-nil tag map", what, vp)
		}
	}
	empty("vault without policies", acct, "v")

	must(t, "SetAccessPolicy", s.SetAccessPolicy(ctx, acct, "v", policyA))
	setLock(t, s, acct, "v", lockOf(policyB, "lock-1", glacier.LockInProgress, fine))
	tags := map[string]string{"owner": "ops", "Owner": "", "team": "\u65e5\u672c"}
	must(t, "AddTags", s.AddTags(ctx, acct, "v", tags, 10))

	vp, err := s.VaultPolicies(ctx, acct, "v")
	must(t, "VaultPolicies", err)
	if got, err := s.GetVault(ctx, acct, "v"); err != nil || fmt.Sprint(vp.Vault) != fmt.Sprint(got) {
		t.Errorf("VaultPolicies vault = %+v, GetVault = %+v (%v)", vp.Vault, got, err)
	}
	if vp.AccessPolicy != policyA {
		t.Errorf("VaultPolicies: access policy\n %q\nwant\n %q", vp.AccessPolicy, policyA)
	}
	same(t, "VaultPolicies lock", vp.Lock, lockOf(policyB, "lock-1", glacier.LockInProgress, t0))
	same(t, "VaultPolicies tags", vp.Tags, tags)

	// Each part on its own.
	must(t, "DeleteAccessPolicy", s.DeleteAccessPolicy(ctx, acct, "v"))
	vp, err = s.VaultPolicies(ctx, acct, "v")
	must(t, "VaultPolicies", err)
	if vp.AccessPolicy != "" || vp.Lock == nil || len(vp.Tags) != len(tags) {
		t.Errorf("VaultPolicies without access policy = %#v", vp)
	}
	setLock(t, s, acct, "v", nil)
	must(t, "RemoveTags", s.RemoveTags(ctx, acct, "v", []string{"owner", "Owner", "team"}))
	must(t, "SetAccessPolicy", s.SetAccessPolicy(ctx, acct, "v", policyB))
	vp, err = s.VaultPolicies(ctx, acct, "v")
	must(t, "VaultPolicies", err)
	if vp.AccessPolicy != policyB || vp.Lock != nil || vp.Tags == nil || len(vp.Tags) != 0 {
		t.Errorf("VaultPolicies with only an access policy = %#v", vp)
	}

	empty("another vault", acct, "w")
	empty("the same name in another account", acct2, "v")
}

// testDeleteVaultPolicies: deleting a vault removes its access policy and
// lock record; a vault of the same name starts without them.
func testDeleteVaultPolicies(t *testing.T, s Store) {
	ctx := t.Context()
	keepLock := lockOf(policyB, "lock-keep", glacier.LockLocked, t0)
	for _, name := range []string{"v", "keep"} {
		mustVault(t, s, acct, name)
		must(t, "SetAccessPolicy", s.SetAccessPolicy(ctx, acct, name, policyA))
	}
	setLock(t, s, acct, "v", lockOf(policyB, "lock-v", glacier.LockInProgress, t0))
	setLock(t, s, acct, "keep", keepLock)

	_, err := s.DeleteVault(ctx, acct, "v", func(glacier.Vault) error { return nil })
	must(t, "DeleteVault", err)
	_, err = s.GetAccessPolicy(ctx, acct, "v")
	wantKind(t, "GetAccessPolicy after delete", err, glacier.KindNotFound)
	_, err = s.GetLock(ctx, acct, "v")
	wantKind(t, "GetLock after delete", err, glacier.KindNotFound)
	_, err = s.VaultPolicies(ctx, acct, "v")
	wantKind(t, "VaultPolicies after delete", err, glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	_, err = s.GetAccessPolicy(ctx, acct, "v")
	wantKind(t, "GetAccessPolicy of the recreated vault", err, glacier.KindNotFound)
	wantLock(t, s, "GetLock of the recreated vault", acct, "v", nil)
	vp, err := s.VaultPolicies(ctx, acct, "v")
	must(t, "VaultPolicies of the recreated vault", err)
	if vp.AccessPolicy != "" || vp.Lock != nil || len(vp.Tags) != 0 {
		t.Errorf("VaultPolicies of the recreated vault = %#v, want nothing", vp)
	}

	// The other vault is untouched.
	wantPolicy(t, s, "the other vault's", acct, "keep", policyA)
	wantLock(t, s, "the other vault's lock", acct, "keep", keepLock)
}

// lockOutcomes splits the errors of racing UpdateLock calls into the
// indexes that succeeded and the refusals by index, and fails t for any
// error that is not a *vaultlock.Refusal.
func lockOutcomes(t *testing.T, what string, errs []error) (won []int, refused map[int]*vaultlock.Refusal) {
	t.Helper()
	refused = map[int]*vaultlock.Refusal{}
	for i, err := range errs {
		var r *vaultlock.Refusal
		switch {
		case err == nil:
			won = append(won, i)
		case errors.As(err, &r):
			refused[i] = r
		default:
			t.Errorf("%s: racer %d got error %v (kind %v), want nil or a *vaultlock.Refusal", what, i, err, glacier.KindOf(err))
		}
	}
	return won, refused
}

// testRaceLockInitiate: of many initiations on a vault without lock
// exactly one wins; the others are refused and the winner's lock is
// stored.
func testRaceLockInitiate(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	now := at(time.Hour)
	policy := func(i int) string { return fmt.Sprintf("%s/%d", policyA, i) }
	id := func(i int) string { return fmt.Sprintf("lock-%d", i) }

	errs := Race(racers, func(i int) error {
		return s.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) {
			return vaultlock.Initiate(cur, policy(i), id(i), now)
		})
	})
	won, refused := lockOutcomes(t, "Initiate race", errs)
	if len(won) != 1 {
		t.Fatalf("Initiate race: %d winners (errors %v), want exactly 1", len(won), errs)
	}
	if len(refused) != racers-1 {
		t.Errorf("Initiate race: %d refused, want %d", len(refused), racers-1)
	}
	for i, r := range refused {
		if !r.Denied {
			t.Errorf("Initiate race: racer %d refused with %q, not denied (a lock was in progress)", i, r.Message)
		}
	}
	w := won[0]
	wantLock(t, s, "lock after the Initiate race", acct, "v", lockOf(policy(w), id(w), glacier.LockInProgress, now))
}

// testRaceLockCompleteVersusAbort: completions and aborts of one lock in
// progress race; the outcome must be that of some serial order. The first
// to run decides: after a Complete the lock is Locked, every Complete
// succeeds and every Abort is denied; after an Abort there is no lock,
// every Abort succeeds and every Complete is refused.
func testRaceLockCompleteVersusAbort(t *testing.T, s Store) {
	ctx := t.Context()
	const rounds = 6
	now := at(time.Hour) // before expiry
	outcomes := map[string]int{}
	for r := range rounds {
		vault := fmt.Sprintf("v%d", r)
		id := fmt.Sprintf("lock-%d", r)
		mustVault(t, s, acct, vault)
		must(t, "UpdateLock initiating", s.UpdateLock(ctx, acct, vault, func(cur *glacier.Lock) (*glacier.Lock, error) {
			return vaultlock.Initiate(cur, policyA, id, t0)
		}))

		isComplete := func(i int) bool { return (i+r)%2 == 0 } // who starts alternates
		errs := Race(racers, func(i int) error {
			return s.UpdateLock(ctx, acct, vault, func(cur *glacier.Lock) (*glacier.Lock, error) {
				if isComplete(i) {
					return vaultlock.Complete(cur, id, now)
				}
				return vaultlock.Abort(cur, now)
			})
		})
		won, refused := lockOutcomes(t, "Complete versus Abort", errs)

		final, err := s.GetLock(ctx, acct, vault)
		must(t, "GetLock", err)
		wonSet := map[int]bool{}
		for _, i := range won {
			wonSet[i] = true
		}
		if final == nil {
			outcomes["None"]++
			for i := range racers {
				switch {
				case isComplete(i) && wonSet[i]:
					t.Errorf("round %d: Complete by racer %d succeeded but the lock is gone", r, i)
				case isComplete(i) && refused[i] != nil && refused[i].Denied:
					t.Errorf("round %d: Complete by racer %d denied (%q), want refused as not in progress", r, i, refused[i].Message)
				case !isComplete(i) && !wonSet[i]:
					t.Errorf("round %d: Abort by racer %d failed (%v) but the lock is gone", r, i, errs[i])
				}
			}
			continue
		}
		outcomes["Locked"]++
		same(t, fmt.Sprintf("round %d: lock after the race", r), final, lockOf(policyA, id, glacier.LockLocked, t0))
		for i := range racers {
			switch {
			case isComplete(i) && !wonSet[i]:
				t.Errorf("round %d: Complete by racer %d failed (%v) but the lock is Locked", r, i, errs[i])
			case !isComplete(i) && wonSet[i]:
				t.Errorf("round %d: Abort by racer %d succeeded but the lock is Locked", r, i)
			case !isComplete(i) && refused[i] != nil && !refused[i].Denied:
				t.Errorf("round %d: Abort by racer %d refused with %q, not denied", r, i, refused[i].Message)
			}
		}
	}
	t.Logf("final states over %d rounds: %v", rounds, outcomes)
}
