package glacier

import (
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
	"github.com/permafrost/permafrost/internal/vaultlock"
)

// Account is a tenant: a 12-digit id that owns vaults and access keys.
type Account struct {
	ID        string
	CreatedAt time.Time
}

// AccessKey is a SigV4 credential. UserName is empty for the account's root
// credentials.
type AccessKey struct {
	ID        string // 20 characters, e.g. AKIA…
	Secret    string // 40 characters
	AccountID string
	UserName  string
	CreatedAt time.Time
}

// PrincipalType says what kind of identity signed a request.
type PrincipalType string

const (
	PrincipalRoot PrincipalType = "Account"
	PrincipalUser PrincipalType = "User"
)

// Principal is the authenticated identity behind a request.
type Principal struct {
	AccountID string
	Type      PrincipalType
	UserName  string // empty for root
	ARN       string // arn:aws:iam::<acct>:root or arn:aws:iam::<acct>:user/<name>
	KeyID     string
}

// RootPrincipal returns the root identity of an account.
func RootPrincipal(accountID, keyID string) Principal {
	return Principal{
		AccountID: accountID,
		Type:      PrincipalRoot,
		ARN:       AccountRootARN(accountID),
		KeyID:     keyID,
	}
}

// Caller is the principal plus the facts of the request that authorization
// may consult (policies.md §5.2).
type Caller struct {
	Principal       Principal
	SourceIP        string
	SecureTransport bool
	UserAgent       string
	Referer         string // the Referer header, "" when not sent (aws:Referer)
	Region          string // the region of the SigV4 credential scope (aws:RequestedRegion)
}

// Vault is a container of archives. The counters are kept up to date by the
// store with every archive written or deleted.
type Vault struct {
	AccountID        string
	Name             string
	CreatedAt        time.Time
	NumberOfArchives int64
	SizeInBytes      int64     // sum of archive sizes, without overhead
	LastWriteAt      time.Time // zero when no archive was ever written or deleted
	LastInventoryAt  time.Time // zero before the first inventory
	// Inventory is the last inventory snapshot (Key "" before the first);
	// its TakenAt equals LastInventoryAt.
	Inventory Inventory
}

// Archive is an immutable stored object. Its bytes are the concatenation of
// its segments' blobs: one segment for a single-request upload, one per part
// for a multipart upload (completion moves parts, it never copies bytes).
type Archive struct {
	ID          string
	AccountID   string
	VaultName   string
	CreatedAt   time.Time
	Size        int64
	TreeHash    treehash.Hash
	Description string
	Segments    []Segment
}

// Segment is a contiguous piece of an archive stored as one blob. Every
// segment but the last is a whole number of MiB, so the archive's leaf hashes
// are the concatenation of its segments' leaves.
type Segment struct {
	BlobKey  string
	Size     int64
	TreeHash treehash.Hash
	Leaves   []treehash.Hash // per-MiB leaf hashes; may be nil when not loaded
	// Inline, when not nil, is the segment's bytes, kept in the metadata
	// store itself under BlobKey (an inline key, inline.go): CreateArchive
	// stores them in the same transaction as the archive, so one commit
	// makes both durable. Only a small archive uploaded in one request
	// has them; stores never return them (reads go through the blob
	// store, InlineBlobs).
	Inline []byte
}

// UploadState is the life stage of a multipart upload.
type UploadState int

const (
	UploadOpen UploadState = iota
	UploadCompleted
	UploadAborted
)

// Upload is a multipart upload. Completed and aborted uploads are kept for a
// while so that a repeated Complete or Abort answers as AWS does.
type Upload struct {
	ID          string
	AccountID   string
	VaultName   string
	Description string
	PartSize    int64
	CreatedAt   time.Time
	State       UploadState
	ArchiveID   string    // set when completed
	ClosedAt    time.Time // when completed or aborted
}

// Part is one received range of a multipart upload.
type Part struct {
	UploadID string
	Start    int64 // first byte; a multiple of the upload's part size
	Size     int64
	TreeHash treehash.Hash
	Leaves   []treehash.Hash
	BlobKey  string
	// UploadedAt is when the part arrived (service clock); it counts as
	// the upload's activity. Not returned by ListParts.
	UploadedAt time.Time
}

// End returns the inclusive last byte of the part.
func (p Part) End() int64 { return p.Start + p.Size - 1 }

