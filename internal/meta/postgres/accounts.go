package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// CreateAccount adds an account; KindConflict if the id exists.
func (db *DB) CreateAccount(ctx context.Context, a glacier.Account) error {
	return db.update(ctx, "create account", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (id, created_at) VALUES ($1, $2)`, a.ID, millis(a.CreatedAt))
		return err
	})
}

// GetAccount returns an account; KindNotFound if it does not exist.
func (db *DB) GetAccount(ctx context.Context, id string) (glacier.Account, error) {
	var a glacier.Account
	err := db.view(ctx, "get account", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, created_at FROM accounts WHERE id = $1`, id).
			Scan(&a.ID, timeCol{&a.CreatedAt})
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "account %s not found", id)
		}
		return err
	})
	return a, err
}

// ListAccounts returns all accounts ordered by id.
func (db *DB) ListAccounts(ctx context.Context) ([]glacier.Account, error) {
	var list []glacier.Account
	err := db.view(ctx, "list accounts", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var a glacier.Account
			if err := s.Scan(&a.ID, timeCol{&a.CreatedAt}); err != nil {
				return err
			}
			list = append(list, a)
			return nil
		}, `SELECT id, created_at FROM accounts ORDER BY id`)
	})
	return list, err
}

// accountExists reports whether the account has a row; FOR KEY SHARE keeps
// it there until the transaction ends.
func accountExists(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE`, id).Scan(&one)
	if errNotFound(err) {
		return glacier.Errorf(glacier.KindNotFound, "account %s not found", id)
	}
	return err
}

// CreateAccessKey adds a key; KindNotFound if the account does not exist,
// KindConflict if the key id exists.
func (db *DB) CreateAccessKey(ctx context.Context, k glacier.AccessKey) error {
	return db.update(ctx, "create access key", func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, k.AccountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO access_keys (id, secret, account_id, user_name, created_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, k.Secret, k.AccountID, k.UserName, millis(k.CreatedAt))
		return err
	})
}

const accessKeyColumns = `id, secret, account_id, user_name, created_at`

func scanAccessKey(s scanner, k *glacier.AccessKey) error {
	return s.Scan(&k.ID, &k.Secret, &k.AccountID, &k.UserName, timeCol{&k.CreatedAt})
}

// ListAccessKeys returns the keys of one account, or of all accounts when
// accountID is "", ordered by account then creation.
func (db *DB) ListAccessKeys(ctx context.Context, accountID string) ([]glacier.AccessKey, error) {
	var list []glacier.AccessKey
	err := db.view(ctx, "list access keys", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var k glacier.AccessKey
			if err := scanAccessKey(s, &k); err != nil {
				return err
			}
			list = append(list, k)
			return nil
		}, `SELECT `+accessKeyColumns+` FROM access_keys
			WHERE $1::text = '' OR account_id = $1
			ORDER BY account_id, created_at, seq`, accountID)
	})
	return list, err
}

// DeleteAccessKey removes a key; KindNotFound if it does not exist.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.update(ctx, "delete access key", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return glacier.Errorf(glacier.KindNotFound, "access key %s not found", id)
		}
		return nil
	})
}

// GetSetting returns a server setting, "" when unset.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var value string
	err := db.view(ctx, "get setting", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
		if errNotFound(err) {
			return nil
		}
		return err
	})
	return value, err
}

// PutSetting stores a server setting, replacing any previous value.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	return db.update(ctx, "put setting", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}
