package glacier

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// Small archives are kept in the metadata store ("inline"), as MinIO keeps
// small objects in their metadata: an UploadArchive of at most
// Service.InlineArchiveMax bytes stores its bytes in the same transaction
// as the archive's row (on SQLite, the same group commit), so one durable
// commit acknowledges both — no blob file, no intent, no directory fsync.
//
// An inline blob is otherwise a blob like any other: it has a blob key
// (of its own syntax, "inline/" and 32 lowercase hex digits, so it can
// never be taken for a key of the blob store), and everything that reads,
// lists or deletes blobs reaches it through the BlobStore that
// InlineBlobs returns, which routes inline keys to the InlineStore. Its
// lifetime is a file blob's: deleting the archive drops the reference
// (and records an intent), and the blob goes when nothing references it
// (deleteBlobs, ProcessIntents, the sweep) — so a job that pinned the
// archive before the delete keeps its output.

// Limits of inlining.
const (
	// DefaultInlineArchiveMax is the default of --inline-archive-max.
	DefaultInlineArchiveMax = 64 << 10
	// MaxInlineArchiveMax is the largest threshold allowed, and the
	// largest blob an InlineStore takes.
	MaxInlineArchiveMax = 1 << 20
)

const inlineKeyPrefix = "inline/"

// newInlineKey returns a fresh inline blob key: the time in nanoseconds
// and 64 random bits. Keys made one after another sort one after another,
// so the indexes that hold them (the inline blobs' own, the segments' by
// blob key) grow at their end, and a group commit of many small uploads
// dirties a few index pages instead of one per upload.
func newInlineKey() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return inlineKeyPrefix + hex.EncodeToString(b[:])
}

// IsInlineKey reports whether key names an inline blob (one kept in the
// metadata store): it starts with "inline/".
func IsInlineKey(key string) bool { return strings.HasPrefix(key, inlineKeyPrefix) }

// ValidInlineKey reports whether key has the syntax of an inline key the
// service makes: "inline/" followed by 32 lowercase hex digits.
func ValidInlineKey(key string) bool {
	h, ok := strings.CutPrefix(key, inlineKeyPrefix)
	if !ok || len(h) != 32 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckInlineBlob refuses what no InlineStore takes: a key of another
// syntax than ValidInlineKey's, or more than MaxInlineArchiveMax bytes
// (KindInvalidParameter). Both engines check with it before they write.
func CheckInlineBlob(key string, data []byte) error {
	if !ValidInlineKey(key) {
		return Errorf(KindInvalidParameter, "invalid inline blob key %q", key)
	}
	if len(data) > MaxInlineArchiveMax {
		return Errorf(KindInvalidParameter, "inline blob %s is %d bytes, more than %d", key, len(data), MaxInlineArchiveMax)
	}
	return nil
}

// InlineBlob is an inline blob as InlineStore lists it: its key and the
// wall-clock time it was stored (what a file's modification time is to
// the sweep's grace).
type InlineBlob struct {
	Key       string
	CreatedAt time.Time
}

// InlineStore keeps inline blobs: the bytes of small archives, in the
// metadata store. CreateArchive writes them with their archive (see
// Segment.Inline); this role is what reads, lists and deletes them, and
// writes one on its own (migrate, import: a Put through InlineBlobs).
type InlineStore interface {
	// PutInlineBlob stores data under key (an inline key, ValidInlineKey)
	// at the wall-clock time at, as its own durable write. KindConflict if
	// the key exists, KindInvalidParameter for a key of another syntax or
	// more than MaxInlineArchiveMax bytes.
	PutInlineBlob(ctx context.Context, key string, data []byte, at time.Time) error
	// GetInlineBlob returns the blob's bytes; KindNotFound if absent.
	GetInlineBlob(ctx context.Context, key string) ([]byte, error)
	// DeleteInlineBlob removes the blob; a missing blob is not an error.
	DeleteInlineBlob(ctx context.Context, key string) error
	// InlineBlobPage returns up to limit inline blobs with keys after
	// after ("" for the start), in byte order of key.
	InlineBlobPage(ctx context.Context, after string, limit int) ([]InlineBlob, error)
}

// inlines reports whether an upload of size bytes is kept inline: when
// the threshold is set and the store keeps inline blobs, and the blob
// store neither enforces retention (Object Lock holds files, not rows of
// the metadata database) nor is an archive storage class (whose bytes
// are meant to live there).
func (s *Service) inlines(size int64) bool {
	return s.InlineArchiveMax > 0 && size <= s.InlineArchiveMax && size <= MaxInlineArchiveMax &&
		s.Inline != nil && s.retainer() == nil && s.restorer() == nil
}

// blobSpace is implemented by blob stores that refuse uploads while their
// disk is full (internal/blob/disk): an inline upload asks the same
// question before it writes, so a full disk refuses small uploads as it
// refuses large ones, with the same error.
type blobSpace interface {
	AdmitUpload() error
}

// admitInline returns the blob store's refusal of uploads (a full disk),
// found through wrappers; nil when it has none.
func (s *Service) admitInline() error {
	b := s.Blobs
	for {
		if a, ok := b.(blobSpace); ok {
			return a.AdmitUpload()
		}
		w, ok := b.(BlobStoreWrapper)
		if !ok {
			return nil
		}
		b = w.UnwrapBlobStore()
	}
}
