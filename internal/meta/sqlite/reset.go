package sqlite

import (
	"context"
	"strings"
)

// ResetData empties the installation except accounts, users, keys and the
// settings not named by settingPrefixes (see glacier.HousekeepingStore).
func (db *DB) ResetData(ctx context.Context, settingPrefixes []string) (orphans []string, err error) {
	err = db.update(ctx, "reset", func(tx *txn) error {
		orphans, err = queryStrings(ctx, tx, resetBlobsQuery)
		if err != nil {
			return err
		}
		// Everything attached to a vault goes by ON DELETE CASCADE.
		for _, q := range []string{
			`DELETE FROM vaults`,
			`DELETE FROM provisioned_capacity`,
			`DELETE FROM outbox`,
			`DELETE FROM import_progress`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for _, p := range settingPrefixes {
			if p == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE substr(key, 1, ?) = ?`, len([]rune(p)), p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// resetBlobsQuery lists every blob key metadata references, each once.
var resetBlobsQuery = strings.TrimSpace(`
SELECT blob_key FROM upload_parts
UNION SELECT blob_key FROM archive_segments
UNION SELECT blob_key FROM job_segments
UNION SELECT output_key FROM jobs WHERE output_key <> ''
UNION SELECT inventory_key FROM vaults WHERE inventory_key <> ''`)
