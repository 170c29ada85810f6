// Package glacier is the domain of permafrost: vaults, archives, multipart
// uploads and who may do what to them. It knows nothing of HTTP, JSON, SQL
// or files: the wire format lives in internal/api, storage behind the
// MetaStore and BlobStore interfaces declared here, and time behind Clock.
//
// Every operation is a Service method named after the Glacier operation.
// Each one makes the single authorization decision (authorize) before it
// touches anything, so no caller can forget it: the API layer only decodes,
// calls and encodes.
package glacier

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Limits from limits.md.
const (
	DefaultMaxVaults   = 1000
	DefaultMaxTags     = 50
	MaxArchiveSize     = 4 << 30 // single-request upload
	MaxDescriptionLen  = 1024
	MaxParts           = 10000
	MinPartSize        = 1 << 20
	MaxPartSize        = 4 << 30
	MaxTagsPerRequest  = 10
	PerArchiveOverhead = 32 << 10 // added to SizeInBytes (operations.md §4.3)
)

// Service implements the Glacier operations on top of the stores.
type Service struct {
	Meta   MetaStore
	Blobs  BlobStore
	Clock  Clock
	Region string
	Logger *slog.Logger

	// AfterBlobPut, if set, is called with the key of each blob written
	// for a later metadata commit, after the write and before the commit:
	// a failpoint for crash tests.
	AfterBlobPut func(key string)

	MaxVaults int // per account; DefaultMaxVaults when 0
	MaxTags   int // per vault; DefaultMaxTags when 0

	// JobDelays is each tier's completion delay (keys Expedited, Standard,
	// Bulk and "inventory"); missing keys take DefaultJobDelays.
	JobDelays map[string]time.Duration
	// JobRetention is how long finished jobs stay; DefaultJobRetention
	// when 0.
	JobRetention time.Duration
	// InventoryInterval is how often a written vault's inventory is
	// taken; 0 means always current (live counts, fresh inventories).
	InventoryInterval time.Duration
	// RestorePollInterval is how often a job on an archive storage class
	// checks its restores (DefaultRestorePollInterval when 0);
	// RestoreTimeout how long past its tier's delay it waits for them
	// before failing (DefaultRestoreTimeout when 0).
	RestorePollInterval time.Duration
	RestoreTimeout      time.Duration
	// FreeTierBytesPerDay is the FreeTier retrieval policy's daily
	// allowance; 0 means 5% of the account's stored bytes over 30 days.
	FreeTierBytesPerDay int64
	// ExpeditedSharedPool is how many Expedited jobs per 5 minutes an
	// account gets beyond 3 per capacity unit; negative means unlimited.
	ExpeditedSharedPool int
	// JobMessage renders a finished job as the notification message (the
	// DescribeJob JSON, a wire format the API layer owns). Without it no
	// notifications are queued.
	JobMessage func(Job) string
	// TopicAccounts lists, per SNS topic ARN, the other accounts whose
	// vaults and jobs may use the topic besides the account in its ARN.
	TopicAccounts map[string][]string
	// Wake, if set, asks the scheduler to look for due work now; Notify,
	// if set, tells the notifier that the outbox has new messages.
	Wake, Notify func()
	// SelectOutput writes the results of select jobs; nil refuses them.
	SelectOutput SelectOutput

	// UploadIdleTimeout is how long a multipart upload may stay without
	// activity before it is discarded; DefaultUploadIdleTimeout when 0.
	UploadIdleTimeout time.Duration

	policies   policyCache
	intentPool intentPool // blob keys with durable intents (intentpool.go)
	integrity  integrityStats
	lastExpiry atomic.Int64 // service-clock ns of the last idle-upload look
}

func (s *Service) maxVaults() int {
	if s.MaxVaults > 0 {
		return s.MaxVaults
	}
	return DefaultMaxVaults
}

func (s *Service) maxTags() int {
	if s.MaxTags > 0 {
		return s.MaxTags
	}
	return DefaultMaxTags
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// VaultARN returns the ARN of a vault in this server's region.
func (s *Service) VaultARN(accountID, name string) string {
	return "arn:aws:glacier:" + s.Region + ":" + accountID + ":vaults/" + name
}

// vaultNotFound is the error AWS gives for a missing vault.
func (s *Service) vaultNotFound(accountID, name string) error {
	return Errorf(KindNotFound, "Vault not found for ARN: %s", s.VaultARN(accountID, name))
}

// getVault loads a vault, turning a store miss into AWS's message.
func (s *Service) getVault(ctx context.Context, accountID, name string) (Vault, error) {
	v, err := s.Meta.GetVault(ctx, accountID, name)
	if IsNotFound(err) {
		return Vault{}, s.vaultNotFound(accountID, name)
	}
	return v, err
}

// deleteBlobs removes blobs whose metadata is already gone. Failures are
// only logged: an unreferenced blob is harmless and the start-up sweep
// removes it.
func (s *Service) deleteBlobs(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := s.Blobs.Delete(context.WithoutCancel(ctx), k); err != nil {
			s.logger().Warn("blob delete failed; the sweep will retry", "key", k, "err", err)
		}
	}
}
