package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/permafrost/permafrost/internal/glacier"
)

const vaultColumns = `id, account_id, name, created_at, number_of_archives, size_in_bytes, last_write_at, last_inventory_at,
	inventory_key, inventory_count, inventory_size`

func scanVault(s interface{ Scan(...any) error }, id *int64, v *glacier.Vault) error {
	err := s.Scan(id, &v.AccountID, &v.Name, timeCol{&v.CreatedAt}, &v.NumberOfArchives, &v.SizeInBytes,
		timeCol{&v.LastWriteAt}, timeCol{&v.LastInventoryAt},
		&v.Inventory.Key, &v.Inventory.Count, &v.Inventory.Size)
	v.Inventory.TakenAt = v.LastInventoryAt
	return err
}

// findVault returns the vault's row id and the vault; KindNotFound if the
// account has no vault of that name.
func findVault(ctx context.Context, tx *txn, accountID, name string) (int64, glacier.Vault, error) {
	var id int64
	var v glacier.Vault
	err := scanVault(tx.QueryRowContext(ctx, qFindVault,
		accountID, name), &id, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, glacier.Vault{}, glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", name, accountID)
	}
	return id, v, err
}

// findVaultID is findVault for callers that only need the row id.
func findVaultID(ctx context.Context, tx *txn, accountID, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, qFindVaultID, accountID, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", name, accountID)
	}
	return id, err
}

