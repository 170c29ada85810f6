package glacier

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"math/big"
	"regexp"
	"time"
)

// Identity administration: accounts, their access keys and IAM-style
// users. These are the operator's use cases (the `permafrost accounts`,
// `keys` and `users` commands and the first start of a server), not
// Glacier operations: whoever can open the stores administers them, so
// they take no Caller and make no authorization decision.
//
// Errors carry a kind and a message meant for the operator, with no cause
// attached, so an error's text is its message.

// The shapes of identities (IAM's rules where IAM has one).
var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	keyIDPattern     = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	userNamePattern  = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
)

// MinSecretLength is the shortest secret access key accepted from an
// operator (generated secrets have 40 characters).
const MinSecretLength = 16

// ValidAccountID reports whether id is an account id: 12 digits.
func ValidAccountID(id string) bool { return accountIDPattern.MatchString(id) }

// ValidAccessKeyID reports whether id may name an access key: 16 to 128
// upper-case letters and digits.
func ValidAccessKeyID(id string) bool { return keyIDPattern.MatchString(id) }

// ValidUserName reports whether name is an IAM user name: 1 to 64
// letters, digits and +=,.@_-.
func ValidUserName(name string) bool { return userNamePattern.MatchString(name) }

func checkAccountID(id string) error {
	if !ValidAccountID(id) {
		return Errorf(KindInvalidParameter, "account id must be 12 digits, not %q", id)
	}
	return nil
}

func checkUserName(name string) error {
	if !ValidUserName(name) {
		return Errorf(KindInvalidParameter, "user name must be 1 to 64 characters of letters, digits and +=,.@_-, not %q", name)
	}
	return nil
}

// NewAccountID returns 12 random digits not starting with 0.
func NewAccountID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e11))
	return fmt.Sprintf("%012d", n.Int64()+1e11)
}

// NewAccessKey returns a key of accountID (of its user userName, or its
// root when userName is "") created at now, with a 20-character id (AKIA
// and 16 base32 characters) and a 40-character secret: the shapes of AWS
// keys.
func NewAccessKey(accountID, userName string, now time.Time) AccessKey {
	b := make([]byte, 10)
	rand.Read(b)
	s := make([]byte, 30)
	rand.Read(s)
	return AccessKey{
		ID:        "AKIA" + base32.StdEncoding.EncodeToString(b)[:16],
		Secret:    base64.StdEncoding.EncodeToString(s),
		AccountID: accountID,
		UserName:  userName,
		CreatedAt: now,
	}
}

// NewUserID returns an AWS-shaped unique user id (aws:userid): AIDA and 17
// base32 characters.
func NewUserID() string {
	b := make([]byte, 11)
	rand.Read(b)
	return "AIDA" + base32.StdEncoding.EncodeToString(b)[:17]
}

// KeyPrincipal returns the identity that signs with key k: its account's
// root, or its user.
func KeyPrincipal(k AccessKey) Principal {
	p := RootPrincipal(k.AccountID, k.ID)
	if k.UserName != "" {
		p.Type = PrincipalUser
		p.UserName = k.UserName
		p.ARN = UserARN(k.AccountID, k.UserName)
	}
	return p
}

// identityNow is the creation time of identities: the service clock, in
// UTC.
func (s *Service) identityNow() time.Time { return s.Clock.Now().UTC() }

func accountMissing(id string) error {
	return Errorf(KindNotFound, "account %s does not exist", id)
}

// CreateAccount creates an account with a root access key, in one
// transaction, and returns the key with its secret. A random id is chosen
// when id is "". KindInvalidParameter for a malformed id, KindConflict if
// the account exists.
func (s *Service) CreateAccount(ctx context.Context, id string) (AccessKey, error) {
	if id == "" {
		id = NewAccountID()
	} else if err := checkAccountID(id); err != nil {
		return AccessKey{}, err
	}
	now := s.identityNow()
	k := NewAccessKey(id, "", now)
	err := s.Identity.CreateAccountWithKey(ctx, Account{ID: id, CreatedAt: now}, k)
	if KindOf(err) == KindConflict {
		return AccessKey{}, Errorf(KindConflict, "account %s already exists", id)
	}
	if err != nil {
		return AccessKey{}, err
	}
	return k, nil
}

