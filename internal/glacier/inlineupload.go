package glacier

import (
	"context"
	"io"
	"sync"

	"github.com/permafrost/permafrost/internal/audit"
)

// inlineBufs holds buffers for inline uploads of up to
// DefaultInlineArchiveMax bytes (larger ones, up to the configured
// threshold, get their own).
var inlineBufs = sync.Pool{New: func() any {
	b := make([]byte, DefaultInlineArchiveMax+1)
	return &b
}}

// uploadInline is UploadArchive for a body the service keeps inline
// (inlines): the body is read through the same verifier as a blob's —
// nothing unverified is ever stored — into a pooled buffer, and the
// archive is created with its bytes, in one transaction of the metadata
// store. authorize is the caller's authorization, made before the read
// (when the request is signed in its headers) or after it (Deferred: the
// signature verified with the body); a refusal or a failed verification
// stores nothing.
func (s *Service) uploadInline(ctx context.Context, accountID, vault, description string, b Body, authorize func() error) (Archive, error) {
	if err := s.admitInline(); err != nil {
		return Archive{}, err // a full disk refuses small uploads too
	}
	var buf []byte
	if b.Size <= DefaultInlineArchiveMax {
		p := inlineBufs.Get().(*[]byte)
		defer inlineBufs.Put(p)
		buf = (*p)[:b.Size+1]
	} else {
		buf = make([]byte, b.Size+1)
	}
	// One byte beyond the declared size: the verifier reads at most that
	// far, and an overlong body fails it.
	v := newVerifier(b)
	n := 0
	for {
		m, err := v.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return Archive{}, err
		}
	}
	if b.Deferred {
		// The signature verified with the body: now the caller is known.
		if err := authorize(); err != nil {
			return Archive{}, err
		}
	}
	h := v.h
	a := Archive{
		ID:          newArchiveID(),
		AccountID:   accountID,
		VaultName:   vault,
		CreatedAt:   s.Clock.Now(),
		Size:        h.Size(),
		TreeHash:    h.TreeHash(),
		Description: description,
		Segments: []Segment{{BlobKey: newInlineKey(), Size: h.Size(), TreeHash: h.TreeHash(), Leaves: h.Leaves(),
			Inline: buf[:n]}},
	}
	audit.Note(ctx, "archiveId", a.ID)
	if err := s.Archives.CreateArchive(ctx, a); err != nil {
		if IsNotFound(err) {
			return Archive{}, s.vaultNotFound(accountID, vault)
		}
		return Archive{}, err
	}
	a.Segments[0].Inline = nil // the buffer goes back to the pool
	return a, nil
}