// CreateVault inserts v unless the account has a vault of that name, which
// it then returns with created = false. A new vault beyond limit vaults in
// the account fails with KindLimitExceeded.
func (db *DB) CreateVault(ctx context.Context, v glacier.Vault, limit int) (got glacier.Vault, created bool, err error) {
	err = db.update(ctx, "create vault", func(tx *txn) error {
		_, existing, err := findVault(ctx, tx, v.AccountID, v.Name)
		if err == nil {
			got = existing
			return nil
		}
		if !glacier.IsNotFound(err) {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vaults WHERE account_id = ?`, v.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return glacier.Errorf(glacier.KindLimitExceeded, "account %s has %d vaults, the limit is %d", v.AccountID, n, limit)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vaults
			(account_id, name, created_at, number_of_archives, size_in_bytes, last_write_at, last_inventory_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			v.AccountID, v.Name, millis(v.CreatedAt), v.NumberOfArchives, v.SizeInBytes,
			millis(v.LastWriteAt), millis(v.LastInventoryAt)); err != nil {
			return err
		}
		// Read back what a later GetVault will return (times in ms, UTC).
		_, got, err = findVault(ctx, tx, v.AccountID, v.Name)
		created = err == nil
		return err
	})
	if err != nil {
		return glacier.Vault{}, false, err
	}
	return got, created, nil
}

// GetVault returns a vault; KindNotFound if it does not exist.
func (db *DB) GetVault(ctx context.Context, accountID, name string) (glacier.Vault, error) {
	// One statement, prepared, outside a transaction: it reads one
	// snapshot by itself (the authorization cache refreshes a vault's
	// counters with it after every upload).
	var id int64
	var v glacier.Vault
	err := scanVault(db.hot[qFindVault].QueryRowContext(ctx, accountID, name), &id, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return glacier.Vault{}, glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", name, accountID)
	}
	if err != nil {
		return glacier.Vault{}, classify("get vault", err)
	}
	return v, nil
}

// ListVaults returns at most limit vaults of the account whose names are >=
// from, in byte order of name.
func (db *DB) ListVaults(ctx context.Context, accountID, from string, limit int) ([]glacier.Vault, error) {
	var list []glacier.Vault
	err := db.view(ctx, "list vaults", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+vaultColumns+` FROM vaults
			WHERE account_id = ? AND name >= ? ORDER BY name LIMIT ?`, accountID, from, limitArg(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var v glacier.Vault
			if err := scanVault(rows, &id, &v); err != nil {
				return err
			}
			list = append(list, v)
		}
		return rows.Err()
	})
	return list, err
}

// DeleteVault calls check with the vault inside the transaction and, unless
// it refuses, removes the vault and everything attached to it. It returns
// the blob keys of the removed parts, and of removed archive segments should
// check have let a vault with archives go, for the caller to delete.
func (db *DB) DeleteVault(ctx context.Context, accountID, name string, check func(glacier.Vault) error) (orphans []string, err error) {
	err = db.update(ctx, "delete vault", func(tx *txn) error {
		id, v, err := findVault(ctx, tx, accountID, name)
		if err != nil {
			return err
		}
		if err := check(v); err != nil {
			return &callerError{err}
		}
		// Job blobs are orphans only if no archive or job of another vault
		// still uses them (a job pins the segments of its archive).
		orphans, err = queryStrings(ctx, tx, `
			SELECT p.blob_key FROM upload_parts p JOIN uploads u ON u.id = p.upload_id WHERE u.vault_id = ?1
			UNION ALL
			SELECT s.blob_key FROM archive_segments s JOIN archives a ON a.id = s.archive_id WHERE a.vault_id = ?1
			UNION ALL
			SELECT output_key FROM jobs WHERE vault_id = ?1 AND output_key <> ''
			UNION ALL
			SELECT inventory_key FROM vaults WHERE id = ?1 AND inventory_key <> ''
			UNION
			SELECT js.blob_key FROM job_segments js JOIN jobs j ON j.id = js.job_id WHERE j.vault_id = ?1
				AND NOT EXISTS (SELECT 1 FROM archive_segments s JOIN archives a ON a.id = s.archive_id
					WHERE s.blob_key = js.blob_key AND a.vault_id <> ?1)
				AND NOT EXISTS (SELECT 1 FROM job_segments o JOIN jobs oj ON oj.id = o.job_id
					WHERE o.blob_key = js.blob_key AND oj.vault_id <> ?1)`, id)
		if err != nil {
			return err
		}
		// Tags, notification config, uploads with their parts and archives
		// with their segments go by ON DELETE CASCADE.
		_, err = tx.ExecContext(ctx, `DELETE FROM vaults WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// queryStrings returns the single text column of a query's rows.
func queryStrings(ctx context.Context, tx *txn, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// GetTags returns the vault's tags, an empty non-nil map when none.
func (db *DB) GetTags(ctx context.Context, accountID, vault string) (map[string]string, error) {
	var tags map[string]string
	err := db.view(ctx, "get tags", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		tags, err = vaultTags(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tags, nil
}

// vaultTags returns the tags of vault row id, an empty non-nil map when none.
func vaultTags(ctx context.Context, tx *txn, id int64) (map[string]string, error) {
	tags := map[string]string{}
	rows, err := tx.QueryContext(ctx, qVaultTags, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

// AddTags sets the given tags, overwriting existing keys. If the resulting
// set would have more than limit tags it fails with KindLimitExceeded and
// the transaction rolls back.
func (db *DB) AddTags(ctx context.Context, accountID, vault string, tags map[string]string, limit int) error {
	return db.update(ctx, "add tags", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		for k, v := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO vault_tags (vault_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (vault_id, key) DO UPDATE SET value = excluded.value`, id, k, v); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vault_tags WHERE vault_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > limit {
			return glacier.Errorf(glacier.KindLimitExceeded, "vault %s would have %d tags, the limit is %d", vault, n, limit)
		}
		return nil
	})
}

// RemoveTags removes the keys that exist; absent keys are not an error.
func (db *DB) RemoveTags(ctx context.Context, accountID, vault string, keys []string) error {
	return db.update(ctx, "remove tags", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM vault_tags WHERE vault_id = ? AND key = ?`, id, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetNotificationConfig sets the vault's notification configuration,
// replacing any previous one.
func (db *DB) SetNotificationConfig(ctx context.Context, accountID, vault string, c glacier.NotificationConfig) error {
	events, err := json.Marshal(c.Events)
	if err != nil {
		return glacier.Wrap(glacier.KindInternal, err, "sqlite: encode notification events")
	}
	return db.update(ctx, "set notification config", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO vault_notifications (vault_id, sns_topic, events) VALUES (?, ?, ?)
			ON CONFLICT (vault_id) DO UPDATE SET sns_topic = excluded.sns_topic, events = excluded.events`,
			id, c.SNSTopic, string(events))
		return err
	})
}

// GetNotificationConfig returns the vault's notification configuration;
// KindNotFound if it has none or there is no such vault.
func (db *DB) GetNotificationConfig(ctx context.Context, accountID, vault string) (glacier.NotificationConfig, error) {
	var c glacier.NotificationConfig
	err := db.view(ctx, "get notification config", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		var events string
		err = tx.QueryRowContext(ctx, `SELECT sns_topic, events FROM vault_notifications WHERE vault_id = ?`, id).
			Scan(&c.SNSTopic, &events)
		if errors.Is(err, sql.ErrNoRows) {
			return glacier.Errorf(glacier.KindNotFound, "vault %s has no notification configuration", vault)
		}
		if err != nil {
			return err
		}
		return json.Unmarshal([]byte(events), &c.Events)
	})
	if err != nil {
		return glacier.NotificationConfig{}, err
	}
	return c, nil
}

// DeleteNotificationConfig removes the vault's notification configuration;
// it succeeds when none is set, but the vault must exist.
func (db *DB) DeleteNotificationConfig(ctx context.Context, accountID, vault string) error {
	return db.update(ctx, "delete notification config", func(tx *txn) error {
		id, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM vault_notifications WHERE vault_id = ?`, id)
		return err
	})
}
