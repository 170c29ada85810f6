package glacier

import (
	"context"
	"io"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// The metadata is kept behind the role-sized interfaces below, one per
// part of the service that uses it, each declared here by its consumer and
// held in its own field of Stores (and so of Service): no part of the
// service sees more of the store than it uses. Both engines
// (internal/meta/sqlite, internal/meta/postgres) play every role, assert
// so at compile time, and are held to one conformance suite
// (internal/meta/metatest), a section per role.
//
// The contract common to every method of every role, as go-cloud's
// blob/driver writes it for its drivers:
//
//   - Atomic: a method either applies completely or not at all; when it
//     returns an error nothing it was asked to change has changed (unless
//     its comment says otherwise).
//   - Durable: what a method reports as done (a nil error) is committed
//     durably, and every later call, on any connection, process or node
//     sharing the store, sees it.
//   - Classified errors: missing things are reported with an *Error of
//     KindNotFound; KindConflict means the state forbids the change (it
//     changed nothing); KindLimitExceeded a limit the caller passed; a
//     store that cannot reach its engine returns KindUnavailable. A store
//     never returns its driver's errors unclassified (KindInternal at
//     worst).
//   - Callbacks: the functions some methods take (check, fn) run inside
//     the method's transaction. They must be pure functions of their
//     arguments: they must not call the store, or anything that does (a
//     clock kept in the database), and a store may call them more than
//     once when it retries a transaction that lost a deadlock.
//   - Times are kept at millisecond precision in UTC.

// Stores are the metadata roles the service uses, one field per role. The
// engines return all of them from their Roles method; a wrapper (the
// authorization cache) replaces only the roles it wraps.
type Stores struct {
	Identity     IdentityStore
	Vaults       VaultStore
	Policies     PolicyStore
	Archives     ArchiveStore
	Uploads      UploadStore
	Jobs         JobStore
	Housekeeping HousekeepingStore
	// Intents keeps the blob intents; nil means the store keeps none (no
	// intents are recorded and ProcessIntents does nothing).
	Intents  IntentStore
	Settings SettingStore
	// Inline keeps the bytes of small archives in the metadata store
	// (inline.go); nil means the store keeps none (nothing is inlined).
	Inline InlineStore
}

// IdentityStore keeps who may sign requests: accounts, their access keys
// and their users. Authentication (the API layer's Credentials) and
// authorization (GetUser) read it on every request; the operator's use
// cases write it.
type IdentityStore interface {
	// CreateAccountWithKey, CreateUserWithKey: see IdentityCreator
	// (identitystore.go).
	IdentityCreator
	// CreateAccount adds an account; KindConflict if the id exists.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns the account; KindNotFound if it does not exist.
	GetAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts returns all accounts ordered by id.
	ListAccounts(ctx context.Context) ([]Account, error)
	// CreateAccessKey adds a key; KindNotFound if the account does not
	// exist, KindConflict if the key id exists.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	// GetAccessKey returns the key with its secret, account and user;
	// KindNotFound if it does not exist.
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys returns the keys of one account, or of all accounts
	// when accountID is "", ordered by account then creation.
	ListAccessKeys(ctx context.Context, accountID string) ([]AccessKey, error)
	// DeleteAccessKey removes a key; KindNotFound if it does not exist.
	DeleteAccessKey(ctx context.Context, id string) error
	// CreateUser adds a user; KindNotFound if the account does not exist,
	// KindConflict if the name is taken in the account.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user with its identity policy; KindNotFound if
	// absent.
	GetUser(ctx context.Context, accountID, name string) (User, error)
	// ListUsers returns the users of an account ordered by name.
	ListUsers(ctx context.Context, accountID string) ([]User, error)
	// DeleteUser removes a user and its access keys in one transaction;
	// KindNotFound if absent.
	DeleteUser(ctx context.Context, accountID, name string) error
}

// VaultStore keeps the vaults with what hangs on them directly: their
// counters and last write, their tags and their notification
// configuration.
type VaultStore interface {
	// CreateVault inserts v unless a vault of that name exists in the
	// account, in which case it returns the existing vault and created =
	// false (CreateVault is idempotent). A new vault beyond limit vaults in
	// the account fails with KindLimitExceeded; the count and the insert
	// are one transaction, so concurrent creations never exceed it.
	CreateVault(ctx context.Context, v Vault, limit int) (got Vault, created bool, err error)
	// GetVault returns the vault with its counters; KindNotFound if absent.
	GetVault(ctx context.Context, accountID, name string) (Vault, error)
	// ListVaults returns at most limit vaults of the account whose names are
	// >= from, in byte order of name.
	ListVaults(ctx context.Context, accountID, from string, limit int) ([]Vault, error)
	// DeleteVault calls check with the vault inside the transaction; if
	// check returns an error nothing changes and that error is returned.
	// Otherwise the vault and everything attached to it (tags,
	// notification config, access policy, lock record, uploads and their
	// parts) are removed, and the blob keys of removed parts are returned
	// for the caller to delete. KindNotFound if absent.
	DeleteVault(ctx context.Context, accountID, name string, check func(Vault) error) (orphans []string, err error)
	// TouchVault records a write to the vault at the given time unless a
	// later one is recorded (an import: the archive keeps its original
	// creation date, but the vault was written now, and its inventory is
	// retaken). KindNotFound if no vault.
	TouchVault(ctx context.Context, accountID, vault string, at time.Time) error

	// GetTags returns the vault's tags (an empty, non-nil map when none).
	// KindNotFound if no vault.
	GetTags(ctx context.Context, accountID, vault string) (map[string]string, error)
	// AddTags sets the given tags, overwriting existing keys; if the
	// resulting set would have more than limit tags it fails with
	// KindLimitExceeded and changes nothing (checked in the same
	// transaction). KindNotFound if no vault.
	AddTags(ctx context.Context, accountID, vault string, tags map[string]string, limit int) error
	// RemoveTags removes the keys that exist; absent keys are not an error.
	// KindNotFound if no vault.
	RemoveTags(ctx context.Context, accountID, vault string, keys []string) error

	// SetNotificationConfig creates or replaces the vault's notification
	// configuration. KindNotFound if no vault.
	SetNotificationConfig(ctx context.Context, accountID, vault string, c NotificationConfig) error
	// GetNotificationConfig: KindNotFound if the vault has none (or no vault).
	GetNotificationConfig(ctx context.Context, accountID, vault string) (NotificationConfig, error)
	// DeleteNotificationConfig succeeds when none is set (vault must exist:
	// KindNotFound otherwise).
	DeleteNotificationConfig(ctx context.Context, accountID, vault string) error
}

// PolicyStore keeps what authorizes requests on a vault beyond the
// caller's own policies: the vault's access policy and its lock record.
type PolicyStore interface {
	// SetAccessPolicy creates or replaces the vault's access policy.
	// KindNotFound if no vault.
	SetAccessPolicy(ctx context.Context, accountID, vault, policy string) error
	// GetAccessPolicy: KindNotFound if the vault has none (or no vault).
	GetAccessPolicy(ctx context.Context, accountID, vault string) (string, error)
	// DeleteAccessPolicy succeeds when none is set (the vault must exist:
	// KindNotFound otherwise).
	DeleteAccessPolicy(ctx context.Context, accountID, vault string) error

	// GetLock returns the vault's lock record as stored (nil when none);
	// expiry is the caller's to judge. KindNotFound if no vault.
	GetLock(ctx context.Context, accountID, vault string) (*Lock, error)
	// UpdateLock is the compare-and-swap of vault-lock.md §2.2: inside one
	// transaction that serializes all lock changes of the vault, it reads
	// the record, calls fn with it (nil when none) and stores what fn
	// returns (nil deletes the record). If fn fails nothing changes and its
	// error is returned. fn must not call the store. KindNotFound if no
	// vault.
	UpdateLock(ctx context.Context, accountID, vault string, fn func(cur *Lock) (*Lock, error)) error

	// VaultPolicies returns, in one consistent read, the vault and what
	// authorizing a request on it needs: its access policy ("" when none),
	// its lock record (nil when none) and its tags (an empty, non-nil map
	// when none). KindNotFound if no vault.
	VaultPolicies(ctx context.Context, accountID, vault string) (VaultPolicies, error)
}

// ArchiveStore keeps the archives of the vaults, with their segments (the
// blobs holding their bytes) and per-MiB leaf hashes.
type ArchiveStore interface {
	// CreateArchive inserts a with its segments (leaves included) and
	// counts it in the vault's counters, with a.CreatedAt as the vault's
	// last write. The Inline bytes of segments that carry them are stored
	// as inline blobs (InlineStore) under their BlobKey, at the wall-clock
	// time, in the same transaction. KindNotFound if the vault does not
	// exist.
	CreateArchive(ctx context.Context, a Archive) error
	// GetArchive finds an archive by id in any vault; segments are
	// returned in order without their leaves. KindNotFound if absent.
	GetArchive(ctx context.Context, id string) (Archive, error)
	// ArchiveLeaves returns the archive's per-MiB leaf hashes in order.
	// KindNotFound if absent.
	ArchiveLeaves(ctx context.Context, id string) ([]treehash.Hash, error)
	// DeleteArchive removes the archive from the vault, updates the vault's
	// counters and last write (now), and returns the removed archive with
	// its segments so the caller can delete the blobs (the store records
	// them as blob intents in the same transaction). KindNotFound if the
	// archive is not in that vault.
	DeleteArchive(ctx context.Context, accountID, vault, id string, now time.Time) (Archive, error)
	// ScanArchives calls fn for every archive of the vault, in order of
	// creation then id, without segments, from one consistent read; fn
	// must not call the store, and an error from fn stops the scan and is
	// returned. KindNotFound if no vault.
	ScanArchives(ctx context.Context, accountID, vault string, fn func(Archive) error) error
	// ArchivePage returns up to limit archives of the vault (without
	// segments) after (afterCreated, afterID) in order of creation then
	// id; with afterID "" the page starts at the beginning. A pass over
	// millions of archives thus holds one page in memory; each page is
	// its own read. KindNotFound if no vault.
	ArchivePage(ctx context.Context, accountID, vault string, afterCreated time.Time, afterID string, limit int) ([]Archive, error)
}

// UploadStore keeps the multipart uploads and their parts.
type UploadStore interface {
	// CreateUpload inserts an open upload; KindNotFound if no vault.
	CreateUpload(ctx context.Context, u Upload) error
	// GetUpload returns the upload in any state; KindNotFound if it is not
	// an upload of that vault.
	GetUpload(ctx context.Context, accountID, vault, id string) (Upload, error)
	// ListUploads returns at most limit open uploads of the vault with id
	// >= from, ordered by id.
	ListUploads(ctx context.Context, accountID, vault, from string, limit int) ([]Upload, error)
	// PutPart records p, replacing any part with the same Start, and
	// counts p.UploadedAt (when set) as the upload's latest activity; it returns
	// the blob key of the replaced part ("" if none) for the caller to
	// delete. KindConflict if the upload is not open (the caller then
	// deletes p's blob), KindNotFound if it does not exist.
	PutPart(ctx context.Context, p Part) (replaced string, err error)
	// ListParts returns at most limit parts with Start >= from, ordered by
	// Start, without leaves.
	ListParts(ctx context.Context, uploadID string, from int64, limit int) ([]Part, error)
	// CompleteUpload atomically turns an open upload into archive a: it
	// loads all parts (ordered by Start, without leaves) and calls check;
	// if check fails nothing changes and its error is returned. Otherwise
	// a is inserted with the parts as its segments (blobs and leaves move
	// over; a.Segments is ignored), the upload becomes completed with
	// ArchiveID a.ID and ClosedAt a.CreatedAt, and the vault counts the
	// write. If the upload is not open it returns the upload as stored and
	// an error of KindConflict.
	CompleteUpload(ctx context.Context, uploadID string, a Archive, check func(Upload, []Part) error) (Upload, error)
	// AbortUpload marks an open upload aborted at now, removes its parts
	// and returns their blob keys. Aborting an aborted upload returns no
	// keys and no error; a completed upload gives KindConflict.
	AbortUpload(ctx context.Context, uploadID string, now time.Time) (orphans []string, err error)
}

// JobStore keeps the jobs (retrievals, inventories, selects), their
// completion with its notifications, and the provisioned capacity and job
// counts that retrieval admission checks.
type JobStore interface {
	// CreateJobIf: see JobAdmitter (admission.go).
	JobAdmitter
	// CreateJob inserts an in-progress job; KindNotFound if no vault.
	CreateJob(ctx context.Context, j Job) error
	// GetJob returns a job of the vault with its pinned segments (without
	// leaves); KindNotFound if it is not a job of that vault.
	GetJob(ctx context.Context, accountID, vault, id string) (Job, error)
	// JobLeaves returns the leaf hashes of a job's pinned segments in
	// order (nil before the job succeeded).
	JobLeaves(ctx context.Context, id string) ([]treehash.Hash, error)
	// ListJobs returns at most limit jobs of the vault that match f, in
	// order of creation (then id), starting with job from ("" for the
	// start). KindNotFound if from is not a job of the vault.
	ListJobs(ctx context.Context, accountID, vault string, f JobFilter, from string, limit int) ([]Job, error)
	// DueJobs returns up to limit in-progress jobs of any vault with DueAt
	// at or before now, earliest first.
	DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// ClaimJob leases a due job to one caller: it moves the job's due time
	// from due to until, and reports true, only if the job is still in
	// progress and due at due (a compare-and-set that exactly one of
	// concurrent callers wins, on any node sharing the store). Other nodes
	// leave the job alone until the lease ends; renewing is claiming again
	// with the current due time.
	ClaimJob(ctx context.Context, id string, due, until time.Time) (bool, error)
	// FinishJob atomically ends an in-progress job: j carries the final
	// status and output fields, and notes are added to the outbox in the
	// same transaction. A succeeded archive retrieval pins the archive's
	// segments (and leaves) to the job; if the archive is gone nothing
	// changes and KindNotFound is returned. If the job is not in progress
	// any more (finished elsewhere) it returns KindConflict.
	FinishJob(ctx context.Context, j Job, notes []Notification) error
	// JobsSince counts the account's archive-retrieval and select jobs of a tier
	// created at or after since (only in-progress ones when inProgress),
	// and sums the bytes they retrieve.
	JobsSince(ctx context.Context, accountID, tier string, since time.Time, inProgress bool) (count int, bytes int64, err error)
	// PurchaseCapacity adds a unit unless the account already holds limit
	// units unexpired at c.StartDate (KindLimitExceeded; the count and the
	// insert are one transaction).
	PurchaseCapacity(ctx context.Context, c ProvisionedCapacity, limit int) error
	// ListCapacity returns the account's units unexpired at now, by start.
	ListCapacity(ctx context.Context, accountID string, now time.Time) ([]ProvisionedCapacity, error)
}

// HousekeepingStore is what the scheduler's background work needs: the
// idle uploads to expire, the purges of what retention no longer keeps,
// the vault inventories, the reference check of the blob sweep, and the
// reset of a test installation.
type HousekeepingStore interface {
	// IdleUploads returns up to limit open uploads whose last activity
	// (creation, or the UploadedAt of their latest part) is before the
	// given time, least recently active first.
	IdleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	// PurgeClosedUploads forgets completed and aborted uploads closed
	// before the given time; it returns how many it removed.
	PurgeClosedUploads(ctx context.Context, before time.Time) (int, error)
	// PurgeJobs removes jobs completed before the given time and returns
	// the blob keys nothing references any more (inventory outputs,
	// segments of deleted archives that only those jobs pinned).
	PurgeJobs(ctx context.Context, before time.Time) (orphans []string, err error)

	// PutInventory records inv as the vault's last inventory and returns
	// the blob key of the snapshot it replaces ("" if none). KindNotFound
	// if no vault.
	PutInventory(ctx context.Context, accountID, vault string, inv Inventory) (replaced string, err error)
	// ClaimInventory claims the right to take the vault's next inventory
	// until the given time: it reports true, and records the claim, only
	// if no unexpired claim (one whose time is after now) exists. Nodes
	// sharing a database thus take each snapshot once. KindNotFound if no
	// vault.
	ClaimInventory(ctx context.Context, accountID, vault string, now, until time.Time) (bool, error)
	// VaultsNeedingInventory returns up to limit vaults written since
	// their last inventory whose last inventory (or, before the first,
	// creation) is at or before the given time.
	VaultsNeedingInventory(ctx context.Context, before time.Time, limit int) ([]Vault, error)

	// BlobReferenced reports whether any archive segment, part, job or
	// inventory snapshot uses key.
	BlobReferenced(ctx context.Context, key string) (bool, error)

	// ResetData empties the installation for a test suite, in one
	// transaction: every vault of every account goes, and with it
	// everything attached to vaults (archives and segments, uploads and
	// parts, jobs and their pinned segments, tags, notification configs,
	// access policies, lock records whatever their state, inventories),
	// as do all provisioned capacity, the whole notification outbox and
	// the settings whose keys start with one of settingPrefixes. Accounts,
	// users, access keys, other settings and the vault-lock log stay. It
	// returns every blob key the removed rows referenced (each once), for
	// the caller to delete. It is meant only for test installations
	// (permafrost serve --dev): it removes locked vaults too.
	ResetData(ctx context.Context, settingPrefixes []string) (orphans []string, err error)
}

// SettingStore keeps server settings: state that must survive restarts
// (the retrieval policy, the test clock's offset, the region).
type SettingStore interface {
	// GetSetting returns a server setting ("" and no error when unset).
	GetSetting(ctx context.Context, key string) (string, error)
	// PutSetting creates or replaces a setting.
	PutSetting(ctx context.Context, key, value string) error
	// CreateSetting: see SettingCreator (region.go).
	SettingCreator
	// SwapSetting: see SettingSwapper (settingswap.go).
	SettingSwapper
}

// VaultPolicies is what authorization reads about a vault.
type VaultPolicies struct {
	Vault        Vault
	AccessPolicy string
	Lock         *Lock
	Tags         map[string]string
}

// BlobStore keeps archive bytes under opaque keys chosen by the service
// (characters [a-z0-9/-], no leading slash). Implementations classify their
// own errors: a missing blob is KindNotFound.
type BlobStore interface {
	// Put stores everything read from r under key. When Put returns nil the
	// bytes are durable. If reading r fails, or ctx ends, Put returns that
	// error and nothing is visible under key. Put never overwrites: keys are
	// unique by construction.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the blob's bytes [offset, offset+length); length < 0
	// means to the end. The caller closes the reader.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes the blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every stored blob with its key and modification
	// time, in no particular order; an error from fn stops the walk.
	List(ctx context.Context, fn func(key string, modTime time.Time) error) error
}

// Clock is the one source of "now" for all time-dependent behaviour.
type Clock interface {
	Now() time.Time
}
