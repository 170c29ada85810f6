package glacier_test

// The identity use cases (accounts, access keys, users) against the real
// SQLite store, on a fixed clock.

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// identityNow is the fixed service time of these tests, deliberately not
// in UTC: identities are created in UTC.
var identityNow = time.Date(2031, 5, 6, 7, 8, 9, 0, time.FixedZone("UTC+2", 2*3600))

type identityClock struct{}

func (identityClock) Now() time.Time { return identityNow }

// identityService returns a service on a new SQLite store in a temporary
// directory, and the store.
func identityService(t *testing.T) (*glacier.Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &glacier.Service{Stores: db.Roles(), Clock: identityClock{}}, db
}

// wantErr fails t unless err has the given kind and text.
func wantIdentityErr(t *testing.T, what string, err error, kind glacier.Kind, text string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v %q", what, kind, text)
		return
	}
	if glacier.KindOf(err) != kind || err.Error() != text {
		t.Errorf("%s: error %v %q, want %v %q", what, glacier.KindOf(err), err, kind, text)
	}
}

var (
	keyIDShape  = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	userIDShape = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
)

// wantNewKey checks a key the service generated.
func wantNewKey(t *testing.T, what string, k glacier.AccessKey, accountID, user string) {
	t.Helper()
	if !keyIDShape.MatchString(k.ID) || len(k.Secret) != 40 || k.AccountID != accountID || k.UserName != user ||
		!k.CreatedAt.Equal(identityNow) || k.CreatedAt.Location() != time.UTC {
		t.Errorf("%s: key %+v, want an AKIA id, a 40-character secret, account %s, user %q, created %v in UTC", what, k, accountID, user, identityNow)
	}
}

