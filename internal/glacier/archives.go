package glacier

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
)

// UploadArchive stores a single-request archive (operations.md §9.1,
// data-plane.md §3.2). The answer is given only after the bytes are durable
// and the metadata is committed.
func (s *Service) UploadArchive(ctx context.Context, c *Caller, accountID, vault, description string, b Body) (Archive, error) {
	if err := validateVaultName(vault); err != nil {
		return Archive{}, err
	}
	description, err := normalizeDescription(description)
	if err != nil {
		return Archive{}, err
	}
	if b.Size < 1 || b.Size > MaxArchiveSize {
		return Archive{}, Errorf(KindInvalidParameter, "Invalid Content-Length: %d. An archive uploaded in one request must be between 1 and %d bytes", b.Size, int64(MaxArchiveSize))
	}
	authorize := func() error {
		_, err := s.authorizeVault(ctx, c, "UploadArchive", accountID, vault)
		return err
	}
	if !b.Deferred {
		if err := authorize(); err != nil {
			return Archive{}, err
		}
	}
	if s.inlines(b.Size) {
		return s.uploadInline(ctx, accountID, vault, description, b, authorize)
	}
	key, h, err := s.storeBody(ctx, b)
	if err != nil {
		return Archive{}, err
	}
	if b.Deferred {
		// The signature verified with the body: now the caller is known.
		if err := authorize(); err != nil {
			s.deleteBlobs(ctx, []string{key})
			return Archive{}, err
		}
	}
	a := Archive{
		ID:          newArchiveID(),
		AccountID:   accountID,
		VaultName:   vault,
		CreatedAt:   s.Clock.Now(),
		Size:        h.Size(),
		TreeHash:    h.TreeHash(),
		Description: description,
		Segments:    []Segment{{BlobKey: key, Size: h.Size(), TreeHash: h.TreeHash(), Leaves: h.Leaves()}},
	}
	retained, err := s.retain(ctx, accountID, vault, a.CreatedAt, []string{key})
	if err != nil {
		s.deleteBlobs(ctx, []string{key})
		return Archive{}, err
	}
	audit.Note(ctx, "archiveId", a.ID)
	if err := s.Archives.CreateArchive(ctx, a); err != nil {
		s.deleteBlobs(ctx, []string{key})
		if IsNotFound(err) {
			return Archive{}, s.vaultNotFound(accountID, vault)
		}
		return Archive{}, err
	}
	if !retained && s.retainer() != nil {
		s.retainCommitted(ctx, accountID, vault, a.CreatedAt, []string{key})
	}
	return a, nil
}

// DeleteArchive deletes an archive (operations.md §9.2). Deleting an archive
// that is already gone succeeds, as in AWS.
func (s *Service) DeleteArchive(ctx context.Context, c *Caller, accountID, vault, archiveID string) error {
	if err := validateVaultName(vault); err != nil {
		return err
	}
	if !validArchiveID(archiveID) {
		return Errorf(KindNotFound, "Archive not found: %q is not a valid archive ID", archiveID)
	}
	v, err := s.Vaults.GetVault(ctx, accountID, vault)
	if IsNotFound(err) {
		if err := s.authorize(ctx, s.vaultAccess(c, "DeleteArchive", accountID, vault, nil)); err != nil {
			return err
		}
		return s.vaultNotFound(accountID, vault)
	}
	if err != nil {
		return err
	}
	access := s.vaultAccess(c, "DeleteArchive", accountID, vault, &v)
	a, err := s.Archives.GetArchive(ctx, archiveID)
	switch {
	case IsNotFound(err):
		// Already deleted: still subject to authorization, then a no-op.
		return s.authorize(ctx, access)
	case err != nil:
		return err
	case a.AccountID != accountID || a.VaultName != vault:
		if err := s.authorize(ctx, access); err != nil {
			return err
		}
		return Errorf(KindInvalidParameter, "Invalid vault name: %s", s.VaultARN(accountID, vault))
	}
	age := ageInDays(a.CreatedAt, access.Now)
	access.ArchiveAge = &age
	if err := s.authorize(ctx, access); err != nil {
		return err
	}
	deleted, err := s.Archives.DeleteArchive(ctx, accountID, vault, archiveID, s.Clock.Now())
	if IsNotFound(err) {
		return nil // a concurrent delete won; the outcome is the same
	}
	if err != nil {
		return err
	}
	// A job that succeeded before the delete pinned these blobs: its output
	// stays downloadable (data-plane.md §5.3), and PurgeJobs releases them.
	var keys []string
	for _, seg := range deleted.Segments {
		pinned, err := s.Housekeeping.BlobReferenced(ctx, seg.BlobKey)
		if err != nil {
			s.logger().Warn("blob reference check failed; the sweep will remove the blob if unused", "key", seg.BlobKey, "err", err)
			continue
		}
		if !pinned {
			keys = append(keys, seg.BlobKey)
		}
	}
	s.deleteBlobs(ctx, keys)
	return nil
}

// ageInDays is the number of whole days between created and now
// (glacier:ArchiveAgeInDays).
func ageInDays(created, now time.Time) int64 {
	if now.Before(created) {
		return 0
	}
	return int64(now.Sub(created) / (24 * time.Hour))
}
