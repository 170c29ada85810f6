package glacier

import (
	"context"
	"fmt"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/treehash"
)

// InitiateMultipartUpload starts a multipart upload (operations.md §10.1).
func (s *Service) InitiateMultipartUpload(ctx context.Context, c *Caller, accountID, vault string, partSize int64, description string) (Upload, error) {
	if err := validateVaultName(vault); err != nil {
		return Upload{}, err
	}
	if !validPartSize(partSize) {
		return Upload{}, invalidPartSize(fmt.Sprint(partSize))
	}
	description, err := normalizeDescription(description)
	if err != nil {
		return Upload{}, err
	}
	if _, err := s.authorizeVault(ctx, c, "InitiateMultipartUpload", accountID, vault); err != nil {
		return Upload{}, err
	}
	u := Upload{
		ID:          newUploadID(),
		AccountID:   accountID,
		VaultName:   vault,
		Description: description,
		PartSize:    partSize,
		CreatedAt:   s.Clock.Now(),
	}
	audit.Note(ctx, "uploadId", u.ID)
	if err := s.Uploads.CreateUpload(ctx, u); err != nil {
		if IsNotFound(err) {
			return Upload{}, s.vaultNotFound(accountID, vault)
		}
		return Upload{}, err
	}
	return u, nil
}

func validPartSize(n int64) bool {
	return n >= MinPartSize && n <= MaxPartSize && n&(n-1) == 0
}

// invalidPartSize is AWS's message (limits.md §2); raw is the header value.
func invalidPartSize(raw string) error {
	return Errorf(KindInvalidParameter, "Invalid part size: %s. Part size must not be null, must be a power of two and be between 1048576 and 4294967296 bytes.", raw)
}

// InvalidPartSize lets the wire layer report an unparsable x-amz-part-size
// with the same message.
func InvalidPartSize(raw string) error { return invalidPartSize(raw) }

// openUpload loads an upload that must still accept parts.
func (s *Service) openUpload(ctx context.Context, accountID, vault, id string) (Upload, error) {
	u, err := s.Uploads.GetUpload(ctx, accountID, vault, id)
	if IsNotFound(err) || err == nil && u.State != UploadOpen {
		return Upload{}, uploadNotFound(id)
	}
	return u, err
}

func uploadNotFound(id string) error {
	return Errorf(KindNotFound, "The upload ID was not found: %s", id)
}

// UploadMultipartPart stores one part (operations.md §10.2, data-plane.md
// §4.1) covering bytes [start, start+b.Size). It returns the part's tree
// hash.
func (s *Service) UploadMultipartPart(ctx context.Context, c *Caller, accountID, vault, uploadID string, start int64, b Body) (treehash.Hash, error) {
	end := start + b.Size - 1
	check := func() error {
		if _, err := s.authorizeVault(ctx, c, "UploadMultipartPart", accountID, vault); err != nil {
			return err
		}
		u, err := s.openUpload(ctx, accountID, vault, uploadID)
		if err != nil {
			return err
		}
		switch {
		case start < 0:
			// The wire layer parses digits only; the domain refuses it too.
			return Errorf(KindInvalidParameter, "Invalid Content-Range: bytes %d-%d/*: the range must start at a multiple of the part size %d", start, end, u.PartSize)
		case b.Size < 1:
			return Errorf(KindInvalidParameter, "Invalid Content-Range: bytes %d-%d/*: a part must hold at least one byte", start, end)
		case start%u.PartSize != 0:
			return Errorf(KindInvalidParameter, "Invalid Content-Range: bytes %d-%d/*: the range must start at a multiple of the part size %d", start, end, u.PartSize)
		case b.Size > u.PartSize:
			return Errorf(KindInvalidParameter, "Invalid Content-Range: bytes %d-%d/*: the range is %d bytes, longer than the part size %d", start, end, b.Size, u.PartSize)
		case start/u.PartSize >= MaxParts:
			return Errorf(KindInvalidParameter, "This is part number %d for the current multipart upload. It exceeds the limit of %d parts.", start/u.PartSize+1, MaxParts)
		}
		return nil
	}
	if !b.Deferred {
		if err := check(); err != nil {
			return treehash.Hash{}, err
		}
	} else if b.Size < 1 {
		return treehash.Hash{}, Errorf(KindInvalidParameter, "Invalid Content-Range: bytes %d-%d/*: a part must hold at least one byte", start, end)
	}
	key, h, err := s.storeBody(ctx, b)
	if err != nil {
		return treehash.Hash{}, err
	}
	if b.Deferred {
		// The signature verified with the body: now the caller is known.
		if err := check(); err != nil {
			s.deleteBlobs(ctx, []string{key})
			return treehash.Hash{}, err
		}
	}
	p := Part{UploadID: uploadID, Start: start, Size: h.Size(), TreeHash: h.TreeHash(), Leaves: h.Leaves(), BlobKey: key, UploadedAt: s.Clock.Now()}
	replaced, err := s.Uploads.PutPart(ctx, p)
	if err != nil {
		s.deleteBlobs(ctx, []string{key})
		if k := KindOf(err); k == KindConflict || k == KindNotFound {
			return treehash.Hash{}, uploadNotFound(uploadID)
		}
		return treehash.Hash{}, err
	}
	if replaced != "" {
		s.deleteBlobs(ctx, []string{replaced})
	}
	return p.TreeHash, nil
}

