package sqlite

import (
	"context"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.IdentityCreator = (*DB)(nil)

const (
	qInsertAccount   = `INSERT INTO accounts (id, created_at) VALUES (?, ?)`
	qInsertUser      = `INSERT INTO users (account_id, name, user_id, policy, created_at) VALUES (?, ?, ?, ?, ?)`
	qInsertAccessKey = `INSERT INTO access_keys (id, secret, account_id, user_name, created_at) VALUES (?, ?, ?, ?, ?)`
)

// CreateAccountWithKey adds an account and its root key in one
// transaction; KindConflict if the account or the key id exists.
func (db *DB) CreateAccountWithKey(ctx context.Context, a glacier.Account, k glacier.AccessKey) error {
	return db.update(ctx, "create account with key", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, qInsertAccount, a.ID, millis(a.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qInsertAccessKey, k.ID, k.Secret, a.ID, k.UserName, millis(k.CreatedAt))
		return err
	})
}

// CreateUserWithKey adds a user and its first key in one transaction;
// KindNotFound if the account does not exist, KindConflict if the user
// or the key id exists.
func (db *DB) CreateUserWithKey(ctx context.Context, u glacier.User, k glacier.AccessKey) error {
	return db.update(ctx, "create user with key", func(tx *txn) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, u.AccountID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return glacier.Errorf(glacier.KindNotFound, "account %s not found", u.AccountID)
		}
		if _, err := tx.ExecContext(ctx, qInsertUser, u.AccountID, u.Name, u.UserID, u.Policy, millis(u.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qInsertAccessKey, k.ID, k.Secret, u.AccountID, u.Name, millis(k.CreatedAt))
		return err
	})
}
