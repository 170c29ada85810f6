package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// defaultBodyIdle is how long an upload body may stall by default.
const defaultBodyIdle = 60 * time.Second

func (s *Server) bodyIdle() time.Duration {
	if s.BodyIdleTimeout > 0 {
		return s.BodyIdleTimeout
	}
	return defaultBodyIdle
}

// uploadBody reads the headers every upload carries and wraps the body.
func (s *Server) uploadBody(w http.ResponseWriter, r *http.Request, c *call, size int64) (glacier.Body, error) {
	tree, err := requiredHash(r, "x-amz-sha256-tree-hash")
	if err != nil {
		return glacier.Body{}, err
	}
	b := glacier.Body{R: newBodyReader(w, r, s.bodyIdle()), Size: size, TreeHash: tree}
	if c.verifyPayload != nil {
		// The signature is checked at the end of the body: until then the
		// bytes count against the server-wide bound on unverified bytes,
		// and the service looks nothing up before the check.
		if size > glacier.MaxArchiveSize { // also MaxPartSize
			closeConn(w)
			return glacier.Body{}, glacier.Errorf(glacier.KindInvalidParameter, "Invalid Content-Length: %d. An archive or part uploaded in one request must be at most %d bytes", size, int64(glacier.MaxArchiveSize))
		}
		release, err := s.reserveUnverified(size)
		if err != nil {
			closeConn(w)
			return glacier.Body{}, err
		}
		c.done = release
		b.Deferred = true
		b.CheckLinear = func(h treehash.Hash) error {
			err := c.verifyPayload(h.String())
			release()
			return err
		}
		return b, nil
	}
	declared, err := requiredHash(r, "x-amz-content-sha256")
	if err != nil {
		return glacier.Body{}, err
	}
	b.CheckLinear = func(h treehash.Hash) error {
		if h != declared {
			return errPayloadHashMismatch(declared, h)
		}
		return nil
	}
	return b, nil
}

