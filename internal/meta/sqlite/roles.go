package sqlite

import "github.com/permafrost/permafrost/internal/glacier"

// The store plays every role the service declares (internal/glacier/store.go).
var (
	_ glacier.IdentityStore     = (*DB)(nil)
	_ glacier.VaultStore        = (*DB)(nil)
	_ glacier.PolicyStore       = (*DB)(nil)
	_ glacier.ArchiveStore      = (*DB)(nil)
	_ glacier.UploadStore       = (*DB)(nil)
	_ glacier.JobStore          = (*DB)(nil)
	_ glacier.HousekeepingStore = (*DB)(nil)
	_ glacier.IntentStore       = (*DB)(nil)
	_ glacier.SettingStore      = (*DB)(nil)
)

// Roles returns the store in every role of the service, for
// glacier.Service.Stores.
func (db *DB) Roles() glacier.Stores {
	return glacier.Stores{
		Identity:     db,
		Vaults:       db,
		Policies:     db,
		Archives:     db,
		Uploads:      db,
		Jobs:         db,
		Housekeeping: db,
		Intents:      db,
		Settings:     db,
		Inline:       db,
	}
}