// NotificationConfig is a vault's SNS notification configuration.
type NotificationConfig struct {
	SNSTopic string
	Events   []string
}

// User is an IAM-style identity inside an account, with its own access
// keys and an identity policy (policies.md §8). A user without a policy
// may do nothing.
type User struct {
	AccountID string
	Name      string
	UserID    string // AIDA… style unique id (aws:userid)
	Policy    string // identity policy document; "" for none
	CreatedAt time.Time
}

// LockState is the state of a vault lock (vault-lock.md §2); the state
// machine itself lives in internal/vaultlock.
type LockState = vaultlock.State

const (
	LockNone       = vaultlock.None
	LockInProgress = vaultlock.InProgress
	LockLocked     = vaultlock.Locked
)

// Lock is a vault's lock record: policy, state, lock id, creation and
// expiration (CreatedAt + 24 h).
type Lock = vaultlock.Lock

// Notification is one message in the outbox: committed together with the
// event that caused it (a job completing), delivered at least once by
// internal/notify. ID is stable across retries so receivers can drop
// duplicates.
type Notification struct {
	ID            string
	TopicARN      string
	Subject       string
	Message       string // the finished job (JobEventMessage), rendered at delivery; from earlier versions, the rendered message
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
}

// JobAction is what a job does.
type JobAction string

const (
	ArchiveRetrieval   JobAction = "ArchiveRetrieval"
	InventoryRetrieval JobAction = "InventoryRetrieval"
)

// JobStatus is a job's life stage (data-plane.md §5.3).
type JobStatus string

const (
	JobInProgress JobStatus = "InProgress"
	JobSucceeded  JobStatus = "Succeeded"
	JobFailed     JobStatus = "Failed"
)

// Job is a retrieval or inventory job. The scheduler completes it at DueAt;
// its output stays available until CompletedAt + JobRetention.
type Job struct {
	ID            string
	AccountID     string
	VaultName     string
	Action        JobAction
	Description   string
	SNSTopic      string
	Tier          string // archive jobs: Expedited, Standard or Bulk
	CreatedAt     time.Time
	DueAt         time.Time
	CompletedAt   time.Time // zero while in progress
	Status        JobStatus
	StatusMessage string

	// Archive retrieval: the archive as it was when the job started, and
	// the inclusive byte range retrieved.
	ArchiveID          string
	ArchiveSize        int64
	ArchiveTreeHash    treehash.Hash
	ArchiveDescription string
	RangeStart         int64
	RangeEnd           int64
	// RangeTreeHash is the tree hash of the range when it is tree-hash
	// aligned (data-plane.md §5.4), computed from the stored leaves.
	RangeTreeHash *treehash.Hash
	// Segments are the archive's blobs, pinned when the job succeeds so
	// the output survives a later DeleteArchive (data-plane.md §5.3);
	// loaded by GetJob, without leaves.
	Segments []Segment

	// Inventory retrieval.
	Format        string // JSON or CSV
	StartDate     time.Time
	EndDate       time.Time
	Limit         int
	Marker        string // the marker the job was started with
	NextMarker    string // set at completion when more items remain
	OutputKey     string // blob holding the output
	OutputSize    int64
	InventoryDate time.Time

	// Select jobs: the query and where its results go; nil for others.
	Select *SelectJob
}

// RetrievalBytes is how many bytes an archive job retrieves (a select
// job: the whole archive, which it reads).
func (j Job) RetrievalBytes() int64 {
	if j.Action != ArchiveRetrieval && j.Action != SelectJobAction {
		return 0
	}
	return j.RangeEnd - j.RangeStart + 1
}

// JobFilter selects jobs for ListJobs.
type JobFilter struct {
	Completed *bool
	Status    JobStatus // "" for any
}

// Inventory is a vault's last inventory snapshot: a blob in the
// inventory package's snapshot format, and what it counted.
type Inventory struct {
	Key     string
	Count   int64
	Size    int64 // sum of archive sizes, without overhead
	TakenAt time.Time
}

// ProvisionedCapacity is one purchased unit (data-plane.md §8.2–8.3).
type ProvisionedCapacity struct {
	ID        string
	AccountID string
	StartDate time.Time
	ExpiresAt time.Time
}

// RetrievalPolicy is an account's data retrieval policy (operations.md
// §12): Strategy None, FreeTier or BytesPerHour.
type RetrievalPolicy struct {
	Strategy     string
	BytesPerHour int64 // only for BytesPerHour
}
