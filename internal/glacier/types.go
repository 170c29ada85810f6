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
		ARN:       "arn:aws:iam::" + accountID + ":root",
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
