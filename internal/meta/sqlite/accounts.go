package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/permafrost/permafrost/internal/glacier"
)

// CreateAccount adds an account; KindConflict if the id exists.
func (db *DB) CreateAccount(ctx context.Context, a glacier.Account) error {
	return db.update(ctx, "create account", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, created_at) VALUES (?, ?)`, a.ID, millis(a.CreatedAt))
		return err
	})
}

// GetAccount returns an account; KindNotFound if it does not exist.
func (db *DB) GetAccount(ctx context.Context, id string) (glacier.Account, error) {
	var a glacier.Account
	err := db.view(ctx, "get account", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `SELECT id, created_at FROM accounts WHERE id = ?`, id).
			Scan(&a.ID, timeCol{&a.CreatedAt})
		if errors.Is(err, sql.ErrNoRows) {
			return glacier.Errorf(glacier.KindNotFound, "account %s not found", id)
		}
		return err
	})
	return a, err
}

// ListAccounts returns all accounts ordered by id.
func (db *DB) ListAccounts(ctx context.Context) ([]glacier.Account, error) {
	var list []glacier.Account
	err := db.view(ctx, "list accounts", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, created_at FROM accounts ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a glacier.Account
			if err := rows.Scan(&a.ID, timeCol{&a.CreatedAt}); err != nil {
				return err
			}
			list = append(list, a)
		}
		return rows.Err()
	})
	return list, err
}

// CreateAccessKey adds a key; KindNotFound if the account does not exist,
// KindConflict if the key id exists.
func (db *DB) CreateAccessKey(ctx context.Context, k glacier.AccessKey) error {
	return db.update(ctx, "create access key", func(tx *txn) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, k.AccountID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return glacier.Errorf(glacier.KindNotFound, "account %s not found", k.AccountID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_keys (id, secret, account_id, user_name, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.ID, k.Secret, k.AccountID, k.UserName, millis(k.CreatedAt))
		return err
	})
}

const accessKeyColumns = `id, secret, account_id, user_name, created_at`

func scanAccessKey(s interface{ Scan(...any) error }, k *glacier.AccessKey) error {
	return s.Scan(&k.ID, &k.Secret, &k.AccountID, &k.UserName, timeCol{&k.CreatedAt})
}

// GetAccessKey returns a key; KindNotFound if it does not exist.
func (db *DB) GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error) {
	var k glacier.AccessKey
	err := db.view(ctx, "get access key", func(tx *txn) error {
		err := scanAccessKey(tx.QueryRowContext(ctx, qGetAccessKey, id), &k)
		if errors.Is(err, sql.ErrNoRows) {
			return glacier.Errorf(glacier.KindNotFound, "access key %s not found", id)
		}
		return err
	})
	return k, err
}

// ListAccessKeys returns the keys of one account, or of all accounts when
// accountID is "", ordered by account then creation.
func (db *DB) ListAccessKeys(ctx context.Context, accountID string) ([]glacier.AccessKey, error) {
	var list []glacier.AccessKey
	err := db.view(ctx, "list access keys", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys
			WHERE ?1 = '' OR account_id = ?1
			ORDER BY account_id, created_at, rowid`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k glacier.AccessKey
			if err := scanAccessKey(rows, &k); err != nil {
				return err
			}
			list = append(list, k)
		}
		return rows.Err()
	})
	return list, err
}

// DeleteAccessKey removes a key; KindNotFound if it does not exist.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.update(ctx, "delete access key", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return glacier.Errorf(glacier.KindNotFound, "access key %s not found", id)
		}
		return nil
	})
}

// GetSetting returns a server setting, "" when unset.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var value string
	err := db.view(ctx, "get setting", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return value, err
}

// PutSetting stores a server setting, replacing any previous value.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	return db.update(ctx, "put setting", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}
