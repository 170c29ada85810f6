package api

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

// mutating are the operations that change state: each one's record is
// appended inside the store transaction that commits its change.
var mutating = map[string]bool{
	"CreateVault": true, "DeleteVault": true,
	"SetVaultAccessPolicy": true, "DeleteVaultAccessPolicy": true,
	"InitiateVaultLock": true, "CompleteVaultLock": true, "AbortVaultLock": true,
	"AddTagsToVault": true, "RemoveTagsFromVault": true,
	"SetVaultNotifications": true, "DeleteVaultNotifications": true,
	"UploadArchive": true, "DeleteArchive": true,
	"InitiateMultipartUpload": true, "UploadMultipartPart": true, "CompleteMultipartUpload": true, "AbortMultipartUpload": true,
	"InitiateJob":                 true,
	"SetDataRetrievalPolicy":      true,
	"PurchaseProvisionedCapacity": true,
}

// auditStart makes the request's audit record (nil without an audit log)
// and, for a state-changing operation, puts it in the request's context so
// that the store appends it in the transaction of the change.
//
// A read-only operation gets no record here: its record is kept only when
// the request is refused, so it is made at the end, and only then
// (auditLate) — most metadata requests allocate none.
func (s *Server) auditStart(r *http.Request, name string) (*http.Request, *audit.Record) {
	if s.Audit == nil || !mutating[name] {
		return r, nil
	}
	return s.newAuditRecord(r, name, time.Now())
}

// auditLate returns the record to finish a request with: rec, or for a
// read-only operation that failed (a refusal is kept), its record made
// now, as auditStart would have made it at started, with the caller once
// authenticated and its account resolved.
func (s *Server) auditLate(r *http.Request, name string, started time.Time, rec *audit.Record, c *call, err error) *audit.Record {
	if rec != nil || err == nil || s.Audit == nil || mutating[name] {
		return rec
	}
	_, rec = s.newAuditRecord(r, name, started)
	if c != nil && c.account != "" { // authenticated, account resolved: as handle identifies it
		auditIdentify(rec, c.caller, c.account)
	}
	return rec
}

// newAuditRecord makes the request's record, as of start.
func (s *Server) newAuditRecord(r *http.Request, name string, start time.Time) (*http.Request, *audit.Record) {
	params := map[string]string{}
	for _, p := range []struct{ wire, key string }{
		{"account", "accountId"}, {"vault", "vaultName"}, {"archive", "archiveId"},
		{"upload", "uploadId"}, {"job", "jobId"}, {"lock", "lockId"},
	} {
		if v := r.PathValue(p.wire); v != "" {
			params[p.key] = v
		}
	}
	if name == "AddTagsToVault" && r.URL.Query().Get("operation") == "remove" {
		name = "RemoveTagsFromVault"
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	rec := audit.NewRecord(audit.Event{
		EventTime:         start.UTC(),
		EventName:         name,
		AWSRegion:         s.Region,
		SourceIPAddress:   ip,
		UserAgent:         truncate(r.UserAgent(), 256),
		UserIdentity:      audit.Identity{Type: "Unknown", AccessKeyID: accessKeyOf(r)},
		RequestParameters: params,
		RequestID:         requestID(r.Context()),
		ReadOnly:          !mutating[name],
	})
	if mutating[name] {
		r = r.WithContext(audit.WithRecord(r.Context(), rec))
	}
	return r, rec
}

// auditIdentify records who the authenticated caller is.
func auditIdentify(rec *audit.Record, c *glacier.Caller, account string) {
	if rec == nil || c == nil {
		return
	}
	id := &rec.Event.UserIdentity
	p := c.Principal
	id.ARN, id.AccountID, id.UserName = p.ARN, p.AccountID, p.UserName
	if p.KeyID != "" {
		id.AccessKeyID = p.KeyID
	}
	switch p.Type {
	case glacier.PrincipalRoot:
		id.Type, id.PrincipalID = "Root", p.AccountID
	case glacier.PrincipalUser:
		id.Type = "IAMUser"
	default:
		id.Type = string(p.Type)
	}
	if account != "" {
		rec.Event.RequestParameters["accountId"] = account
		rec.Event.RecipientAccount = account
	}
}

// auditFinish appends the record of a request that committed nothing
// itself: a state-changing request that failed or changed nothing, or any
// request refused by authentication or authorization.
func (s *Server) auditFinish(ctx context.Context, rec *audit.Record, err error) {
	if rec == nil || rec.Appended() {
		return
	}
	refused := false
	if err != nil {
		we, msg := classify(err)
		rec.Event.ErrorCode, rec.Event.ErrorMessage = we.Code, truncate(msg, 512)
		rec.Event.ResponseElements = nil // nothing was created
		refused = we.Status == http.StatusForbidden || glacier.KindOf(err) == glacier.KindAccessDenied
	}
	if rec.Event.ReadOnly && !refused {
		return
	}
	if aerr := s.Audit.AppendAudit(audit.Detach(context.WithoutCancel(ctx)), rec); aerr != nil {
		s.logger().Error("appending the audit record failed", "request_id", rec.Event.RequestID, "op", rec.Event.EventName, "err", aerr)
	}
}

// accessKeyOf returns the access key id a request names (not a secret),
// from the Authorization header or a presigned query.
func accessKeyOf(r *http.Request) string {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if i := strings.Index(h, "Credential="); i >= 0 {
			cred = h[i+len("Credential="):]
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	k, _, _ := strings.Cut(cred, "/")
	k, _, _ = strings.Cut(k, ",")
	return truncate(k, 128)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