// Account returns an account; KindNotFound if it does not exist.
func (s *Service) Account(ctx context.Context, id string) (Account, error) {
	a, err := s.Identity.GetAccount(ctx, id)
	if IsNotFound(err) {
		return Account{}, accountMissing(id)
	}
	return a, err
}

// ListAccounts returns every account, ordered by id.
func (s *Service) ListAccounts(ctx context.Context) ([]Account, error) {
	return s.Identity.ListAccounts(ctx)
}

// EnsureAccount creates the account unless it exists (also when another
// process creates it meanwhile).
func (s *Service) EnsureAccount(ctx context.Context, id string) error {
	if err := checkAccountID(id); err != nil {
		return err
	}
	_, err := s.Identity.GetAccount(ctx, id)
	if IsNotFound(err) {
		err = s.Identity.CreateAccount(ctx, Account{ID: id, CreatedAt: s.identityNow()})
		if KindOf(err) == KindConflict {
			return nil // created concurrently by another process
		}
	}
	return err
}

// CreateAccessKey adds a new root access key to an existing account and
// returns it with its secret. KindNotFound if the account does not exist.
func (s *Service) CreateAccessKey(ctx context.Context, accountID string) (AccessKey, error) {
	if err := checkAccountID(accountID); err != nil {
		return AccessKey{}, err
	}
	k := NewAccessKey(accountID, "", s.identityNow())
	err := s.Identity.CreateAccessKey(ctx, k)
	if IsNotFound(err) {
		return AccessKey{}, accountMissing(accountID)
	}
	if err != nil {
		return AccessKey{}, err
	}
	return k, nil
}

// ListAccessKeys returns the keys of one account, or of all accounts when
// accountID is "", ordered by account and then creation. The secrets are
// included: callers must not show them.
func (s *Service) ListAccessKeys(ctx context.Context, accountID string) ([]AccessKey, error) {
	return s.Identity.ListAccessKeys(ctx, accountID)
}

// AccessKey returns an access key with its secret; KindNotFound if it
// does not exist.
func (s *Service) AccessKey(ctx context.Context, id string) (AccessKey, error) {
	k, err := s.Identity.GetAccessKey(ctx, id)
	if IsNotFound(err) {
		return AccessKey{}, Errorf(KindNotFound, "access key %s does not exist", id)
	}
	return k, err
}

// DeleteAccessKey removes an access key; it stops working with the next
// request. KindNotFound if it does not exist.
func (s *Service) DeleteAccessKey(ctx context.Context, id string) error {
	err := s.Identity.DeleteAccessKey(ctx, id)
	if IsNotFound(err) {
		return Errorf(KindNotFound, "access key %s does not exist", id)
	}
	return err
}

