// Package audit is permafrost's tamper-evident audit log: one CloudTrail-
// like JSON record per state-changing request and per request refused by
// authentication or authorization, hash-chained (each record carries the
// SHA-256 of its predecessor, one sequence across all nodes) and anchored
// in the blob store.
//
// A request's record travels in its context (WithRecord). The metadata
// stores append it inside the first write transaction the request commits
// (Claim before, Settle after), so an acknowledged change always has its
// record and a record never describes a change that did not commit. A
// request that commits nothing (refused, failed, or a no-op) has its record
// appended afterwards in a transaction of its own.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"
	"time"
)

// Genesis is the predecessor hash of the first record.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Identity is the CloudTrail userIdentity element.
type Identity struct {
	Type        string `json:"type"` // Root, IAMUser, or Unknown (not authenticated)
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// Event is one audit record's content, in CloudTrail's shape. Request
// bodies and secrets are never part of it: RequestParameters hold ids and
// names only.
type Event struct {
	EventVersion      string            `json:"eventVersion"`
	EventTime         time.Time         `json:"eventTime"`
	EventSource       string            `json:"eventSource"`
	EventName         string            `json:"eventName"`
	AWSRegion         string            `json:"awsRegion,omitempty"`
	SourceIPAddress   string            `json:"sourceIPAddress,omitempty"`
	UserAgent         string            `json:"userAgent,omitempty"`
	UserIdentity      Identity          `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters,omitempty"`
	ResponseElements  map[string]string `json:"responseElements,omitempty"`
	ErrorCode         string            `json:"errorCode,omitempty"`
	ErrorMessage      string            `json:"errorMessage,omitempty"`
	RequestID         string            `json:"requestID"`
	EventID           string            `json:"eventID,omitempty"`
	ReadOnly          bool              `json:"readOnly"`
	EventType         string            `json:"eventType"`
	RecipientAccount  string            `json:"recipientAccountId,omitempty"`
}

// Record is a pending record of one request. Its fields may be filled in
// while the request runs (Note) until it is appended.
type Record struct {
	Event Event
	// state: 0 pending, 1 being appended in a transaction, 2 appended.
	state atomic.Int32
	mu    chan struct{} // guards Event.ResponseElements against Note racing Body
}

// NewRecord returns a pending record of ev.
func NewRecord(ev Event) *Record {
	if ev.EventVersion == "" {
		ev.EventVersion = "1.08"
	}
	if ev.EventSource == "" {
		ev.EventSource = "glacier.amazonaws.com"
	}
	if ev.EventType == "" {
		ev.EventType = "AwsApiCall"
	}
	r := &Record{Event: ev, mu: make(chan struct{}, 1)}
	return r
}

type ctxKey struct{}

// WithRecord returns ctx carrying r.
func WithRecord(ctx context.Context, r *Record) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the record ctx carries, or nil.
func FromContext(ctx context.Context) *Record {
	r, _ := ctx.Value(ctxKey{}).(*Record)
	return r
}

// Detach returns a context with ctx's values and deadline but without its
// record: background work started by a request must not carry it.
func Detach(ctx context.Context) context.Context {
	if FromContext(ctx) == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, (*Record)(nil))
}

// Note adds a response element (the id of what the request created) to
// the record in ctx, if any and not yet appended.
func Note(ctx context.Context, key, value string) {
	r := FromContext(ctx)
	if r == nil || r.state.Load() == 2 {
		return
	}
	r.mu <- struct{}{}
	if r.Event.ResponseElements == nil {
		r.Event.ResponseElements = map[string]string{}
	}
	r.Event.ResponseElements[key] = value
	<-r.mu
}

// Claim reserves r for appending in the caller's transaction: it returns
// false when r is nil or already appended (or being appended elsewhere).
// The caller must call Settle with whether the transaction committed.
func (r *Record) Claim() bool {
	return r != nil && r.state.CompareAndSwap(0, 1)
}

// Settle ends a Claim: committed marks r appended, else r is pending again.
func (r *Record) Settle(committed bool) {
	if committed {
		r.state.Store(2)
	} else {
		r.state.Store(0)
	}
}

// Appended reports whether r is in the log.
func (r *Record) Appended() bool { return r != nil && r.state.Load() == 2 }

// Body is the stored JSON of r as record number seq: the event with its
// sequence number. The stored text is what the hash covers.
func (r *Record) Body(seq int64) []byte {
	r.mu <- struct{}{}
	defer func() { <-r.mu }()
	b, _ := json.Marshal(struct {
		Sequence int64 `json:"sequence"`
		Event
	}{seq, r.Event})
	return b
}

// Hash is the chain hash of a record: SHA-256 over its predecessor's hash
// (hex), a newline and its stored body, in hex.
func Hash(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Stored is a record as the log keeps it.
type Stored struct {
	Seq       int64
	Time      time.Time
	AccountID string
	Vault     string
	Body      []byte
	PrevHash  string
	Hash      string
}

// Head is the chain's last record: its sequence number and hash (0 and
// Genesis for an empty log).
type Head struct {
	Seq  int64  `json:"sequence"`
	Hash string `json:"hash"`
}

// Log is what the metadata stores offer besides appending inside their
// write transactions.
type Log interface {
	// AppendAudit appends r in a transaction of its own (when r is not
	// appended yet).
	AppendAudit(ctx context.Context, r *Record) error
	// AuditHead returns the chain head.
	AuditHead(ctx context.Context) (Head, error)
	// ScanAudit calls fn for every record with sequence >= from, in order.
	ScanAudit(ctx context.Context, from int64, fn func(Stored) error) error
}

// Vault returns the vault a record names ("" when none).
func (r *Record) Vault() string { return r.Event.RequestParameters["vaultName"] }

// Account returns the account a record's request addressed.
func (r *Record) Account() string {
	if a := r.Event.RequestParameters["accountId"]; a != "" {
		return a
	}
	return r.Event.UserIdentity.AccountID
}
