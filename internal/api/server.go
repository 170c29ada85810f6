// Package api is the Glacier wire format: the route table, request parsing
// and validation of headers, paths and JSON, the response shapes, and the
// error envelope with its kind → code/status table. Each handler decodes a
// request, calls one glacier.Service method and encodes the result; the
// authorization decision is made inside the service, never here.
//
// Cross-cutting work is middleware: request ids, one structured log line
// per request, panic recovery, the x-amz-glacier-version check and SigV4
// authentication (see auth.go).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/sigv4"
)

// Credentials finds the secret and owner of an access key. KindNotFound
// means the key does not exist.
type Credentials interface {
	GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error)
}

// Server serves the Glacier REST API.
type Server struct {
	Service *glacier.Service
	Keys    Credentials
	Region  string
	Logger  *slog.Logger

	// MaxSkew is the allowed difference between a request's signing time
	// and the server clock; 15 minutes when zero.
	MaxSkew time.Duration
	// BodyIdleTimeout is how long an upload body may stall before the
	// request fails with RequestTimeoutException; 60 s when zero.
	BodyIdleTimeout time.Duration

	// TestClock, when set, enables POST /_permafrost/v1/clock (and the
	// reset and fault endpoints); internal/clock.Stored keeps its offset
	// across restarts and shares it between nodes.
	TestClock TestClock
	// SNS, if set, serves everything under /_permafrost/v1/sns/ without
	// authentication: the notification signing certificate and the
	// unsubscribe answer (internal/notify.Signer).
	SNS http.Handler

	// MaxUnverifiedUploadBytes bounds, server-wide, the bytes of upload
	// bodies whose signature can be checked only at their end (no
	// x-amz-content-sha256); DefaultMaxUnverifiedUploadBytes when zero.
	MaxUnverifiedUploadBytes int64

	budgetOnce  sync.Once
	unverified  *byteBudget // deferred-signature upload bodies
	smallBodies *byteBudget // small bodies buffered for their signature check

	// Health, if set, answers GET /_permafrost/v1/health without
	// authentication (load balancers, monitoring).
	Health http.Handler
	// Observe, if set, is told about every finished request (metrics).
	Observe func(RequestStats)

	faults faultSet // fault rules (faults.go), served with the test clock

	lists renderedLists // ListVaults answers of cached pages (vaultlistcache.go)

	// Audit, if set, is the audit log: state-changing requests and
	// requests refused by authentication or authorization are recorded
	// (audit.go).
	Audit AuditLog
}

// AuditLog appends a request's audit record in a transaction of its own
// (internal/audit.Log).
type AuditLog interface {
	AppendAudit(ctx context.Context, r *audit.Record) error
}

// Handler returns the HTTP handler with all routes and middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	// permafrost's own endpoints live under /_permafrost/, a path no
	// Glacier account id can take; they are dispatched before the Glacier
	// routes, whose {account} wildcard would otherwise match them.
	own := http.NewServeMux()
	if s.TestClock != nil {
		own.HandleFunc("/_permafrost/v1/clock", s.handleClock)
		own.HandleFunc("/_permafrost/v1/reset", s.handleReset)
		own.HandleFunc("/_permafrost/v1/faults", s.handleFaults)
		own.HandleFunc("/_permafrost/v1/faults/", s.handleFaults)
	}
	if s.SNS != nil {
		own.Handle("/_permafrost/v1/sns/", ownEndpoint("SNS", false, s.SNS))
	}
	if s.Health != nil {
		own.Handle("/_permafrost/v1/health", ownEndpoint("Health", true, s.Health))
	}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_permafrost/") {
			own.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return s.withRequestID(s.withLogging(s.withRecovery(root)))
}

// op describes one Glacier operation's route.
type op struct {
	name string
	// streams marks operations whose body is an archive or part: the
	// signature uses the declared x-amz-content-sha256 and the service
	// verifies the body while streaming it.
	streams bool
	handle  func(w http.ResponseWriter, r *http.Request, c *call) error
}

