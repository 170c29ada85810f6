package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.IdentityCreator = (*DB)(nil)

const (
	qInsertAccount   = `INSERT INTO accounts (id, created_at) VALUES ($1, $2)`
	qInsertUser      = `INSERT INTO users (account_id, name, user_id, policy, created_at) VALUES ($1, $2, $3, $4, $5)`
	qInsertAccessKey = `INSERT INTO access_keys (id, secret, account_id, user_name, created_at) VALUES ($1, $2, $3, $4, $5)`
)

// CreateAccountWithKey adds an account and its root key in one
// transaction; KindConflict if the account or the key id exists.
func (db *DB) CreateAccountWithKey(ctx context.Context, a glacier.Account, k glacier.AccessKey) error {
	return db.update(ctx, "create account with key", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, qInsertAccount, a.ID, millis(a.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qInsertAccessKey, k.ID, k.Secret, a.ID, k.UserName, millis(k.CreatedAt))
		return err
	})
}

// CreateUserWithKey adds a user and its first key in one transaction;
// KindNotFound if the account does not exist, KindConflict if the user
// or the key id exists.
func (db *DB) CreateUserWithKey(ctx context.Context, u glacier.User, k glacier.AccessKey) error {
	return db.update(ctx, "create user with key", func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, u.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, qInsertUser, u.AccountID, u.Name, u.UserID, u.Policy, millis(u.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qInsertAccessKey, k.ID, k.Secret, u.AccountID, u.Name, millis(k.CreatedAt))
		return err
	})
}
