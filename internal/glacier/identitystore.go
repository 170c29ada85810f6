package glacier

import "context"

// IdentityCreator is the store ability the identity use cases need to
// create an identity together with its first access key, so that a crash
// or a failed insert never leaves an account or a user without the key its
// creator was about to be shown. It is part of IdentityStore.
type IdentityCreator interface {
	// CreateAccountWithKey adds account a and access key k (k.AccountID is
	// a.ID) in one transaction. KindConflict if the account id or the key
	// id exists; on any error neither is stored.
	CreateAccountWithKey(ctx context.Context, a Account, k AccessKey) error
	// CreateUserWithKey adds user u and access key k (k.AccountID and
	// k.UserName are u's) in one transaction. KindNotFound if the account
	// does not exist, KindConflict if the user name exists in the account
	// or the key id exists; on any error neither is stored.
	CreateUserWithKey(ctx context.Context, u User, k AccessKey) error
}
