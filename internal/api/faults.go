package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Fault injection: test suites make the server fail the way AWS fails, to
// exercise their clients' retry and resume code. It exists only with the
// test clock (--test-clock or --dev): POST /_permafrost/v1/faults adds a
// rule, GET lists the rules, DELETE removes them all and DELETE
// /_permafrost/v1/faults/{id} one. Like the clock endpoint, it is not
// signed. The JSON format is documented in docs/testing.md.

// FaultRule is one rule, as posted and as listed.
type FaultRule struct {
	// ID is assigned by the server.
	ID string `json:"id"`
	// Operation is a Glacier operation name (UploadArchive, GetJobOutput…)
	// or "*" for every operation.
	Operation string `json:"operation"`
	// Vault, if set, restricts the rule to requests on that vault.
	Vault string `json:"vault,omitempty"`
	// Count, if positive, applies the rule to the next Count requests it
	// matches (and fires on); zero means until the rules are cleared.
	Count int `json:"count,omitempty"`
	// Probability, if set (0 < p <= 1), fires the rule on a matching
	// request with that probability; otherwise it fires on every match.
	Probability float64 `json:"probability,omitempty"`

	// Error answers with this Glacier error code, in AWS's status and
	// JSON shape; Status and Message override the defaults.
	Error   string `json:"error,omitempty"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// LatencyMS delays the request; alone, or before another action.
	LatencyMS int64 `json:"latency_ms,omitempty"`
	// CutResponseAfterBytes drops the connection once that many bytes of
	// the response body are sent.
	CutResponseAfterBytes *int64 `json:"cut_response_after_bytes,omitempty"`
	// CutRequestAfterBytes drops the connection, without an answer, once
	// that many bytes of the request body are read.
	CutRequestAfterBytes *int64 `json:"cut_request_after_bytes,omitempty"`

	// Applied counts the requests the rule fired on; Remaining, for a rule
	// with a Count, how many more it will fire on.
	Applied   int  `json:"applied"`
	Remaining *int `json:"remaining,omitempty"`
}

// faultCodes are the error codes a rule may answer with: every code of
// the error table (errors.go) with its status, and the throttling code AWS
// answers to clients that send too fast.
func faultCodes() map[string]int {
	m := map[string]int{"ThrottlingException": http.StatusBadRequest}
	for _, w := range kindCodes {
		m[w.Code] = w.Status // ServiceUnavailableException: 500 for every kind
	}
	for _, w := range sigv4Codes {
		m[w.Code] = w.Status
	}
	for _, code := range []string{"SerializationException", "UnrecognizedClientException"} {
		m[code] = http.StatusBadRequest
	}
	return m
}

// faultMessages are AWS's messages for the codes a test most often wants.
var faultMessages = map[string]string{
	"ThrottlingException":           "Rate exceeded",
	"ServiceUnavailableException":   "The service is unable to handle the request. Please retry.",
	"RequestTimeoutException":       "Request timed out.",
	"LimitExceededException":        "The request was rejected because it exceeded a limit.",
	"InsufficientCapacityException": "There is not enough capacity to process this job request.",
}

// faultSet holds the rules of one server.
type faultSet struct {
	mu    sync.Mutex
	rules []*FaultRule
	next  int
	ops   map[string]bool // operation names, filled as routes register
}

func (f *faultSet) known(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ops == nil {
		f.ops = map[string]bool{}
	}
	f.ops[op] = true
	if op == "AddTagsToVault" {
		f.ops["RemoveTagsFromVault"] = true
	}
}

// add validates r and adds it.
func (f *faultSet) add(r FaultRule) (FaultRule, error) {
	bad := func(format string, args ...any) (FaultRule, error) {
		return FaultRule{}, glacier.Errorf(glacier.KindInvalidParameter, format, args...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Operation == "" {
		return bad("operation must be a Glacier operation name, such as UploadArchive, or \"*\"")
	}
	if r.Operation != "*" && !f.ops[r.Operation] {
		return bad("operation %q is not a Glacier operation this server knows (use a name such as UploadArchive, or \"*\")", r.Operation)
	}
	if r.Count < 0 {
		return bad("count must not be negative")
	}
	if r.Probability < 0 || r.Probability > 1 {
		return bad("probability must be between 0 and 1")
	}
	if r.LatencyMS < 0 {
		return bad("latency_ms must not be negative")
	}
	actions := 0
	if r.Error != "" {
		actions++
		status, ok := faultCodes()[r.Error]
		if !ok {
			return bad("error %q is not a Glacier error code (for example ThrottlingException, ServiceUnavailableException, RequestTimeoutException, LimitExceededException)", r.Error)
		}
		if r.Status == 0 {
			r.Status = status
		}
		if r.Status < 400 || r.Status > 599 {
			return bad("status must be an HTTP error status (400 to 599)")
		}
		if r.Message == "" {
			r.Message = faultMessages[r.Error]
		}
		if r.Message == "" {
			r.Message = "Injected fault."
		}
	} else if r.Status != 0 || r.Message != "" {
		return bad("status and message go with error")
	}
	if r.CutResponseAfterBytes != nil {
		actions++
		if *r.CutResponseAfterBytes < 0 {
			return bad("cut_response_after_bytes must not be negative")
		}
	}
	if r.CutRequestAfterBytes != nil {
		actions++
		if *r.CutRequestAfterBytes < 0 {
			return bad("cut_request_after_bytes must not be negative")
		}
	}
	if actions > 1 {
		return bad("a rule has at most one of error, cut_response_after_bytes and cut_request_after_bytes (latency_ms may go with any)")
	}
	if actions == 0 && r.LatencyMS == 0 {
		return bad("a rule needs an action: error, latency_ms, cut_response_after_bytes or cut_request_after_bytes")
	}
	f.next++
	r.ID = "fault-" + strconv.Itoa(f.next)
	r.Applied, r.Remaining = 0, nil
	if r.Count > 0 {
		n := r.Count
		r.Remaining = &n
	}
	f.rules = append(f.rules, &r)
	return r, nil
}

func (f *faultSet) list() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.rules))
	for _, r := range f.rules {
		c := *r
		if r.Remaining != nil {
			n := *r.Remaining
			c.Remaining = &n
		}
		out = append(out, c)
	}
	return out
}

// remove removes the rule with id, or all rules when id is "".
func (f *faultSet) remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == "" {
		f.rules = nil
		return true
	}
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return true
		}
	}
	return false
}

// pick returns a copy of the first rule that matches and fires on a
// request, counting it as applied; ok is false when none does.
func (f *faultSet) pick(op, vault string) (FaultRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.Operation != "*" && r.Operation != op || r.Vault != "" && r.Vault != vault {
			continue
		}
		if r.Remaining != nil && *r.Remaining <= 0 {
			continue
		}
		if r.Probability > 0 && rand.Float64() >= r.Probability {
			continue
		}
		r.Applied++
		if r.Remaining != nil {
			*r.Remaining--
		}
		return *r, true
	}
	return FaultRule{}, false
}

// withFaults wraps one Glacier operation's handler so that fault rules
// can take its place or disturb it. The rule that fired is named in the
// request's log line (attribute fault).
func (s *Server) withFaults(name string, next http.HandlerFunc) http.HandlerFunc {
	s.faults.known(name)
	return func(w http.ResponseWriter, r *http.Request) {
		if s.TestClock == nil {
			next(w, r)
			return
		}
		op := name
		if op == "AddTagsToVault" && r.URL.Query().Get("operation") == "remove" {
			op = "RemoveTagsFromVault"
		}
		rule, ok := s.faults.pick(op, r.PathValue("vault"))
		if !ok {
			next(w, r)
			return
		}
		info := requestInfoFrom(r.Context())
		if info != nil {
			info.op = op
			info.fault = rule.ID + " " + describeFault(rule)
		}
		if rule.LatencyMS > 0 {
			t := time.NewTimer(time.Duration(rule.LatencyMS) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case rule.Error != "":
			// The body is read first, so that the client sees the answer
			// rather than a connection closed on its upload. writeError is
			// not used: an injected 5xx is no server failure to log as one.
			io.Copy(io.Discard, r.Body)
			if info != nil {
				info.errCode = rule.Error
			}
			writeJSON(w, rule.Status, errorBody{Code: rule.Error, Message: rule.Message, Type: errorType(rule.Status)})
		case rule.CutRequestAfterBytes != nil:
			io.CopyN(io.Discard, r.Body, *rule.CutRequestAfterBytes)
			dropConnection(w, false)
		case rule.CutResponseAfterBytes != nil:
			next(&cutWriter{ResponseWriter: w, left: *rule.CutResponseAfterBytes}, r)
		default:
			next(w, r)
		}
	}
}

// describeFault names a rule's action for the log.
func describeFault(r FaultRule) string {
	var parts []string
	if r.LatencyMS > 0 {
		parts = append(parts, "latency_ms="+strconv.FormatInt(r.LatencyMS, 10))
	}
	switch {
	case r.Error != "":
		parts = append(parts, "error="+r.Error)
	case r.CutRequestAfterBytes != nil:
		parts = append(parts, "cut_request_after_bytes="+strconv.FormatInt(*r.CutRequestAfterBytes, 10))
	case r.CutResponseAfterBytes != nil:
		parts = append(parts, "cut_response_after_bytes="+strconv.FormatInt(*r.CutResponseAfterBytes, 10))
	}
	return strings.Join(parts, " ")
}

// dropConnection closes the request's connection: without an answer, or,
// with flush, after sending what was written so far.
func dropConnection(w http.ResponseWriter, flush bool) {
	rc := http.NewResponseController(w)
	if flush {
		rc.Flush()
	}
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // not hijackable (HTTP/2): abort the stream
}

var errCut = errors.New("connection cut by a fault rule")

// cutWriter passes left bytes of the body through and then drops the
// connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if c.cut {
		return 0, errCut
	}
	if int64(len(b)) <= c.left && len(b) > 0 {
		n, err := c.ResponseWriter.Write(b)
		c.left -= int64(n)
		return n, err
	}
	n := 0
	if c.left > 0 {
		var err error
		n, err = c.ResponseWriter.Write(b[:c.left])
		if err != nil {
			return n, err
		}
	}
	c.left, c.cut = 0, true
	dropConnection(c.ResponseWriter, true)
	return n, errCut
}

// Unwrap lets http.ResponseController reach the connection.
func (c *cutWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// handleFaults serves /_permafrost/v1/faults and /_permafrost/v1/faults/{id}.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.op = "TestFaults"
	}
	id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/_permafrost/v1/faults"), "/")
	switch {
	case r.Method == http.MethodGet && id == "":
		writeJSON(w, http.StatusOK, faultList{Faults: s.faults.list()})
	case r.Method == http.MethodPost && id == "":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			s.writeError(w, r, errSerialization("Could not read the rule: "+err.Error()))
			return
		}
		var in FaultRule
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			s.writeError(w, r, errSerialization(fmt.Sprintf("The body must be one JSON rule like {\"operation\": \"UploadArchive\", \"count\": 2, \"error\": \"ThrottlingException\"}: %v", err)))
			return
		}
		rule, err := s.faults.add(in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, rule)
	case r.Method == http.MethodDelete:
		if !s.faults.remove(id) {
			s.writeError(w, r, glacier.Errorf(glacier.KindNotFound, "No fault rule %q", id))
			return
		}
		writeEmpty(w, http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		s.writeError(w, r, errBadRequest("Use GET to list fault rules, POST to add one, DELETE to remove them"))
	}
}

type faultList struct {
	Faults []FaultRule `json:"faults"`
}
