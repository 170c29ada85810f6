package postgres

import (
	"context"
	"encoding/json"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Row lock modes a write takes on its vault row (see the package comment).
const (
	noLock    = ""
	keepVault = " FOR KEY SHARE"     // the vault must stay; other writers may go on
	ownVault  = " FOR NO KEY UPDATE" // excludes the vault's other owners and its deletion
	dropVault = " FOR UPDATE"        // DeleteVault: excludes everyone
)

// Classes of the two-key transaction advisory locks, each locking one
// account's count of something against concurrent additions.
const (
	lockVaultCount    int32 = 1
	lockCapacityCount int32 = 2
)

// lockAccount takes the transaction advisory lock of class on accountID.
// Accounts whose names hash alike merely share the lock.
func lockAccount(ctx context.Context, tx pgx.Tx, class int32, accountID string) error {
	h := fnv.New32a()
	h.Write([]byte(accountID))
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, class, int32(h.Sum32()))
	return err
}

const vaultColumns = `id, account_id, name, created_at, number_of_archives, size_in_bytes, last_write_at, last_inventory_at,
	inventory_key, inventory_count, inventory_size`

func scanVault(s scanner, id *int64, v *glacier.Vault) error {
	err := s.Scan(id, &v.AccountID, &v.Name, timeCol{&v.CreatedAt}, &v.NumberOfArchives, &v.SizeInBytes,
		timeCol{&v.LastWriteAt}, timeCol{&v.LastInventoryAt},
		&v.Inventory.Key, &v.Inventory.Count, &v.Inventory.Size)
	v.Inventory.TakenAt = v.LastInventoryAt
	return err
}

// findVault returns the vault's row id and the vault, locking its row in
// mode; KindNotFound if the account has no vault of that name.
func findVault(ctx context.Context, tx pgx.Tx, accountID, name, mode string) (int64, glacier.Vault, error) {
	var id int64
	var v glacier.Vault
	err := scanVault(tx.QueryRow(ctx, `SELECT `+vaultColumns+` FROM vaults WHERE account_id = $1 AND name = $2`+mode,
		accountID, name), &id, &v)
	if errNotFound(err) {
		return 0, glacier.Vault{}, glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", name, accountID)
	}
	return id, v, err
}

// findVaultID is findVault for callers that only need the row id.
func findVaultID(ctx context.Context, tx pgx.Tx, accountID, name, mode string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM vaults WHERE account_id = $1 AND name = $2`+mode, accountID, name).Scan(&id)
	if errNotFound(err) {
		return 0, glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", name, accountID)
	}
	return id, err
}

// lockVaultRow locks the vault row id in mode; KindNotFound if it is gone.
func lockVaultRow(ctx context.Context, tx pgx.Tx, id int64, mode string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM vaults WHERE id = $1`+mode, id).Scan(&one)
	if errNotFound(err) {
		return glacier.Errorf(glacier.KindNotFound, "vault not found")
	}
	return err
}

