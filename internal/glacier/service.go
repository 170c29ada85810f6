// Package glacier is the domain of permafrost: vaults, archives, multipart
// uploads and who may do what to them. It knows nothing of HTTP, JSON, SQL
// or files: the wire format lives in internal/api, storage behind the
// role-sized store interfaces and BlobStore declared here (store.go), and time behind Clock.
//
// Every operation is a Service method named after the Glacier operation.
// Each one makes the single authorization decision (authorize) before it
// touches anything, so no caller can forget it: the API layer only decodes,
// calls and encodes.
package glacier

import (
	"context"
	"log/slog"
	"sync"
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

// Waker is a background worker the service tells that it has work
// (internal/jobs.Scheduler, internal/notify.Deliverer). Wake never blocks.
type Waker interface {
	Wake()
}

// Service implements the Glacier operations on top of the stores.
type Service struct {
	// Stores holds the metadata store, one field per role (s.Vaults,
	// s.Archives, ...): each operation uses only the roles it needs.
	Stores
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
	// TopicAccounts lists, per SNS topic ARN, the other accounts whose
	// vaults and jobs may use the topic besides the account in its ARN.
	TopicAccounts map[string][]string
	// Scheduler, if set, is woken when work may be due now (a job was
	// initiated); Notifier, if set, when the outbox has new messages.
	Scheduler, Notifier Waker
	// SelectOutput writes the results of select jobs; nil refuses them.
	SelectOutput SelectOutput

	// UploadIdleTimeout is how long a multipart upload may stay without
	// activity before it is discarded; DefaultUploadIdleTimeout when 0.
	UploadIdleTimeout time.Duration

	// InlineArchiveMax is the largest archive uploaded in one request
	// whose bytes are kept in the metadata store, with its row (inline.go);
	// 0 keeps every archive in the blob store. Blobs must then be
	// InlineBlobs over the store's Inline role.
	InlineArchiveMax int64

	policies   policyCache
	intentPool intentPool // blob keys with durable intents (intentpool.go)
	integrity  integrityStats
	finishing  sync.Map // jobs this process is producing now (jobfinishing.go)
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
	return VaultARN(s.Region, accountID, name)
}

// vaultNotFound is the error AWS gives for a missing vault.
func (s *Service) vaultNotFound(accountID, name string) error {
	return Errorf(KindNotFound, "Vault not found for ARN: %s", s.VaultARN(accountID, name))
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