// routes is the one route table, in the order of operations.md §13 by
// resource. The tag mutations share a path and are told apart by the
// operation query parameter.
func (s *Server) routes(mux *http.ServeMux) {
	const v = "/{account}/vaults/{vault}"
	s.handle(mux, "GET /{account}/vaults", op{name: "ListVaults", handle: s.handleListVaults})
	s.handle(mux, "PUT "+v, op{name: "CreateVault", handle: s.handleCreateVault})
	s.handle(mux, "GET "+v, op{name: "DescribeVault", handle: s.handleDescribeVault})
	s.handle(mux, "DELETE "+v, op{name: "DeleteVault", handle: s.handleDeleteVault})

	s.handle(mux, "PUT "+v+"/access-policy", op{name: "SetVaultAccessPolicy", handle: s.handleSetVaultAccessPolicy})
	s.handle(mux, "GET "+v+"/access-policy", op{name: "GetVaultAccessPolicy", handle: s.handleGetVaultAccessPolicy})
	s.handle(mux, "DELETE "+v+"/access-policy", op{name: "DeleteVaultAccessPolicy", handle: s.handleDeleteVaultAccessPolicy})

	s.handle(mux, "POST "+v+"/lock-policy", op{name: "InitiateVaultLock", handle: s.handleInitiateVaultLock})
	s.handle(mux, "GET "+v+"/lock-policy", op{name: "GetVaultLock", handle: s.handleGetVaultLock})
	s.handle(mux, "POST "+v+"/lock-policy/{lock}", op{name: "CompleteVaultLock", handle: s.handleCompleteVaultLock})
	s.handle(mux, "DELETE "+v+"/lock-policy", op{name: "AbortVaultLock", handle: s.handleAbortVaultLock})

	s.handle(mux, "GET "+v+"/tags", op{name: "ListTagsForVault", handle: s.handleListTagsForVault})
	s.handle(mux, "POST "+v+"/tags", op{name: "AddTagsToVault", handle: s.handleTags})

	s.handle(mux, "PUT "+v+"/notification-configuration", op{name: "SetVaultNotifications", handle: s.handleSetVaultNotifications})
	s.handle(mux, "GET "+v+"/notification-configuration", op{name: "GetVaultNotifications", handle: s.handleGetVaultNotifications})
	s.handle(mux, "DELETE "+v+"/notification-configuration", op{name: "DeleteVaultNotifications", handle: s.handleDeleteVaultNotifications})

	s.handle(mux, "POST "+v+"/archives", op{name: "UploadArchive", streams: true, handle: s.handleUploadArchive})
	s.handle(mux, "DELETE "+v+"/archives/{archive}", op{name: "DeleteArchive", handle: s.handleDeleteArchive})

	s.handle(mux, "POST "+v+"/multipart-uploads", op{name: "InitiateMultipartUpload", handle: s.handleInitiateMultipartUpload})
	s.handle(mux, "GET "+v+"/multipart-uploads", op{name: "ListMultipartUploads", handle: s.handleListMultipartUploads})
	s.handle(mux, "PUT "+v+"/multipart-uploads/{upload}", op{name: "UploadMultipartPart", streams: true, handle: s.handleUploadMultipartPart})
	s.handle(mux, "POST "+v+"/multipart-uploads/{upload}", op{name: "CompleteMultipartUpload", handle: s.handleCompleteMultipartUpload})
	s.handle(mux, "DELETE "+v+"/multipart-uploads/{upload}", op{name: "AbortMultipartUpload", handle: s.handleAbortMultipartUpload})
	s.handle(mux, "GET "+v+"/multipart-uploads/{upload}", op{name: "ListParts", handle: s.handleListParts})

	s.handle(mux, "POST "+v+"/jobs", op{name: "InitiateJob", handle: s.handleInitiateJob})
	s.handle(mux, "GET "+v+"/jobs", op{name: "ListJobs", handle: s.handleListJobs})
	s.handle(mux, "GET "+v+"/jobs/{job}", op{name: "DescribeJob", handle: s.handleDescribeJob})
	s.handle(mux, "GET "+v+"/jobs/{job}/output", op{name: "GetJobOutput", handle: s.handleGetJobOutput})

	s.handle(mux, "GET /{account}/policies/data-retrieval", op{name: "GetDataRetrievalPolicy", handle: s.handleGetDataRetrievalPolicy})
	s.handle(mux, "PUT /{account}/policies/data-retrieval", op{name: "SetDataRetrievalPolicy", handle: s.handleSetDataRetrievalPolicy})
	s.handle(mux, "POST /{account}/provisioned-capacity", op{name: "PurchaseProvisionedCapacity", handle: s.handlePurchaseProvisionedCapacity})
	s.handle(mux, "GET /{account}/provisioned-capacity", op{name: "ListProvisionedCapacity", handle: s.handleListProvisionedCapacity})

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errBadRequest("No Glacier operation matches "+r.Method+" "+r.URL.Path))
	})
}