// EnsureAccessKey makes sure the access key k.ID exists, as the operator
// gave it (the first start of a server from its environment). When a key
// of that id is stored already it is kept as stored and returned with
// created false, whatever its secret and account: the caller may warn.
// Otherwise the key is created, in k.AccountID (a new random account when
// "") which is created if needed, at the service clock's now, and
// returned with created true. KindInvalidParameter for a malformed id,
// secret or account id.
func (s *Service) EnsureAccessKey(ctx context.Context, k AccessKey) (stored AccessKey, created bool, err error) {
	switch {
	case !ValidAccessKeyID(k.ID):
		return AccessKey{}, false, Errorf(KindInvalidParameter, "access key id must be 16 to 128 upper-case letters and digits")
	case len(k.Secret) < MinSecretLength:
		return AccessKey{}, false, Errorf(KindInvalidParameter, "secret access key must be at least %d characters", MinSecretLength)
	case k.UserName != "":
		return AccessKey{}, false, Errorf(KindInvalidParameter, "only root access keys can be given")
	}
	if k.AccountID != "" {
		if err := checkAccountID(k.AccountID); err != nil {
			return AccessKey{}, false, err
		}
	}
	existing, err := s.Identity.GetAccessKey(ctx, k.ID)
	if err == nil {
		return existing, false, nil
	}
	if !IsNotFound(err) {
		return AccessKey{}, false, err
	}
	if k.AccountID == "" {
		k.AccountID = NewAccountID()
	}
	if err := s.EnsureAccount(ctx, k.AccountID); err != nil {
		return AccessKey{}, false, err
	}
	k.CreatedAt = s.identityNow()
	switch err := s.Identity.CreateAccessKey(ctx, k); {
	case KindOf(err) == KindConflict: // created concurrently by another process
		existing, err := s.Identity.GetAccessKey(ctx, k.ID)
		return existing, false, err
	case err != nil:
		return AccessKey{}, false, err
	}
	return k, true, nil
}

// CreateFirstAccessKey makes a server usable on its first start: when no
// access key exists at all it creates a root key in account accountID (a
// new random account when "", created if needed) and returns it with its
// secret; otherwise it returns nil.
func (s *Service) CreateFirstAccessKey(ctx context.Context, accountID string) (*AccessKey, error) {
	if accountID != "" {
		if err := checkAccountID(accountID); err != nil {
			return nil, err
		}
	}
	keys, err := s.Identity.ListAccessKeys(ctx, "")
	if err != nil || len(keys) > 0 {
		return nil, err
	}
	if accountID == "" {
		accountID = NewAccountID()
	}
	if err := s.EnsureAccount(ctx, accountID); err != nil {
		return nil, err
	}
	k, err := s.CreateAccessKey(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateUser adds an IAM-style user with its identity policy (the IAM
// policy language without Principal; "" for none, which denies the user
// everything) and its first access key, in one transaction, and returns
// both, the key with its secret. KindInvalidParameter for a malformed
// account id, name or policy, KindNotFound if the account does not exist,
// KindConflict if the user exists.
func (s *Service) CreateUser(ctx context.Context, accountID, name, policy string) (User, AccessKey, error) {
	if err := checkAccountID(accountID); err != nil {
		return User{}, AccessKey{}, err
	}
	if err := checkUserName(name); err != nil {
		return User{}, AccessKey{}, err
	}
	if policy != "" {
		if err := ValidateIdentityPolicy(policy); err != nil {
			return User{}, AccessKey{}, err
		}
	}
	now := s.identityNow()
	u := User{AccountID: accountID, Name: name, UserID: NewUserID(), Policy: policy, CreatedAt: now}
	k := NewAccessKey(accountID, name, now)
	switch err := s.Identity.CreateUserWithKey(ctx, u, k); {
	case IsNotFound(err):
		return User{}, AccessKey{}, accountMissing(accountID)
	case KindOf(err) == KindConflict:
		return User{}, AccessKey{}, Errorf(KindConflict, "user %s already exists in account %s", name, accountID)
	case err != nil:
		return User{}, AccessKey{}, err
	}
	return u, k, nil
}

// ListUsers returns the users of an account, ordered by name.
func (s *Service) ListUsers(ctx context.Context, accountID string) ([]User, error) {
	if err := checkAccountID(accountID); err != nil {
		return nil, err
	}
	return s.Identity.ListUsers(ctx, accountID)
}

// DeleteUser removes a user and its access keys; they stop working with
// the next request. KindNotFound if the user does not exist.
func (s *Service) DeleteUser(ctx context.Context, accountID, name string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if err := checkUserName(name); err != nil {
		return err
	}
	err := s.Identity.DeleteUser(ctx, accountID, name)
	if IsNotFound(err) {
		return Errorf(KindNotFound, "user %s does not exist in account %s", name, accountID)
	}
	return err
}
