package metatest

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func testAccounts(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	_, err := s.GetAccount(ctx, acct)
	wantKind(t, "GetAccount of a missing account", err, glacier.KindNotFound)

	a2 := glacier.Account{ID: acct2, CreatedAt: t0}
	a1 := glacier.Account{ID: acct, CreatedAt: at(time.Second)}
	must(t, "CreateAccount", s.CreateAccount(ctx, a2))
	must(t, "CreateAccount", s.CreateAccount(ctx, a1))
	wantKind(t, "CreateAccount of an existing id", s.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: at(time.Hour)}), glacier.KindConflict)

	got, err := s.GetAccount(ctx, acct)
	must(t, "GetAccount", err)
	same(t, "GetAccount", got, a1)

	list, err := s.ListAccounts(ctx)
	must(t, "ListAccounts", err)
	same(t, "ListAccounts (ordered by id)", list, []glacier.Account{a1, a2})
}

func testAccessKeys(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	k1 := glacier.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA1", Secret: "secret1", AccountID: acct, CreatedAt: t0}
	wantKind(t, "CreateAccessKey for a missing account", s.CreateAccessKey(ctx, k1), glacier.KindNotFound)

	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: t0}))
	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct2, CreatedAt: t0}))
	k2 := glacier.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA2", Secret: "secret2", AccountID: acct2, CreatedAt: at(time.Second)}
	k3 := glacier.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA0", Secret: "secret3", AccountID: acct, UserName: "alice", CreatedAt: at(2 * time.Second)}
	k4 := glacier.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA3", Secret: "secret4", AccountID: acct, UserName: "bob", CreatedAt: at(3 * time.Second)}
	for _, k := range []glacier.AccessKey{k1, k2, k3, k4} {
		must(t, "CreateAccessKey "+k.ID, s.CreateAccessKey(ctx, k))
	}
	dup := k4
	dup.AccountID = acct2
	wantKind(t, "CreateAccessKey of an existing id", s.CreateAccessKey(ctx, dup), glacier.KindConflict)

	got, err := s.GetAccessKey(ctx, k3.ID)
	must(t, "GetAccessKey", err)
	same(t, "GetAccessKey", got, k3)
	_, err = s.GetAccessKey(ctx, "AKIAMISSINGMISSING00")
	wantKind(t, "GetAccessKey of a missing key", err, glacier.KindNotFound)

	list, err := s.ListAccessKeys(ctx, acct)
	must(t, "ListAccessKeys", err)
	same(t, "ListAccessKeys of one account (by creation)", list, []glacier.AccessKey{k1, k3, k4})
	list, err = s.ListAccessKeys(ctx, "")
	must(t, "ListAccessKeys", err)
	same(t, "ListAccessKeys of all accounts (by account, then creation)", list, []glacier.AccessKey{k1, k3, k4, k2})
	list, err = s.ListAccessKeys(ctx, "999999999999")
	must(t, "ListAccessKeys", err)
	if len(list) != 0 {
		t.Errorf("ListAccessKeys of an account without keys = %+v, want none", list)
	}

	must(t, "DeleteAccessKey", s.DeleteAccessKey(ctx, k3.ID))
	_, err = s.GetAccessKey(ctx, k3.ID)
	wantKind(t, "GetAccessKey of a deleted key", err, glacier.KindNotFound)
	wantKind(t, "DeleteAccessKey of a deleted key", s.DeleteAccessKey(ctx, k3.ID), glacier.KindNotFound)
	list, err = s.ListAccessKeys(ctx, acct)
	must(t, "ListAccessKeys", err)
	same(t, "ListAccessKeys after delete", list, []glacier.AccessKey{k1, k4})
}

func testSettings(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	v, err := s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "" {
		t.Errorf(`GetSetting of an unset key = %q, %v; want "", nil`, v, err)
	}
	must(t, "PutSetting", s.PutSetting(ctx, "clock.offset", "3600000"))
	must(t, "PutSetting", s.PutSetting(ctx, "other", "x"))
	v, err = s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "3600000" {
		t.Errorf(`GetSetting = %q, %v; want "3600000", nil`, v, err)
	}
	must(t, "PutSetting", s.PutSetting(ctx, "clock.offset", "-5"))
	v, err = s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "-5" {
		t.Errorf(`GetSetting after overwrite = %q, %v; want "-5", nil`, v, err)
	}
	v, err = s.GetSetting(ctx, "other")
	if err != nil || v != "x" {
		t.Errorf(`GetSetting of another key = %q, %v; want "x", nil`, v, err)
	}
}

// testTimeRoundTrip checks that times come back in UTC at millisecond
// precision (truncated), and the zero time as the zero time.
func testTimeRoundTrip(t *testing.T, s glacier.MetaStore) {
	ctx := t.Context()
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.FixedZone("UTC+5", 5*3600))
	want := time.Date(2024, 2, 29, 18, 59, 59, 999_000_000, time.UTC)

	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct}))
	a, err := s.GetAccount(ctx, acct)
	must(t, "GetAccount", err)
	if !a.CreatedAt.IsZero() {
		t.Errorf("zero CreatedAt came back as %v", a.CreatedAt)
	}

	v, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: in}, 10)
	must(t, "CreateVault", err)
	got, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	for _, g := range []glacier.Vault{v, got} {
		same(t, "CreatedAt", g.CreatedAt, want)
		same(t, "LastWriteAt", g.LastWriteAt, time.Time{})
		same(t, "LastInventoryAt", g.LastInventoryAt, time.Time{})
		if g.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", g.CreatedAt.Location())
		}
	}

	must(t, "CreateArchive", s.CreateArchive(ctx, glacier.Archive{
		ID: "arch", AccountID: acct, VaultName: "v", CreatedAt: in, Size: 1, TreeHash: hashOf("arch"),
		Segments: []glacier.Segment{{BlobKey: "b", Size: 1, TreeHash: hashOf("arch")}},
	}))
	ar, err := s.GetArchive(ctx, "arch")
	must(t, "GetArchive", err)
	same(t, "archive CreatedAt", ar.CreatedAt, want)
	got, err = s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "LastWriteAt", got.LastWriteAt, want)
}
