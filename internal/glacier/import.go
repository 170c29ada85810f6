package glacier

import (
	"context"
	"io"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// Importing archives from another Glacier vault (permafrost import): an
// operator use case, not an API operation. The archive keeps the identity
// it had at its source — id, description, creation date, size, tree hash
// — so catalogs that stored archive ids keep working and
// glacier:ArchiveAgeInDays counts from the original date. No policy is
// consulted: the operator writes the store directly, as the other
// operator commands do.

// ImportedArchive is what the source's inventory says about an archive.
type ImportedArchive struct {
	ID          string
	Description string
	CreatedAt   time.Time
	Size        int64
	TreeHash    treehash.Hash
}

// ImportState reports whether the archive is already in the vault with the
// same content (true), absent (false), or an error: KindConflict when the
// id exists with other content or in another vault, which an import must
// never overwrite.
func (s *Service) ImportState(ctx context.Context, accountID, vault string, a ImportedArchive) (bool, error) {
	if !validArchiveID(a.ID) {
		return false, Errorf(KindInvalidParameter, "invalid archive id %q", a.ID)
	}
	got, err := s.Archives.GetArchive(ctx, a.ID)
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if got.AccountID != accountID || got.VaultName != vault {
		return false, Errorf(KindConflict, "archive id %s already exists in vault %s of account %s", a.ID, got.VaultName, got.AccountID)
	}
	if got.Size != a.Size || got.TreeHash != a.TreeHash {
		return false, Errorf(KindConflict, "archive id %s already exists in vault %s with different content (%d bytes, tree hash %s; the source has %d bytes, tree hash %s)",
			a.ID, vault, got.Size, got.TreeHash, a.Size, a.TreeHash)
	}
	return true, nil
}

// ImportArchive stores r's bytes as archive a in the vault, after checking
// them against a.Size and a.TreeHash while they stream (nothing is stored
// when they differ: KindInvalidParameter). It reports false, reading
// nothing, when the archive is already there with the same content;
// KindConflict when the id exists with other content. The vault must
// exist (KindNotFound).
func (s *Service) ImportArchive(ctx context.Context, accountID, vault string, a ImportedArchive, r io.Reader) (bool, error) {
	if len(a.Description) > MaxDescriptionLen {
		return false, Errorf(KindInvalidParameter, "archive %s: description longer than %d bytes", a.ID, MaxDescriptionLen)
	}
	if a.Size < 1 {
		return false, Errorf(KindInvalidParameter, "archive %s: size %d", a.ID, a.Size)
	}
	done, err := s.ImportState(ctx, accountID, vault, a)
	if err != nil || done {
		return false, err
	}
	if _, err := s.Vaults.GetVault(ctx, accountID, vault); err != nil {
		return false, err
	}
	key, h, err := s.storeBody(ctx, Body{R: r, Size: a.Size, TreeHash: a.TreeHash})
	if err != nil {
		return false, err
	}
	arch := Archive{
		ID:          a.ID,
		AccountID:   accountID,
		VaultName:   vault,
		CreatedAt:   a.CreatedAt,
		Size:        h.Size(),
		TreeHash:    h.TreeHash(),
		Description: a.Description,
		Segments:    []Segment{{BlobKey: key, Size: h.Size(), TreeHash: h.TreeHash(), Leaves: h.Leaves()}},
	}
	if err := s.Archives.CreateArchive(ctx, arch); err != nil {
		s.deleteBlobs(ctx, []string{key})
		// A concurrent import of the same archive may have won.
		if done, err2 := s.ImportState(ctx, accountID, vault, a); err2 == nil && done {
			return false, nil
		} else if err2 != nil {
			return false, err2
		}
		return false, err
	}
	// The archive keeps its original date, but the vault was written now
	// (inventories are retaken after writes).
	if err := s.Vaults.TouchVault(ctx, accountID, vault, s.Clock.Now()); err != nil {
		s.logger().Warn("recording the vault's last write failed", "vault", vault, "err", err)
	}
	return true, nil
}