// call is what a handler gets besides the request: the authenticated
// caller and the account the path addresses.
type call struct {
	caller      *glacier.Caller
	callerValue glacier.Caller // what caller points to, in the same allocation
	auth        sigv4.Auth     // the request's parsed signature
	account     string
	// verifyPayload, set for uploads sent without x-amz-content-sha256,
	// checks the signature once the body's SHA-256 is known.
	verifyPayload func(payloadHash string) error
	// done, if set, runs when the handler returns (releases what the
	// request reserved).
	done func()
}

// handle registers one operation behind version check and authentication.
func (s *Server) handle(mux *http.ServeMux, pattern string, o op) {
	mux.HandleFunc(pattern, s.withFaults(o.name, func(w http.ResponseWriter, r *http.Request) {
		info := requestInfoFrom(r.Context())
		if info != nil {
			info.op = o.name
		}
		started := time.Now()
		r, rec := s.auditStart(r, o.name)
		// A session token is refused before anything else: this server
		// issues no temporary credentials, so no key, vault or policy is
		// looked at.
		if securityToken(r) {
			err := errInvalidSecurityToken()
			s.auditFinish(r.Context(), s.auditLate(r, o.name, started, rec, nil, err), err)
			s.writeError(w, r, err)
			return
		}
		c, err := s.authenticate(w, r, o)
		defer func() {
			if c != nil && c.done != nil {
				c.done()
			}
		}()
		if err == nil {
			if c.account, err = s.resolveAccount(r.PathValue("account"), c.caller); err == nil {
				if info != nil {
					info.principal = c.caller.Principal.ARN
				}
				auditIdentify(rec, c.caller, c.account)
				err = o.handle(w, r, c)
			}
		}
		s.auditFinish(r.Context(), s.auditLate(r, o.name, started, rec, c, err), err)
		if err != nil {
			s.writeError(w, r, err)
		}
	}))
}

// resolveAccount turns the path's account segment into an account id: "-"
// is the caller's own account (operations.md §1.1).
func (s *Server) resolveAccount(seg string, c *glacier.Caller) (string, error) {
	if seg == "-" {
		return c.Principal.AccountID, nil
	}
	if len(seg) != 12 || !digits(seg) {
		return "", glacier.Errorf(glacier.KindAccessDenied, "Access denied for account ID: %s", seg)
	}
	return seg, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// writeError writes the Glacier error envelope for err and logs internal
// causes.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	we, msg := classify(err)
	if we.Status >= 500 {
		s.logger().Error("request failed", "request_id", requestID(r.Context()), "err", err)
	}
	if info := requestInfoFrom(r.Context()); info != nil {
		info.errCode, info.err = we.Code, err
	}
	writeJSON(w, we.Status, errorBody{Code: we.Code, Message: msg, Type: errorType(we.Status)})
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