func countKeys(t *testing.T, s *glacier.Service, accountID string) int {
	t.Helper()
	keys, err := s.ListAccessKeys(context.Background(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestIdentityAccounts(t *testing.T) {
	ctx := context.Background()
	s, db := identityService(t)

	k, err := s.CreateAccount(ctx, "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	wantNewKey(t, "CreateAccount", k, "111122223333", "")
	stored, err := db.GetAccessKey(ctx, k.ID)
	if err != nil || stored.Secret != k.Secret {
		t.Errorf("the returned key is not stored: %+v, %v", stored, err)
	}
	if p := glacier.KeyPrincipal(k); p.Type != glacier.PrincipalRoot || p.ARN != "arn:aws:iam::111122223333:root" || p.KeyID != k.ID {
		t.Errorf("KeyPrincipal of a root key = %+v", p)
	}

	random, err := s.CreateAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !glacier.ValidAccountID(random.AccountID) || random.AccountID[0] == '0' {
		t.Errorf("random account id %q", random.AccountID)
	}

	_, err = s.CreateAccount(ctx, "111122223333")
	wantIdentityErr(t, "CreateAccount of an existing account", err, glacier.KindConflict, "account 111122223333 already exists")
	if n := countKeys(t, s, "111122223333"); n != 1 {
		t.Errorf("the refused account added a key: %d keys", n)
	}
	for _, bad := range []string{"12345", "1111222233334", "11112222333a"} {
		_, err = s.CreateAccount(ctx, bad)
		if glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("CreateAccount(%q) = %v, want invalid parameter", bad, err)
		}
	}

	list, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID > list[1].ID {
		t.Errorf("ListAccounts = %+v, want the two accounts by id", list)
	}
	for _, a := range list {
		if !a.CreatedAt.Equal(identityNow) {
			t.Errorf("account %s created at %v, want the service clock's %v", a.ID, a.CreatedAt, identityNow)
		}
	}

	if err := s.EnsureAccount(ctx, "111122223333"); err != nil {
		t.Errorf("EnsureAccount of an existing account: %v", err)
	}
	if err := s.EnsureAccount(ctx, "444455556666"); err != nil {
		t.Errorf("EnsureAccount of a new account: %v", err)
	}
	if _, err := db.GetAccount(ctx, "444455556666"); err != nil {
		t.Errorf("EnsureAccount did not create the account: %v", err)
	}
}

func TestIdentityAccessKeys(t *testing.T) {
	ctx := context.Background()
	s, db := identityService(t)

	_, err := s.CreateAccessKey(ctx, "111122223333")
	wantIdentityErr(t, "CreateAccessKey in a missing account", err, glacier.KindNotFound, "account 111122223333 does not exist")
	_, err = s.CreateAccessKey(ctx, "1111")
	if glacier.KindOf(err) != glacier.KindInvalidParameter {
		t.Errorf("CreateAccessKey with a malformed account id = %v", err)
	}

	first, err := s.CreateAccount(ctx, "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, "444455556666"); err != nil {
		t.Fatal(err)
	}
	second, err := s.CreateAccessKey(ctx, "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	wantNewKey(t, "CreateAccessKey", second, "111122223333", "")
	if second.ID == first.ID || second.Secret == first.Secret {
		t.Errorf("two keys share an id or a secret")
	}
	if n := countKeys(t, s, "111122223333"); n != 2 {
		t.Errorf("ListAccessKeys of the account: %d keys, want 2", n)
	}
	if n := countKeys(t, s, ""); n != 3 {
		t.Errorf("ListAccessKeys of all accounts: %d keys, want 3", n)
	}

	if got, err := s.AccessKey(ctx, second.ID); err != nil || got.Secret != second.Secret {
		t.Errorf("AccessKey = %+v, %v; want the created key", got, err)
	}
	if a, err := s.Account(ctx, "444455556666"); err != nil || a.ID != "444455556666" {
		t.Errorf("Account = %+v, %v", a, err)
	}
	_, err = s.Account(ctx, "999988887777")
	wantIdentityErr(t, "Account of a missing account", err, glacier.KindNotFound, "account 999988887777 does not exist")
	if err := s.DeleteAccessKey(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetAccessKey(ctx, first.ID); !glacier.IsNotFound(err) {
		t.Errorf("the deleted key is still stored: %v", err)
	}
	_, err = s.AccessKey(ctx, first.ID)
	wantIdentityErr(t, "AccessKey of a deleted key", err, glacier.KindNotFound, "access key "+first.ID+" does not exist")
	wantIdentityErr(t, "DeleteAccessKey of a deleted key", s.DeleteAccessKey(ctx, first.ID), glacier.KindNotFound, "access key "+first.ID+" does not exist")
}

const readPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:DescribeVault","Resource":"*"}]}`

func TestIdentityUsers(t *testing.T) {
	ctx := context.Background()
	s, db := identityService(t)

	_, _, err := s.CreateUser(ctx, "111122223333", "alice", "")
	wantIdentityErr(t, "CreateUser in a missing account", err, glacier.KindNotFound, "account 111122223333 does not exist")
	if _, err := s.CreateAccount(ctx, "111122223333"); err != nil {
		t.Fatal(err)
	}

	u, k, err := s.CreateUser(ctx, "111122223333", "alice", readPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if u.AccountID != "111122223333" || u.Name != "alice" || u.Policy != readPolicy || !userIDShape.MatchString(u.UserID) || !u.CreatedAt.Equal(identityNow) {
		t.Errorf("CreateUser returned user %+v", u)
	}
	wantNewKey(t, "CreateUser", k, "111122223333", "alice")
	if got, err := db.GetUser(ctx, "111122223333", "alice"); err != nil || got.UserID != u.UserID || got.Policy != readPolicy {
		t.Errorf("stored user %+v, %v; want %+v", got, err, u)
	}
	if got, err := db.GetAccessKey(ctx, k.ID); err != nil || got.Secret != k.Secret || got.UserName != "alice" {
		t.Errorf("stored user key %+v, %v; want %+v", got, err, k)
	}
	p := glacier.KeyPrincipal(k)
	if p.Type != glacier.PrincipalUser || p.UserName != "alice" || p.ARN != "arn:aws:iam::111122223333:user/alice" || p.ARN != glacier.UserARN(u.AccountID, u.Name) {
		t.Errorf("KeyPrincipal of a user key = %+v", p)
	}

	// Refusals store nothing: no user, no key.
	before := countKeys(t, s, "")
	_, _, err = s.CreateUser(ctx, "111122223333", "alice", "")
	wantIdentityErr(t, "CreateUser of an existing user", err, glacier.KindConflict, "user alice already exists in account 111122223333")
	for _, tc := range []struct{ account, name, policy string }{
		{"111122223333", "", ""},
		{"111122223333", "bad/name", ""},
		{"111122223333", strings.Repeat("a", 65), ""},
		{"11112222", "bob", ""},
		{"111122223333", "bob", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"*"}]}`},
		{"111122223333", "bob", `not json`},
	} {
		_, _, err := s.CreateUser(ctx, tc.account, tc.name, tc.policy)
		if glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("CreateUser(%q, %q, %q) = %v, want invalid parameter", tc.account, tc.name, tc.policy, err)
		}
	}
	if n := countKeys(t, s, ""); n != before {
		t.Errorf("refused users left keys: %d, want %d", n, before)
	}
	users, err := s.ListUsers(ctx, "111122223333")
	if err != nil || len(users) != 1 || users[0].Name != "alice" {
		t.Errorf("ListUsers = %+v, %v; want only alice", users, err)
	}

	if _, _, err := s.CreateUser(ctx, "111122223333", "bob", ""); err != nil {
		t.Fatal(err)
	}
	users, err = s.ListUsers(ctx, "111122223333")
	if err != nil || len(users) != 2 || users[0].Name != "alice" || users[1].Name != "bob" {
		t.Errorf("ListUsers = %+v, %v; want alice and bob", users, err)
	}

	if err := s.DeleteUser(ctx, "111122223333", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetAccessKey(ctx, k.ID); !glacier.IsNotFound(err) {
		t.Errorf("the deleted user's key is still stored: %v", err)
	}
	wantIdentityErr(t, "DeleteUser of a deleted user", s.DeleteUser(ctx, "111122223333", "alice"), glacier.KindNotFound, "user alice does not exist in account 111122223333")
}

// twoStepStore is the identity store with its two-transaction paths
// refused: a user or account and its key must be created together
// (IdentityCreator).
type twoStepStore struct {
	glacier.IdentityStore
	t *testing.T
}

var errTwoSteps = errors.New("created in two transactions")

func (s twoStepStore) CreateUser(ctx context.Context, u glacier.User) error {
	s.t.Errorf("CreateUser(%s) called: a user and its key must be created in one transaction", u.Name)
	return errTwoSteps
}

func (s twoStepStore) CreateAccount(ctx context.Context, a glacier.Account) error {
	s.t.Errorf("CreateAccount(%s) called: an account and its key must be created in one transaction", a.ID)
	return errTwoSteps
}

func TestIdentityCreatedInOneTransaction(t *testing.T) {
	ctx := context.Background()
	s, db := identityService(t)
	s.Identity = twoStepStore{db, t}
	if _, err := s.CreateAccount(ctx, "111122223333"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateUser(ctx, "111122223333", "alice", ""); err != nil {
		t.Fatal(err)
	}
}

func TestIdentityFirstKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := identityService(t)

	first, err := s.CreateFirstAccessKey(ctx, "")
	if err != nil || first == nil {
		t.Fatalf("CreateFirstAccessKey on an empty store = %v, %v", first, err)
	}
	wantNewKey(t, "CreateFirstAccessKey", *first, first.AccountID, "")
	if again, err := s.CreateFirstAccessKey(ctx, ""); err != nil || again != nil {
		t.Errorf("CreateFirstAccessKey with a key stored = %v, %v; want none", again, err)
	}

	given := glacier.AccessKey{ID: "AKIAGIVENGIVENGIVEN1", Secret: "given-secret-0123", AccountID: "444455556666"}
	got, created, err := s.EnsureAccessKey(ctx, given)
	if err != nil || !created || got.ID != given.ID || got.Secret != given.Secret || got.AccountID != "444455556666" || !got.CreatedAt.Equal(identityNow) {
		t.Errorf("EnsureAccessKey of a new key = %+v, %v, %v", got, created, err)
	}
	other := given
	other.Secret = "another-secret-0123"
	got, created, err = s.EnsureAccessKey(ctx, other)
	if err != nil || created || got.Secret != given.Secret {
		t.Errorf("EnsureAccessKey of an existing key = %+v, %v, %v; want the stored key kept", got, created, err)
	}
	noAccount := glacier.AccessKey{ID: "AKIAGIVENGIVENGIVEN2", Secret: "given-secret-0123"}
	got, created, err = s.EnsureAccessKey(ctx, noAccount)
	if err != nil || !created || !glacier.ValidAccountID(got.AccountID) {
		t.Errorf("EnsureAccessKey without an account = %+v, %v, %v; want a new account", got, created, err)
	}
	for _, bad := range []glacier.AccessKey{
		{ID: "akialowercase00000", Secret: "given-secret-0123"},
		{ID: "AKIASHORT", Secret: "given-secret-0123"},
		{ID: "AKIAGIVENGIVENGIVEN3", Secret: "short"},
		{ID: "AKIAGIVENGIVENGIVEN3", Secret: "given-secret-0123", AccountID: "12"},
		{ID: "AKIAGIVENGIVENGIVEN3", Secret: "given-secret-0123", UserName: "alice"},
	} {
		if _, _, err := s.EnsureAccessKey(ctx, bad); glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("EnsureAccessKey(%+v) = %v, want invalid parameter", bad, err)
		}
	}
	if n := countKeys(t, s, ""); n != 3 {
		t.Errorf("%d keys stored, want 3", n)
	}
}

// TestARNs pins the ARN builders' output.
func TestARNs(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{glacier.VaultARN("eu-west-1", "111122223333", "photos"), "arn:aws:glacier:eu-west-1:111122223333:vaults/photos"},
		{(&glacier.Service{Region: "us-east-2"}).VaultARN("111122223333", "photos"), "arn:aws:glacier:us-east-2:111122223333:vaults/photos"},
		{glacier.RetrievalPolicyARN("eu-west-1", "111122223333"), "arn:aws:glacier:eu-west-1:111122223333:policies/retrieval-limit-policy"},
		{glacier.AccountRootARN("111122223333"), "arn:aws:iam::111122223333:root"},
		{glacier.RootPrincipal("111122223333", "AKIAROOTROOTROOT0001").ARN, "arn:aws:iam::111122223333:root"},
		{glacier.UserARN("111122223333", "alice"), "arn:aws:iam::111122223333:user/alice"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParseVaultARN(t *testing.T) {
	region, acct, vault, ok := glacier.ParseVaultARN(glacier.VaultARN("eu-west-1", "111122223333", "photos"))
	if !ok || region != "eu-west-1" || acct != "111122223333" || vault != "photos" {
		t.Errorf("ParseVaultARN of VaultARN = %q %q %q %v", region, acct, vault, ok)
	}
	for _, bad := range []string{
		"", "arn:aws:glacier:eu-west-1:111122223333:vaults/", "arn:aws:glacier::111122223333:vaults/v",
		"arn:aws:glacier:eu-west-1:1111:vaults/v", "arn:aws:s3:eu-west-1:111122223333:vaults/v",
		"arn:aws:glacier:eu-west-1:111122223333:policies/retrieval-limit-policy", "urn:aws:glacier:eu-west-1:111122223333:vaults/v",
	} {
		if _, _, _, ok := glacier.ParseVaultARN(bad); ok {
			t.Errorf("ParseVaultARN(%q) accepted", bad)
		}
	}
}

func TestARNMove(t *testing.T) {
	m := glacier.ARNMove{FromAccount: "111122223333", FromRegion: "us-west-2", FromVault: "src",
		ToAccount: "444455556666", ToRegion: "eu-west-1", ToVault: "dst"}
	for _, tc := range []struct{ in, want string }{
		{`"arn:aws:glacier:us-west-2:111122223333:vaults/src"`, `"arn:aws:glacier:eu-west-1:444455556666:vaults/dst"`},
		{`"arn:aws:glacier:us-west-2:111122223333:vaults/srcx"`, `"arn:aws:glacier:eu-west-1:444455556666:vaults/srcx"`},
		{`"arn:aws:glacier:us-east-1:111122223333:vaults/src"`, `"arn:aws:glacier:us-east-1:444455556666:vaults/src"`},
		{"arn:aws:sns:us-west-2:111122223333:topic", "arn:aws:sns:eu-west-1:444455556666:topic"},
		{"arn:aws-cn:iam::111122223333:root", "arn:aws-cn:iam::444455556666:root"},
		{`"arn:aws:glacier:us-west-2:999988887777:vaults/src"`, `"arn:aws:glacier:us-west-2:999988887777:vaults/src"`},
		{"no arn here", "no arn here"},
	} {
		if got := m.Rewrite(tc.in); got != tc.want {
			t.Errorf("Rewrite(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