// handleUploadArchive: POST /{account}/vaults/{vault}/archives (§9.1).
func (s *Server) handleUploadArchive(w http.ResponseWriter, r *http.Request, c *call) error {
	size, err := contentLength(r)
	if err != nil {
		return err
	}
	body, err := s.uploadBody(w, r, c, size)
	if err != nil {
		return err
	}
	vault := r.PathValue("vault")
	a, err := s.Service.UploadArchive(r.Context(), c.caller, c.account, vault, r.Header.Get("x-amz-archive-description"), body)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", "/"+a.AccountID+"/vaults/"+a.VaultName+"/archives/"+a.ID)
	h.Set("x-amz-archive-id", a.ID)
	h.Set("x-amz-sha256-tree-hash", a.TreeHash.String())
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleDeleteArchive: DELETE /{account}/vaults/{vault}/archives/{archive} (§9.2).
func (s *Server) handleDeleteArchive(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.DeleteArchive(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("archive")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleInitiateMultipartUpload: POST /{account}/vaults/{vault}/multipart-uploads (§10.1).
func (s *Server) handleInitiateMultipartUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	raw := r.Header.Get("x-amz-part-size")
	if raw == "" {
		return glacier.InvalidPartSize("null")
	}
	size, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return glacier.InvalidPartSize(raw)
	}
	u, err := s.Service.InitiateMultipartUpload(r.Context(), c.caller, c.account, r.PathValue("vault"), size, r.Header.Get("x-amz-archive-description"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/"+u.AccountID+"/vaults/"+u.VaultName+"/multipart-uploads/"+u.ID)
	w.Header().Set("x-amz-multipart-upload-id", u.ID)
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleUploadMultipartPart: PUT …/multipart-uploads/{upload} (§10.2).
func (s *Server) handleUploadMultipartPart(w http.ResponseWriter, r *http.Request, c *call) error {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: Content-Range")
	}
	first, last, err := parseContentRange(cr)
	if err != nil {
		return err
	}
	size := last - first + 1
	if r.ContentLength >= 0 && r.ContentLength != size {
		return glacier.Errorf(glacier.KindInvalidParameter, "Content-Range: %s is incompatible with Content-Length: %d", cr, r.ContentLength)
	}
	body, err := s.uploadBody(w, r, c, size)
	if err != nil {
		return err
	}
	sum, err := s.Service.UploadMultipartPart(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("upload"), first, body)
	if err != nil {
		return err
	}
	w.Header().Set("x-amz-sha256-tree-hash", sum.String())
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleCompleteMultipartUpload: POST …/multipart-uploads/{upload} (§10.3).
func (s *Server) handleCompleteMultipartUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	raw := r.Header.Get("x-amz-archive-size")
	if raw == "" {
		return glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: x-amz-archive-size")
	}
	size, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || size < 0 {
		return glacier.Errorf(glacier.KindInvalidParameter, "Invalid x-amz-archive-size: %q is not a byte count", raw)
	}
	tree, err := requiredHash(r, "x-amz-sha256-tree-hash")
	if err != nil {
		return err
	}
	a, err := s.Service.CompleteMultipartUpload(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("upload"), size, tree)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", "/"+a.AccountID+"/vaults/"+a.VaultName+"/archives/"+a.ID)
	h.Set("x-amz-archive-id", a.ID)
	h.Set("x-amz-sha256-tree-hash", a.TreeHash.String())
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleAbortMultipartUpload: DELETE …/multipart-uploads/{upload} (§10.4).
func (s *Server) handleAbortMultipartUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.AbortMultipartUpload(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("upload")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleListParts: GET …/multipart-uploads/{upload}?marker=&limit= (§10.5).
// The marker is the first byte of the next part.
func (s *Server) handleListParts(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := parseLimit(r, 50, 1000)
	if err != nil {
		return err
	}
	var from int64
	if m := r.URL.Query().Get("marker"); m != "" {
		if from, err = strconv.ParseInt(m, 10, 64); err != nil || from < 0 {
			return glacier.Errorf(glacier.KindInvalidParameter, "Invalid marker: %q", m)
		}
	}
	u, parts, next, err := s.Service.ListParts(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("upload"), from, limit)
	if err != nil {
		return err
	}
	out := ListPartsOutput{
		MultipartUploadId:  u.ID,
		VaultARN:           s.Service.VaultARN(u.AccountID, u.VaultName),
		ArchiveDescription: optString(u.Description),
		PartSizeInBytes:    u.PartSize,
		CreationDate:       formatTime(u.CreatedAt),
		Parts:              make([]PartListElement, len(parts)),
	}
	for i, p := range parts {
		out.Parts[i] = PartListElement{RangeInBytes: fmt.Sprintf("%d-%d", p.Start, p.End()), SHA256TreeHash: p.TreeHash.String()}
	}
	if next >= 0 {
		out.Marker = optString(strconv.FormatInt(next, 10))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleListMultipartUploads: GET …/multipart-uploads?marker=&limit= (§10.6).
// The marker is the id of the first upload of the next page.
func (s *Server) handleListMultipartUploads(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := parseLimit(r, 50, 1000)
	if err != nil {
		return err
	}
	us, next, err := s.Service.ListMultipartUploads(r.Context(), c.caller, c.account, r.PathValue("vault"), r.URL.Query().Get("marker"), limit)
	if err != nil {
		return err
	}
	out := ListMultipartUploadsOutput{UploadsList: make([]UploadListElement, len(us))}
	for i, u := range us {
		out.UploadsList[i] = UploadListElement{
			MultipartUploadId:  u.ID,
			VaultARN:           s.Service.VaultARN(u.AccountID, u.VaultName),
			ArchiveDescription: optString(u.Description),
			PartSizeInBytes:    u.PartSize,
			CreationDate:       formatTime(u.CreatedAt),
		}
	}
	out.Marker = optString(next)
	writeJSON(w, http.StatusOK, out)
	return nil
}
