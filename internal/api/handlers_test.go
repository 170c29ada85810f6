package api_test

// Handler-level tests: signed requests served by api.Server.Handler()
// through httptest, on a real service (SQLite, disk blobs), checking that
// each kind of failure reaches the client as the Glacier error envelope
// of the one error table — code, HTTP status, type and message — and that
// internal causes never leak.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

const (
	account = "111111111111"
	keyID   = "AKIAHANDLERTEST00001"
	secret  = "handler-test-secret-0000000000000000000"
	region  = "us-east-1"
)

// staticKeys is the one access key of the tests.
type staticKeys struct{}

func (staticKeys) GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error) {
	if id != keyID {
		return glacier.AccessKey{}, glacier.Errorf(glacier.KindNotFound, "no key %s", id)
	}
	return glacier.AccessKey{ID: keyID, Secret: secret, AccountID: account}, nil
}

// newServer serves a service on fresh stores; close stops its database
// (to provoke internal errors).
func newServer(t *testing.T) (h http.Handler, closeDB func()) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateAccount(context.Background(), glacier.Account{ID: account, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &glacier.Service{Stores: db.Roles(), Blobs: blobs, Clock: clock.NewTest(0), Region: region, Logger: quiet, MaxVaults: 1}
	srv := &api.Server{Service: svc, Keys: staticKeys{}, Region: region, Logger: quiet}
	return srv.Handler(), func() { db.Close() }
}

// request builds a request; sign signs it with the given secret.
func request(method, path, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("x-amz-glacier-version", "2012-06-01")
	if body != "" {
		// As a server receives it: the header as well as the field.
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return r
}

func sign(t *testing.T, r *http.Request, body, key, sec string) *http.Request {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	payload := hex.EncodeToString(sum[:])
	if declared := r.Header.Get("x-amz-content-sha256"); declared != "" {
		payload = declared // what the server checks the signature with
	}
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: sec}, r,
		payload, "glacier", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type envelope struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

func TestErrorsReachTheClientThroughTheTable(t *testing.T) {
	h, closeDB := newServer(t)
	do := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	signed := func(method, path, body string) *http.Request {
		return sign(t, request(method, path, body), body, keyID, secret)
	}
	// A vault to hit the limit (MaxVaults 1) and to set policies on.
	if w := do(signed("PUT", "/-/vaults/first", "")); w.Code != http.StatusCreated || w.Header().Get("Location") != "/"+account+"/vaults/first" {
		t.Fatalf("CreateVault: %d %s, Location %q", w.Code, w.Body, w.Header().Get("Location"))
	}

	for _, c := range []struct {
		name    string
		req     func() *http.Request
		status  int
		code    string
		message string
	}{
		{"a missing vault", func() *http.Request { return signed("GET", "/-/vaults/nope", "") },
			404, "ResourceNotFoundException", "Vault not found for ARN: arn:aws:glacier:us-east-1:" + account + ":vaults/nope"},
		{"an invalid vault name", func() *http.Request { return signed("PUT", "/-/vaults/bad%21name", "") },
			400, "InvalidParameterValueException", "Invalid vault name"},
		{"the vault limit", func() *http.Request { return signed("PUT", "/-/vaults/second", "") },
			400, "LimitExceededException", "The maximum number of vaults (1) has been reached"},
		{"a body that is not JSON", func() *http.Request { return signed("PUT", "/-/vaults/first/access-policy", "{not json") },
			400, "SerializationException", ""},
		{"another account's vault", func() *http.Request { return signed("GET", "/222222222222/vaults/x", "") },
			403, "AccessDeniedException", "User: arn:aws:iam::" + account + ":root is not authorized to perform: glacier:DescribeVault"},
		{"an account id that is none", func() *http.Request { return signed("GET", "/abc/vaults", "") },
			403, "AccessDeniedException", "Access denied for account ID: abc"},
		{"an unsigned request", func() *http.Request { return request("GET", "/-/vaults", "") },
			400, "MissingAuthenticationTokenException", ""},
		{"an unknown access key", func() *http.Request {
			return sign(t, request("GET", "/-/vaults", ""), "", "AKIAUNKNOWN000000000", secret)
		}, 400, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"a wrong secret", func() *http.Request {
			return sign(t, request("GET", "/-/vaults", ""), "", keyID, "wrong-secret-00000000000000000000000000")
		}, 403, "InvalidSignatureException", ""},
		{"a session token", func() *http.Request {
			r := request("GET", "/-/vaults", "")
			r.Header.Set("X-Amz-Security-Token", "token")
			return sign(t, r, "", keyID, secret)
		}, 403, "UnrecognizedClientException", ""},
		{"no API version", func() *http.Request {
			r := request("GET", "/-/vaults", "")
			r.Header.Del("x-amz-glacier-version")
			return sign(t, r, "", keyID, secret)
		}, 400, "MissingParameterValueException", "Required parameter missing: API version"},
		{"a wrong API version", func() *http.Request {
			r := request("GET", "/-/vaults", "")
			r.Header.Set("x-amz-glacier-version", "2011-01-01")
			return sign(t, r, "", keyID, secret)
		}, 400, "InvalidParameterValueException", "Invalid API version: 2011-01-01"},
		{"an invalid part size", func() *http.Request {
			r := request("POST", "/-/vaults/first/multipart-uploads", "")
			r.Header.Set("x-amz-part-size", "12345")
			return sign(t, r, "", keyID, secret)
		}, 400, "InvalidParameterValueException", "Invalid part size: 12345"},
		{"a retrieval policy with no rules", func() *http.Request {
			return signed("PUT", "/-/policies/data-retrieval", `{"Policy":{"Rules":[]}}`)
		}, 400, "InvalidParameterValueException", "exactly one rule, not 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := do(c.req())
			checkEnvelope(t, w, c.status, c.code, c.message)
		})
	}

	// A storage failure is a 500 with the generic message; its cause is
	// only logged.
	closeDB()
	w := do(signed("GET", "/-/vaults/first", ""))
	checkEnvelope(t, w, 500, "ServiceUnavailableException", "The service is unable to handle the request. Please retry.")
	if strings.Contains(w.Body.String(), "closed") || strings.Contains(w.Body.String(), "sql") {
		t.Errorf("an internal cause leaked: %s", w.Body)
	}
}

func checkEnvelope(t *testing.T, w *httptest.ResponseRecorder, status int, code, message string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status %d, want %d (%s)", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var e envelope
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	wantType := "Client"
	if status >= 500 {
		wantType = "Server"
	}
	if e.Code != code || e.Type != wantType || !strings.Contains(e.Message, message) || e.Message == "" {
		t.Errorf("envelope %+v; want code %s, type %s, a message containing %q", e, code, wantType, message)
	}
}

// signedDo returns a function that sends one request, signed with the
// test key, to h and returns its answer.
func signedDo(t *testing.T, h http.Handler) func(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	return func(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
		t.Helper()
		r := request(method, path, body)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		sign(t, r, body, keyID, secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
}

// TestHandlersRoundTrip: the handlers decode what a client sends, call the
// service and encode its answer in Glacier's shapes.
func TestHandlersRoundTrip(t *testing.T) {
	h, _ := newServer(t)
	do := signedDo(t, h)
	if w := do("PUT", "/-/vaults/photos", "", nil); w.Code != 201 {
		t.Fatalf("CreateVault: %d %s", w.Code, w.Body)
	}
	data := "hello archive"
	sum := sha256.Sum256([]byte(data))
	linear := hex.EncodeToString(sum[:])
	tree := linear // one chunk under 1 MiB: the tree hash is the SHA-256
	upload := func(treeHash, contentHash string) *httptest.ResponseRecorder {
		return do("POST", "/-/vaults/photos/archives", data, map[string]string{
			"x-amz-sha256-tree-hash": treeHash, "x-amz-content-sha256": contentHash, "x-amz-archive-description": "greeting",
		})
	}
	other := strings.Repeat("0", 64)
	checkEnvelope(t, upload(other, linear), 400, "InvalidParameterValueException", "Checksum mismatch")
	checkEnvelope(t, upload(tree, other), 403, "InvalidSignatureException", "does not match the SHA-256 of the request body")
	w := upload(tree, linear)
	id := w.Header().Get("x-amz-archive-id")
	if w.Code != 201 || id == "" || w.Header().Get("x-amz-sha256-tree-hash") != tree ||
		w.Header().Get("Location") != "/"+account+"/vaults/photos/archives/"+id {
		t.Fatalf("UploadArchive: %d %v %s", w.Code, w.Header(), w.Body)
	}

	w = do("GET", "/-/vaults/photos", "", nil)
	var v struct {
		VaultARN, VaultName string
		NumberOfArchives    int64
		SizeInBytes         int64
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != 200 {
		t.Fatalf("DescribeVault: %d %s", w.Code, w.Body)
	}
	if v.VaultARN != "arn:aws:glacier:us-east-1:"+account+":vaults/photos" || v.NumberOfArchives != 1 || v.SizeInBytes != int64(len(data))+glacier.PerArchiveOverhead {
		t.Errorf("DescribeVault = %+v", v)
	}
	w = do("GET", "/-/vaults", "", nil)
	var list struct{ VaultList []struct{ VaultName string } }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.VaultList) != 1 || list.VaultList[0].VaultName != "photos" {
		t.Errorf("ListVaults: %d %s", w.Code, w.Body)
	}

	w = do("POST", "/-/vaults/photos/jobs", `{"Type":"archive-retrieval","ArchiveId":"`+id+`","Tier":"Bulk"}`, nil)
	job := w.Header().Get("x-amz-job-id")
	if w.Code != 202 || job == "" {
		t.Fatalf("InitiateJob: %d %s", w.Code, w.Body)
	}
	w = do("GET", "/-/vaults/photos/jobs/"+job, "", nil)
	var d struct {
		JobId, Action, StatusCode, Tier string
		Completed                       bool
		ArchiveSizeInBytes              int64
	}
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || d.JobId != job || d.Action != "ArchiveRetrieval" || d.StatusCode != "InProgress" || d.Tier != "Bulk" || d.Completed || d.ArchiveSizeInBytes != int64(len(data)) {
		t.Errorf("DescribeJob: %d %s", w.Code, w.Body)
	}
	checkEnvelope(t, do("GET", "/-/vaults/photos/jobs/"+job+"/output", "", nil), 400, "InvalidParameterValueException", "The job is not currently available for download")
	checkEnvelope(t, do("POST", "/-/vaults/photos/jobs", `{"Type":"archive-retrieval","ArchiveId":"`+id+`","Tier":"Fast"}`, nil),
		400, "InvalidParameterValueException", `Invalid tier: "Fast"`)
	if w := do("DELETE", "/-/vaults/photos/archives/"+id, "", nil); w.Code != 204 {
		t.Errorf("DeleteArchive: %d %s", w.Code, w.Body)
	}
}
