package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// CreateUser adds a user; KindNotFound if the account does not exist,
// KindConflict if the name is taken in the account.
func (db *DB) CreateUser(ctx context.Context, u glacier.User) error {
	return db.update(ctx, "create user", func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, u.AccountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO users (account_id, name, user_id, policy, created_at) VALUES ($1, $2, $3, $4, $5)`,
			u.AccountID, u.Name, u.UserID, u.Policy, millis(u.CreatedAt))
		return err
	})
}

const userColumns = `account_id, name, user_id, policy, created_at`

func scanUser(s scanner, u *glacier.User) error {
	return s.Scan(&u.AccountID, &u.Name, &u.UserID, &u.Policy, timeCol{&u.CreatedAt})
}

// GetUser returns a user; KindNotFound if it does not exist.
func (db *DB) GetUser(ctx context.Context, accountID, name string) (glacier.User, error) {
	var u glacier.User
	err := db.view(ctx, "get user", func(tx pgx.Tx) error {
		err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = $1 AND name = $2`,
			accountID, name), &u)
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "user %s not found in account %s", name, accountID)
		}
		return err
	})
	return u, err
}

// ListUsers returns the users of an account ordered by name.
func (db *DB) ListUsers(ctx context.Context, accountID string) ([]glacier.User, error) {
	var list []glacier.User
	err := db.view(ctx, "list users", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var u glacier.User
			if err := scanUser(s, &u); err != nil {
				return err
			}
			list = append(list, u)
			return nil
		}, `SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY name`, accountID)
	})
	return list, err
}

// DeleteUser removes a user and its access keys; KindNotFound if absent.
func (db *DB) DeleteUser(ctx context.Context, accountID, name string) error {
	return db.update(ctx, "delete user", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE account_id = $1 AND name = $2`, accountID, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return glacier.Errorf(glacier.KindNotFound, "user %s not found in account %s", name, accountID)
		}
		_, err = tx.Exec(ctx, `DELETE FROM access_keys WHERE account_id = $1 AND user_name = $2`, accountID, name)
		return err
	})
}

// SetAccessPolicy creates or replaces the vault's access policy.
func (db *DB) SetAccessPolicy(ctx context.Context, accountID, vault, policy string) error {
	return db.update(ctx, "set access policy", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, keepVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO vault_access_policies (vault_id, policy) VALUES ($1, $2)
			ON CONFLICT (vault_id) DO UPDATE SET policy = excluded.policy`, id, policy)
		return err
	})
}

// GetAccessPolicy returns the vault's access policy; KindNotFound if it has
// none or there is no such vault.
func (db *DB) GetAccessPolicy(ctx context.Context, accountID, vault string) (string, error) {
	var policy string
	err := db.view(ctx, "get access policy", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		policy, err = accessPolicy(ctx, tx, id)
		if err == nil && policy == "" {
			return glacier.Errorf(glacier.KindNotFound, "vault %s has no access policy", vault)
		}
		return err
	})
	return policy, err
}

// accessPolicy returns the policy of vault row id, "" when none.
func accessPolicy(ctx context.Context, tx pgx.Tx, id int64) (string, error) {
	var policy string
	err := tx.QueryRow(ctx, `SELECT policy FROM vault_access_policies WHERE vault_id = $1`, id).Scan(&policy)
	if errNotFound(err) {
		return "", nil
	}
	return policy, err
}

// DeleteAccessPolicy removes the vault's access policy; it succeeds when
// none is set, but the vault must exist.
func (db *DB) DeleteAccessPolicy(ctx context.Context, accountID, vault string) error {
	return db.update(ctx, "delete access policy", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, keepVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM vault_access_policies WHERE vault_id = $1`, id)
		return err
	})
}

// lockRecord returns the lock row of vault row id, nil when none.
func lockRecord(ctx context.Context, tx pgx.Tx, id int64) (*glacier.Lock, error) {
	var l glacier.Lock
	var state int16
	err := tx.QueryRow(ctx, `SELECT policy, state, lock_id, created_at, expires_at FROM vault_locks WHERE vault_id = $1`, id).
		Scan(&l.Policy, &state, &l.ID, timeCol{&l.CreatedAt}, timeCol{&l.ExpiresAt})
	if errNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l.State = glacier.LockState(state)
	return &l, nil
}

// GetLock returns the vault's lock record as stored, nil when none.
func (db *DB) GetLock(ctx context.Context, accountID, vault string) (*glacier.Lock, error) {
	var l *glacier.Lock
	err := db.view(ctx, "get lock", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		l, err = lockRecord(ctx, tx, id)
		return err
	})
	return l, err
}

// UpdateLock reads the lock record, asks fn for the next one and stores it,
// all in one transaction that holds the vault row FOR NO KEY UPDATE: every
// lock change of the vault, on any node, waits for it, so the read and the
// write form a compare-and-swap. Each change is appended to vault_lock_log
// with the wall-clock time (the log is for operators, not for the test
// clock).
func (db *DB) UpdateLock(ctx context.Context, accountID, vault string, fn func(cur *glacier.Lock) (*glacier.Lock, error)) error {
	return db.update(ctx, "update lock", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, ownVault)
		if err != nil {
			return err
		}
		cur, err := lockRecord(ctx, tx, id)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return &callerError{err}
		}
		if lockEqual(cur, next) {
			return nil
		}
		if next == nil {
			if _, err := tx.Exec(ctx, `DELETE FROM vault_locks WHERE vault_id = $1`, id); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `INSERT INTO vault_locks (vault_id, policy, state, lock_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (vault_id) DO UPDATE SET policy = excluded.policy, state = excluded.state,
				lock_id = excluded.lock_id, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			id, next.Policy, int16(next.State), next.ID, next.CreatedAt.UnixMilli(), next.ExpiresAt.UnixMilli()); err != nil {
			return err
		}
		logged := next
		if logged == nil {
			logged = &glacier.Lock{ID: cur.ID, State: glacier.LockNone}
		}
		_, err = tx.Exec(ctx, `INSERT INTO vault_lock_log (at, account_id, vault, lock_id, state) VALUES ($1, $2, $3, $4, $5)`,
			time.Now().UnixMilli(), accountID, vault, logged.ID, int16(logged.State))
		return err
	})
}

// lockEqual reports whether two lock records are the same (both nil counts).
func lockEqual(a, b *glacier.Lock) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Policy == b.Policy && a.State == b.State && a.ID == b.ID &&
		a.CreatedAt.UnixMilli() == b.CreatedAt.UnixMilli() && a.ExpiresAt.UnixMilli() == b.ExpiresAt.UnixMilli()
}