// CreateVault inserts v unless the account has a vault of that name, which
// it then returns with created = false. A new vault beyond limit vaults in
// the account fails with KindLimitExceeded. The account's advisory lock
// serializes the count and the insert with other creations in the account.
func (db *DB) CreateVault(ctx context.Context, v glacier.Vault, limit int) (got glacier.Vault, created bool, err error) {
	err = db.update(ctx, "create vault", func(tx pgx.Tx) error {
		got, created = glacier.Vault{}, false
		if err := lockAccount(ctx, tx, lockVaultCount, v.AccountID); err != nil {
			return err
		}
		_, existing, err := findVault(ctx, tx, v.AccountID, v.Name, noLock)
		if err == nil {
			got = existing
			return nil
		}
		if !glacier.IsNotFound(err) {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM vaults WHERE account_id = $1`, v.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return glacier.Errorf(glacier.KindLimitExceeded, "account %s has %d vaults, the limit is %d", v.AccountID, n, limit)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vaults
			(account_id, name, created_at, number_of_archives, size_in_bytes, last_write_at, last_inventory_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			v.AccountID, v.Name, millis(v.CreatedAt), v.NumberOfArchives, v.SizeInBytes,
			millis(v.LastWriteAt), millis(v.LastInventoryAt)); err != nil {
			return err
		}
		// Read back what a later GetVault will return (times in ms, UTC).
		_, got, err = findVault(ctx, tx, v.AccountID, v.Name, noLock)
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
	var v glacier.Vault
	err := db.view(ctx, "get vault", func(tx pgx.Tx) (err error) {
		_, v, err = findVault(ctx, tx, accountID, name, noLock)
		return err
	})
	return v, err
}

// ListVaults returns at most limit vaults of the account whose names are >=
// from, in byte order of name.
func (db *DB) ListVaults(ctx context.Context, accountID, from string, limit int) ([]glacier.Vault, error) {
	var list []glacier.Vault
	err := db.view(ctx, "list vaults", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var id int64
			var v glacier.Vault
			if err := scanVault(s, &id, &v); err != nil {
				return err
			}
			list = append(list, v)
			return nil
		}, `SELECT `+vaultColumns+` FROM vaults
			WHERE account_id = $1 AND name >= $2 ORDER BY name LIMIT $3`, accountID, from, limitArg(limit))
	})
	return list, err
}

// DeleteVault locks the vault row FOR UPDATE, calls check with the vault
// and, unless it refuses, removes the vault and everything attached to it.
// It returns the blob keys that nothing references any more (parts,
// segments should check have let a vault with archives go, job outputs and
// pins, the inventory snapshot) for the caller to delete.
func (db *DB) DeleteVault(ctx context.Context, accountID, name string, check func(glacier.Vault) error) (orphans []string, err error) {
	err = db.update(ctx, "delete vault", func(tx pgx.Tx) error {
		id, v, err := findVault(ctx, tx, accountID, name, dropVault)
		if err != nil {
			return err
		}
		if err := check(v); err != nil {
			return &callerError{err}
		}
		// Job blobs are orphans only if no archive or job of another vault
		// still uses them (a job pins the segments of its archive).
		orphans, err = queryStrings(ctx, tx, `
			SELECT p.blob_key FROM upload_parts p JOIN uploads u ON u.id = p.upload_id WHERE u.vault_id = $1
			UNION ALL
			SELECT s.blob_key FROM archive_segments s JOIN archives a ON a.id = s.archive_id WHERE a.vault_id = $1
			UNION ALL
			SELECT output_key FROM jobs WHERE vault_id = $1 AND output_key <> ''
			UNION ALL
			SELECT inventory_key FROM vaults WHERE id = $1 AND inventory_key <> ''
			UNION
			SELECT js.blob_key FROM job_segments js JOIN jobs j ON j.id = js.job_id WHERE j.vault_id = $1
				AND NOT EXISTS (SELECT 1 FROM archive_segments s JOIN archives a ON a.id = s.archive_id
					WHERE s.blob_key = js.blob_key AND a.vault_id <> $1)
				AND NOT EXISTS (SELECT 1 FROM job_segments o JOIN jobs oj ON oj.id = o.job_id
					WHERE o.blob_key = js.blob_key AND oj.vault_id <> $1)`, id)
		if err != nil {
			return err
		}
		// Tags, notification config, policies, lock, uploads with their
		// parts, archives with their segments and jobs with their pins go
		// by ON DELETE CASCADE.
		_, err = tx.Exec(ctx, `DELETE FROM vaults WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// GetTags returns the vault's tags, an empty non-nil map when none.
func (db *DB) GetTags(ctx context.Context, accountID, vault string) (map[string]string, error) {
	var tags map[string]string
	err := db.view(ctx, "get tags", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, noLock)
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
func vaultTags(ctx context.Context, tx pgx.Tx, id int64) (map[string]string, error) {
	tags := map[string]string{}
	err := scanAll(ctx, tx, func(s scanner) error {
		var k, v string
		if err := s.Scan(&k, &v); err != nil {
			return err
		}
		tags[k] = v
		return nil
	}, `SELECT key, value FROM vault_tags WHERE vault_id = $1`, id)
	return tags, err
}

// AddTags sets the given tags, overwriting existing keys. If the resulting
// set would have more than limit tags it fails with KindLimitExceeded and
// the transaction rolls back. The vault row's lock serializes it with the
// vault's other tag changes, so the count is exact.
func (db *DB) AddTags(ctx context.Context, accountID, vault string, tags map[string]string, limit int) error {
	keys := make([]string, 0, len(tags))
	values := make([]string, 0, len(tags))
	for k, v := range tags {
		keys, values = append(keys, k), append(values, v)
	}
	return db.update(ctx, "add tags", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, ownVault)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vault_tags (vault_id, key, value)
			SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t (k, v)
			ON CONFLICT (vault_id, key) DO UPDATE SET value = excluded.value`, id, keys, values); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM vault_tags WHERE vault_id = $1`, id).Scan(&n); err != nil {
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
	if keys == nil {
		keys = []string{}
	}
	return db.update(ctx, "remove tags", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, ownVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM vault_tags WHERE vault_id = $1 AND key = ANY ($2::text[])`, id, keys)
		return err
	})
}

// SetNotificationConfig sets the vault's notification configuration,
// replacing any previous one.
func (db *DB) SetNotificationConfig(ctx context.Context, accountID, vault string, c glacier.NotificationConfig) error {
	events, err := json.Marshal(c.Events)
	if err != nil {
		return glacier.Wrap(glacier.KindInternal, err, "postgres: encode notification events")
	}
	return db.update(ctx, "set notification config", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, keepVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO vault_notifications (vault_id, sns_topic, events) VALUES ($1, $2, $3)
			ON CONFLICT (vault_id) DO UPDATE SET sns_topic = excluded.sns_topic, events = excluded.events`,
			id, c.SNSTopic, string(events))
		return err
	})
}

// GetNotificationConfig returns the vault's notification configuration;
// KindNotFound if it has none or there is no such vault.
func (db *DB) GetNotificationConfig(ctx context.Context, accountID, vault string) (glacier.NotificationConfig, error) {
	var c glacier.NotificationConfig
	err := db.view(ctx, "get notification config", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		var events string
		err = tx.QueryRow(ctx, `SELECT sns_topic, events FROM vault_notifications WHERE vault_id = $1`, id).
			Scan(&c.SNSTopic, &events)
		if errNotFound(err) {
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
	return db.update(ctx, "delete notification config", func(tx pgx.Tx) error {
		id, err := findVaultID(ctx, tx, accountID, vault, keepVault)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM vault_notifications WHERE vault_id = $1`, id)
		return err
	})
}
