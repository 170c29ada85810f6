package metatest

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func testAccounts(t *testing.T, s Store) {
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

func testAccessKeys(t *testing.T, s Store) {
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

func testUsers(t *testing.T, s Store) {
	ctx := t.Context()
	const acct3 = "777788889999"
	alice := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICE00000000001", Policy: policyA, CreatedAt: fine}
	wantKind(t, "CreateUser for a missing account", s.CreateUser(ctx, alice), glacier.KindNotFound)

	for _, id := range []string{acct, acct2, acct3} {
		must(t, "CreateAccount "+id, s.CreateAccount(ctx, glacier.Account{ID: id, CreatedAt: t0}))
	}
	_, err := s.GetUser(ctx, acct, "alice")
	wantKind(t, "GetUser after a refused CreateUser", err, glacier.KindNotFound)

	bob := glacier.User{AccountID: acct, Name: "bob", UserID: "AIDABOB0000000000002", Policy: policyB, CreatedAt: at(time.Second)}
	carol := glacier.User{AccountID: acct, Name: "carol", UserID: "AIDACAROL00000000003", CreatedAt: at(2 * time.Second)}
	alice2 := glacier.User{AccountID: acct2, Name: "alice", UserID: "AIDAALICE00000000004", Policy: policyB, CreatedAt: at(3 * time.Second)}
	for _, u := range []glacier.User{carol, alice, bob, alice2} {
		must(t, "CreateUser "+u.AccountID+"/"+u.Name, s.CreateUser(ctx, u))
	}
	alice.CreatedAt = t0 // as stored: millisecond precision, UTC

	dup := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDADUP0000000000005", Policy: "{}", CreatedAt: at(time.Hour)}
	wantKind(t, "CreateUser of a name taken in the account", s.CreateUser(ctx, dup), glacier.KindConflict)

	for _, want := range []glacier.User{alice, bob, carol, alice2} {
		got, err := s.GetUser(ctx, want.AccountID, want.Name)
		must(t, "GetUser "+want.AccountID+"/"+want.Name, err)
		same(t, "GetUser "+want.AccountID+"/"+want.Name, got, want)
		if got.Policy != want.Policy {
			t.Errorf("GetUser %s/%s: policy\n %q\nwant\n %q", want.AccountID, want.Name, got.Policy, want.Policy)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("GetUser %s/%s: CreatedAt location = %v, want UTC", want.AccountID, want.Name, got.CreatedAt.Location())
		}
	}
	_, err = s.GetUser(ctx, acct, "dave")
	wantKind(t, "GetUser of a missing user", err, glacier.KindNotFound)
	_, err = s.GetUser(ctx, acct2, "bob")
	wantKind(t, "GetUser of a user of another account", err, glacier.KindNotFound)
	_, err = s.GetUser(ctx, acct, "Alice")
	wantKind(t, "GetUser is case-sensitive", err, glacier.KindNotFound)

	list, err := s.ListUsers(ctx, acct)
	must(t, "ListUsers", err)
	same(t, "ListUsers (ordered by name)", list, []glacier.User{alice, bob, carol})
	list, err = s.ListUsers(ctx, acct2)
	must(t, "ListUsers", err)
	same(t, "ListUsers of the other account", list, []glacier.User{alice2})
	list, err = s.ListUsers(ctx, acct3)
	must(t, "ListUsers", err)
	if len(list) != 0 {
		t.Errorf("ListUsers of an account without users = %+v, want none", list)
	}
}

func testDeleteUser(t *testing.T, s Store) {
	ctx := t.Context()
	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct, CreatedAt: t0}))
	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct2, CreatedAt: t0}))
	alice := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICE00000000001", Policy: policyA, CreatedAt: t0}
	bob := glacier.User{AccountID: acct, Name: "bob", UserID: "AIDABOB0000000000002", CreatedAt: t0}
	alice2 := glacier.User{AccountID: acct2, Name: "alice", UserID: "AIDAALICE00000000003", CreatedAt: t0}
	for _, u := range []glacier.User{alice, bob, alice2} {
		must(t, "CreateUser "+u.AccountID+"/"+u.Name, s.CreateUser(ctx, u))
	}
	key := func(id, accountID, user string, d time.Duration) glacier.AccessKey {
		return glacier.AccessKey{ID: id, Secret: "secret-" + id, AccountID: accountID, UserName: user, CreatedAt: at(d)}
	}
	root := key("AKIAROOT000000000001", acct, "", 0)
	a1 := key("AKIAALICE00000000001", acct, "alice", time.Second)
	a2 := key("AKIAALICE00000000002", acct, "alice", 2*time.Second)
	b1 := key("AKIABOB0000000000001", acct, "bob", 3*time.Second)
	root2 := key("AKIAROOT000000000002", acct2, "", 4*time.Second)
	a3 := key("AKIAALICE00000000003", acct2, "alice", 5*time.Second)
	for _, k := range []glacier.AccessKey{root, a1, a2, b1, root2, a3} {
		must(t, "CreateAccessKey "+k.ID, s.CreateAccessKey(ctx, k))
	}

	must(t, "DeleteUser", s.DeleteUser(ctx, acct, "alice"))
	_, err := s.GetUser(ctx, acct, "alice")
	wantKind(t, "GetUser of a deleted user", err, glacier.KindNotFound)
	for _, k := range []glacier.AccessKey{a1, a2} {
		_, err := s.GetAccessKey(ctx, k.ID)
		wantKind(t, "GetAccessKey of a deleted user's key", err, glacier.KindNotFound)
	}
	keys, err := s.ListAccessKeys(ctx, acct)
	must(t, "ListAccessKeys", err)
	same(t, "keys of the account after DeleteUser (root's and bob's stay)", keys, []glacier.AccessKey{root, b1})
	keys, err = s.ListAccessKeys(ctx, acct2)
	must(t, "ListAccessKeys", err)
	same(t, "keys of the other account after DeleteUser", keys, []glacier.AccessKey{root2, a3})
	users, err := s.ListUsers(ctx, acct)
	must(t, "ListUsers", err)
	same(t, "ListUsers after DeleteUser", users, []glacier.User{bob})
	got, err := s.GetUser(ctx, acct2, "alice")
	must(t, "GetUser of the same name in another account", err)
	same(t, "user of the same name in another account", got, alice2)

	wantKind(t, "DeleteUser of a deleted user", s.DeleteUser(ctx, acct, "alice"), glacier.KindNotFound)
	wantKind(t, "DeleteUser of a missing user", s.DeleteUser(ctx, acct, "nobody"), glacier.KindNotFound)
	wantKind(t, "DeleteUser of a user of another account", s.DeleteUser(ctx, acct2, "bob"), glacier.KindNotFound)
	wantKind(t, "DeleteUser in a missing account", s.DeleteUser(ctx, "999999999999", "bob"), glacier.KindNotFound)
	got, err = s.GetUser(ctx, acct, "bob")
	must(t, "GetUser after refused deletes", err)
	same(t, "bob after refused deletes", got, bob)
	keys, err = s.ListAccessKeys(ctx, "")
	must(t, "ListAccessKeys", err)
	same(t, "all keys after refused deletes", keys, []glacier.AccessKey{root, b1, root2, a3})
}
