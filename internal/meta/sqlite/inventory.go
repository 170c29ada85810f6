package sqlite

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// ScanArchives calls fn for every archive of the vault in order of creation
// then id, inside one read transaction (one snapshot of the vault). The
// rows stream: memory does not grow with the number of archives.
func (db *DB) ScanArchives(ctx context.Context, accountID, vault string, fn func(glacier.Archive) error) error {
	return db.view(ctx, "scan archives", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, created_at, size, tree_hash, description FROM archives
			WHERE vault_id = ? ORDER BY created_at, id`, vaultID)
		if err != nil {
			return err
		}
		defer rows.Close()
		a := glacier.Archive{AccountID: accountID, VaultName: vault}
		for rows.Next() {
			if err := rows.Scan(&a.ID, timeCol{&a.CreatedAt}, &a.Size, hashCol{&a.TreeHash}, &a.Description); err != nil {
				return err
			}
			if err := fn(a); err != nil {
				return &callerError{err}
			}
		}
		return rows.Err()
	})
}

// PutInventory records inv as the vault's last inventory and returns the
// snapshot key it replaces.
func (db *DB) PutInventory(ctx context.Context, accountID, vault string, inv glacier.Inventory) (string, error) {
	var replaced string
	err := db.update(ctx, "put inventory", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT inventory_key FROM vaults WHERE id = ?`, vaultID).Scan(&replaced); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE vaults SET inventory_key = ?, inventory_count = ?, inventory_size = ?,
			last_inventory_at = ? WHERE id = ?`, inv.Key, inv.Count, inv.Size, millis(inv.TakenAt), vaultID)
		return err
	})
	return replaced, err
}

// ClaimInventory records a claim on the vault's next inventory unless an
// unexpired one exists.
func (db *DB) ClaimInventory(ctx context.Context, accountID, vault string, now, until time.Time) (bool, error) {
	var claimed bool
	err := db.update(ctx, "claim inventory", func(tx *txn) error {
		vaultID, err := findVaultID(ctx, tx, accountID, vault)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE vaults SET inventory_claim_until = ?
			WHERE id = ? AND (inventory_claim_until IS NULL OR inventory_claim_until <= ?)`,
			until.UnixMilli(), vaultID, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

// VaultsNeedingInventory returns vaults written since their last inventory
// whose last inventory (or creation) is at or before the given time.
func (db *DB) VaultsNeedingInventory(ctx context.Context, before time.Time, limit int) ([]glacier.Vault, error) {
	var list []glacier.Vault
	err := db.view(ctx, "vaults needing inventory", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+vaultColumns+` FROM vaults
			WHERE last_write_at IS NOT NULL
			AND (last_inventory_at IS NULL OR last_write_at > last_inventory_at)
			AND coalesce(last_inventory_at, created_at) <= ?
			ORDER BY coalesce(last_inventory_at, created_at) LIMIT ?`, before.UnixMilli(), limitArg(limit))
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
