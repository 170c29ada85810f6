package metatest

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// testIdentityCreator checks glacier.IdentityCreator: an account or a user
// is created together with its first key, or neither is.
func testIdentityCreator(t *testing.T, s Store) {
	ctx := t.Context()
	ic := s
	keysOf := func(accountID string) []glacier.AccessKey {
		t.Helper()
		list, err := s.ListAccessKeys(ctx, accountID)
		must(t, "ListAccessKeys", err)
		return list
	}

	// An account with its root key.
	a := glacier.Account{ID: acct, CreatedAt: fine}
	root := glacier.AccessKey{ID: "AKIAROOTROOTROOT0001", Secret: "root-secret-1", AccountID: acct, CreatedAt: fine}
	must(t, "CreateAccountWithKey", ic.CreateAccountWithKey(ctx, a, root))
	got, err := s.GetAccount(ctx, acct)
	must(t, "GetAccount", err)
	same(t, "GetAccount", got, glacier.Account{ID: acct, CreatedAt: t0})
	root.CreatedAt = t0
	same(t, "keys of the new account", keysOf(acct), []glacier.AccessKey{root})

	// An existing account: nothing is stored, the new key included.
	again := glacier.AccessKey{ID: "AKIAROOTROOTROOT0002", Secret: "root-secret-2", AccountID: acct, CreatedAt: at(time.Second)}
	wantKind(t, "CreateAccountWithKey of an existing account", ic.CreateAccountWithKey(ctx, glacier.Account{ID: acct, CreatedAt: at(time.Second)}, again), glacier.KindConflict)
	same(t, "keys after the refused account", keysOf(acct), []glacier.AccessKey{root})

	// The key insert fails (its id exists): the account does not remain.
	clash := glacier.AccessKey{ID: root.ID, Secret: "other", AccountID: acct2, CreatedAt: t0}
	wantKind(t, "CreateAccountWithKey with an existing key id", ic.CreateAccountWithKey(ctx, glacier.Account{ID: acct2, CreatedAt: t0}, clash), glacier.KindConflict)
	_, err = s.GetAccount(ctx, acct2)
	wantKind(t, "GetAccount of the account whose key failed", err, glacier.KindNotFound)

	// A user with its key.
	u := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICEALICEALICE01", Policy: policyB, CreatedAt: t0}
	uk := glacier.AccessKey{ID: "AKIAALICEALICEALIC01", Secret: "alice-secret", AccountID: acct, UserName: "alice", CreatedAt: at(time.Second)}
	must(t, "CreateUserWithKey", ic.CreateUserWithKey(ctx, u, uk))
	gotU, err := s.GetUser(ctx, acct, "alice")
	must(t, "GetUser", err)
	same(t, "GetUser", gotU, u)
	gotK, err := s.GetAccessKey(ctx, uk.ID)
	must(t, "GetAccessKey of the user's key", err)
	same(t, "GetAccessKey of the user's key", gotK, uk)

	// The key insert fails (its id exists): the user does not remain.
	bob := glacier.User{AccountID: acct, Name: "bob", UserID: "AIDABOBBOBBOBBOBBOB01", CreatedAt: t0}
	bobKey := glacier.AccessKey{ID: uk.ID, Secret: "bob-secret", AccountID: acct, UserName: "bob", CreatedAt: t0}
	wantKind(t, "CreateUserWithKey with an existing key id", ic.CreateUserWithKey(ctx, bob, bobKey), glacier.KindConflict)
	_, err = s.GetUser(ctx, acct, "bob")
	wantKind(t, "GetUser of the user whose key failed", err, glacier.KindNotFound)

	// An existing user: the new key is not stored, the old user unchanged.
	dup := glacier.User{AccountID: acct, Name: "alice", UserID: "AIDAALICEALICEALICE02", CreatedAt: at(time.Hour)}
	dupKey := glacier.AccessKey{ID: "AKIAALICEALICEALIC02", Secret: "alice-secret-2", AccountID: acct, UserName: "alice", CreatedAt: at(time.Hour)}
	wantKind(t, "CreateUserWithKey of an existing user", ic.CreateUserWithKey(ctx, dup, dupKey), glacier.KindConflict)
	_, err = s.GetAccessKey(ctx, dupKey.ID)
	wantKind(t, "GetAccessKey of the refused user's key", err, glacier.KindNotFound)
	gotU, err = s.GetUser(ctx, acct, "alice")
	must(t, "GetUser", err)
	same(t, "GetUser after the refused duplicate", gotU, u)

	// A missing account: KindNotFound, nothing stored.
	carol := glacier.User{AccountID: acct2, Name: "carol", UserID: "AIDACAROLCAROLCAROL1", CreatedAt: t0}
	carolKey := glacier.AccessKey{ID: "AKIACAROLCAROLCARO01", Secret: "carol-secret", AccountID: acct2, UserName: "carol", CreatedAt: t0}
	wantKind(t, "CreateUserWithKey in a missing account", ic.CreateUserWithKey(ctx, carol, carolKey), glacier.KindNotFound)
	_, err = s.GetAccessKey(ctx, carolKey.ID)
	wantKind(t, "GetAccessKey of the key in a missing account", err, glacier.KindNotFound)

	same(t, "keys at the end", keysOf(""), []glacier.AccessKey{root, uk})
	users, err := s.ListUsers(ctx, acct)
	must(t, "ListUsers", err)
	same(t, "users at the end", users, []glacier.User{u})
}