// CompleteMultipartUpload assembles the parts into an archive without
// copying bytes (operations.md §10.3, data-plane.md §4.2). Repeating a
// successful Complete returns the same archive.
func (s *Service) CompleteMultipartUpload(ctx context.Context, c *Caller, accountID, vault, uploadID string, size int64, want treehash.Hash) (Archive, error) {
	if _, err := s.authorizeVault(ctx, c, "CompleteMultipartUpload", accountID, vault); err != nil {
		return Archive{}, err
	}
	u, err := s.Uploads.GetUpload(ctx, accountID, vault, uploadID)
	if IsNotFound(err) {
		return Archive{}, uploadNotFound(uploadID)
	}
	if err != nil {
		return Archive{}, err
	}
	if u.State != UploadOpen {
		return s.completedArchive(ctx, u, want)
	}
	a := Archive{
		ID:          newArchiveID(),
		AccountID:   accountID,
		VaultName:   vault,
		CreatedAt:   s.Clock.Now(),
		Size:        size,
		TreeHash:    want,
		Description: u.Description,
	}
	retained, partKeys, err := s.retainParts(ctx, accountID, vault, uploadID, a.CreatedAt)
	if err != nil {
		return Archive{}, err
	}
	audit.Note(ctx, "archiveId", a.ID)
	stored, err := s.Uploads.CompleteUpload(ctx, uploadID, a, func(u Upload, parts []Part) error {
		return checkParts(u, parts, size, want)
	})
	switch {
	case KindOf(err) == KindConflict:
		// Another Complete or an Abort won the race; answer as for a repeat.
		return s.completedArchive(ctx, stored, want)
	case IsNotFound(err):
		return Archive{}, uploadNotFound(uploadID)
	case err != nil:
		return Archive{}, err
	}
	if !retained && len(partKeys) > 0 {
		s.retainCommitted(ctx, accountID, vault, a.CreatedAt, partKeys)
	}
	return a, nil
}

// completedArchive answers a Complete on an upload that is no longer open.
func (s *Service) completedArchive(ctx context.Context, u Upload, want treehash.Hash) (Archive, error) {
	if u.State != UploadCompleted {
		return Archive{}, uploadNotFound(u.ID)
	}
	a, err := s.Archives.GetArchive(ctx, u.ArchiveID)
	if IsNotFound(err) {
		// Deleted since; the repeat still names the archive it created.
		return Archive{ID: u.ArchiveID, AccountID: u.AccountID, VaultName: u.VaultName, TreeHash: want}, nil
	}
	return a, err
}

// checkParts applies the completion rules of data-plane.md §4.2.
func checkParts(u Upload, parts []Part, size int64, want treehash.Hash) error {
	if len(parts) == 0 {
		return Errorf(KindInvalidParameter, "No parts have been uploaded for multipart upload %s", u.ID)
	}
	var pos int64
	hashes := make([]treehash.Hash, len(parts))
	for i, p := range parts {
		if p.Start != pos {
			return Errorf(KindInvalidParameter, "Missing content range: no part was uploaded for bytes starting at %d", pos)
		}
		if i < len(parts)-1 && p.Size != u.PartSize {
			return Errorf(KindInvalidParameter, "Part bytes %d-%d is %d bytes; every part but the last must be the part size %d", p.Start, p.End(), p.Size, u.PartSize)
		}
		pos = p.End() + 1
		hashes[i] = p.TreeHash
	}
	if pos != size {
		return Errorf(KindInvalidParameter, "Invalid x-amz-archive-size: %d. The uploaded parts hold %d bytes", size, pos)
	}
	if got := treehash.Reduce(hashes); got != want {
		return Errorf(KindInvalidParameter, "Invalid x-amz-sha256-tree-hash: %s", want)
	}
	return nil
}

// AbortMultipartUpload discards an upload and its parts (§10.4).
func (s *Service) AbortMultipartUpload(ctx context.Context, c *Caller, accountID, vault, uploadID string) error {
	if _, err := s.authorizeVault(ctx, c, "AbortMultipartUpload", accountID, vault); err != nil {
		return err
	}
	u, err := s.Uploads.GetUpload(ctx, accountID, vault, uploadID)
	if IsNotFound(err) {
		return uploadNotFound(uploadID)
	}
	if err != nil {
		return err
	}
	orphans, err := s.Uploads.AbortUpload(ctx, u.ID, s.Clock.Now())
	switch KindOf(err) {
	case KindConflict, KindNotFound:
		return uploadNotFound(uploadID)
	}
	if err != nil {
		return err
	}
	s.deleteBlobs(ctx, orphans)
	return nil
}

// ListParts returns the upload and up to limit of its parts starting at
// byte from, and the start of the next page (-1 at the end).
func (s *Service) ListParts(ctx context.Context, c *Caller, accountID, vault, uploadID string, from int64, limit int) (Upload, []Part, int64, error) {
	if _, err := s.authorizeVault(ctx, c, "ListParts", accountID, vault); err != nil {
		return Upload{}, nil, -1, err
	}
	u, err := s.openUpload(ctx, accountID, vault, uploadID)
	if err != nil {
		return Upload{}, nil, -1, err
	}
	parts, err := s.Uploads.ListParts(ctx, uploadID, from, limit+1)
	if err != nil {
		return Upload{}, nil, -1, err
	}
	if len(parts) > limit {
		return u, parts[:limit], parts[limit].Start, nil
	}
	return u, parts, -1, nil
}

// ListMultipartUploads returns up to limit open uploads of the vault with
// ids >= from, and the id that starts the next page ("" at the end).
func (s *Service) ListMultipartUploads(ctx context.Context, c *Caller, accountID, vault, from string, limit int) ([]Upload, string, error) {
	if _, err := s.authorizeVault(ctx, c, "ListMultipartUploads", accountID, vault); err != nil {
		return nil, "", err
	}
	us, err := s.Uploads.ListUploads(ctx, accountID, vault, from, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(us) > limit {
		return us[:limit], us[limit].ID, nil
	}
	return us, "", nil
}
