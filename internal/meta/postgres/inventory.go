package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
)

// ScanArchives calls fn for every archive of the vault in order of creation
// then id, inside one read transaction (one snapshot of the vault). The
// rows stream: memory does not grow with the number of archives.
func (db *DB) ScanArchives(ctx context.Context, accountID, vault string, fn func(glacier.Archive) error) error {
	return db.view(ctx, "scan archives", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		a := glacier.Archive{AccountID: accountID, VaultName: vault}
		return scanAll(ctx, tx, func(s scanner) error {
			if err := s.Scan(&a.ID, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description); err != nil {
				return err
			}
			if err := fn(a); err != nil {
				return &callerError{err}
			}
			return nil
		}, `SELECT id, created_at, size, tree_hash, description FROM archives
			WHERE vault_id = $1 ORDER BY created_at, id`, vaultID)
	})
}

// PutInventory records inv as the vault's last inventory and returns the
// snapshot key it replaces. The vault row's lock makes the replaced key
// exact when two nodes record an inventory at once.
func (db *DB) PutInventory(ctx context.Context, accountID, vault string, inv glacier.Inventory) (string, error) {
	var replaced string
	err := db.update(ctx, "put inventory", func(tx pgx.Tx) error {
		vaultID, v, err := findVault(ctx, tx, accountID, vault, ownVault)
		if err != nil {
			return err
		}
		replaced = v.Inventory.Key
		_, err = tx.Exec(ctx, `UPDATE vaults SET inventory_key = $1, inventory_count = $2, inventory_size = $3,
			last_inventory_at = $4 WHERE id = $5`, inv.Key, inv.Count, inv.Size, millis(inv.TakenAt), vaultID)
		return err
	})
	return replaced, err
}

// ClaimInventory records a claim on the vault's next inventory unless an
// unexpired one exists; the conditional UPDATE is atomic across nodes.
func (db *DB) ClaimInventory(ctx context.Context, accountID, vault string, now, until time.Time) (bool, error) {
	var claimed bool
	err := db.update(ctx, "claim inventory", func(tx pgx.Tx) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault, noLock)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE vaults SET inventory_claim_until = $1
			WHERE id = $2 AND (inventory_claim_until IS NULL OR inventory_claim_until <= $3)`,
			until.UnixMilli(), vaultID, now.UnixMilli())
		claimed = err == nil && tag.RowsAffected() == 1
		return err
	})
	return claimed, err
}

// VaultsNeedingInventory returns vaults written since their last inventory
// whose last inventory (or creation) is at or before the given time.
func (db *DB) VaultsNeedingInventory(ctx context.Context, before time.Time, limit int) ([]glacier.Vault, error) {
	var list []glacier.Vault
	err := db.view(ctx, "vaults needing inventory", func(tx pgx.Tx) error {
		return scanAll(ctx, tx, func(s scanner) error {
			var id int64
			var v glacier.Vault
			if err := scanVault(s, &id, &v); err != nil {
				return err
			}
			list = append(list, v)
			return nil
		}, `SELECT `+vaultColumns+` FROM vaults
			WHERE last_write_at IS NOT NULL
			AND (last_inventory_at IS NULL OR last_write_at > last_inventory_at)
			AND coalesce(last_inventory_at, created_at) <= $1
			ORDER BY coalesce(last_inventory_at, created_at), id LIMIT $2`, before.UnixMilli(), limitArg(limit))
	})
	return list, err
}
