package api

import "net/http"

// handleReset serves POST /_permafrost/v1/reset: the installation returns
// to empty (glacier.Service.Reset) and the fault rules are cleared;
// accounts, keys and the clock stay.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.op = "TestReset"
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.writeError(w, r, errBadRequest("Use POST to reset the installation"))
		return
	}
	n, err := s.Service.Reset(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.faults.remove("")
	writeJSON(w, http.StatusOK, resetResponse{BlobsRemoved: n})
}

type resetResponse struct {
	BlobsRemoved int `json:"blobs_removed"`
}
