package main

// End-to-end tests of Vault Lock (vault-lock.md, operations.md §6) through
// the real aws-sdk-go-v2 Glacier client against a running server. The
// helpers at the top (pfClient, pfResult, policy builders) are shared with
// policies_test.go and users_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ---------------------------------------------------------------------------
// Shared helpers for the policy / lock / user end-to-end tests.

// pfClient is an SDK client for one credential, addressing vaults of one
// account (Account "" means "-", the caller's own account).
type pfClient struct {
	c       *glacier.Client
	Account string
}

// sdkClient returns a pfClient for keyID/secret whose signatures follow the
// server's test clock.
func (ts *testServer) sdkClient(keyID, secret string) *pfClient {
	c := glacier.New(glacier.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(ts.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:       &http.Client{Timeout: 2 * time.Minute},
		RetryMaxAttempts: 1,
	})
	return &pfClient{c: c}
}

// rootClient is sdkClient for the server's first account's root key.
func (ts *testServer) rootClient() *pfClient { return ts.sdkClient(ts.KeyID, ts.Secret) }

// on returns a copy of p that addresses vaults of account acct.
func (p *pfClient) on(acct string) *pfClient { return &pfClient{c: p.c, Account: acct} }

func (p *pfClient) acct() *string {
	if p.Account == "" {
		return nil // the SDK fills in "-"
	}
	return aws.String(p.Account)
}

// pfResult is the outcome of one SDK call: HTTP status and error.
type pfResult struct {
	Status int
	Err    error
}

func result(md middleware.Metadata, err error) pfResult {
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			return pfResult{re.HTTPStatusCode(), err}
		}
		return pfResult{0, err}
	}
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return pfResult{r.StatusCode, nil}
	}
	return pfResult{0, nil}
}

// Code is the Glacier error code, "" on success.
func (r pfResult) Code() string {
	var ae smithy.APIError
	if errors.As(r.Err, &ae) {
		return ae.ErrorCode()
	}
	if r.Err != nil {
		return "?" + r.Err.Error()
	}
	return ""
}

// Message is the error message, "" on success.
func (r pfResult) Message() string {
	var ae smithy.APIError
	if errors.As(r.Err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func (r pfResult) String() string {
	if r.Err == nil {
		return fmt.Sprintf("%d (success)", r.Status)
	}
	return fmt.Sprintf("%d %s: %s", r.Status, r.Code(), r.Message())
}

// want checks the outcome: success with the status when code is "", else
// the error code with the status and a non-empty message. It reports with
// t.Errorf and returns whether the outcome matched.
func (r pfResult) want(t testing.TB, what string, status int, code string) bool {
	t.Helper()
	if code == "" {
		if r.Err != nil || r.Status != status {
			t.Errorf("%s: got %s, want %d success", what, r, status)
			return false
		}
		return true
	}
	if r.Err == nil || r.Code() != code || r.Status != status {
		t.Errorf("%s: got %s, want %d %s", what, r, status, code)
		return false
	}
	if r.Message() == "" {
		t.Errorf("%s: %s has an empty message", what, code)
	}
	return true
}

// mustWant is want, fatal on mismatch.
func (r pfResult) mustWant(t testing.TB, what string, status int, code string) {
	t.Helper()
	if !r.want(t, what, status, code) {
		t.FailNow()
	}
}

// wantDenied checks a 403 AccessDeniedException whose message names the
// action and the resource ARN (policies.md §6).
func (r pfResult) wantDenied(t testing.TB, what, action, arn string) {
	t.Helper()
	if !r.want(t, what, 403, "AccessDeniedException") {
		return
	}
	if !strings.Contains(r.Message(), action) || !strings.Contains(r.Message(), arn) {
		t.Errorf("%s: denial message %q does not name %s and %s", what, r.Message(), action, arn)
	}
}

var bg = context.Background()

func (p *pfClient) CreateVault(v string) pfResult {
	out, err := p.c.CreateVault(bg, &glacier.CreateVaultInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) DescribeVault(v string) (*glacier.DescribeVaultOutput, pfResult) {
	out, err := p.c.DescribeVault(bg, &glacier.DescribeVaultInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return out, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) DeleteVault(v string) pfResult {
	out, err := p.c.DeleteVault(bg, &glacier.DeleteVaultInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) ListVaults() (*glacier.ListVaultsOutput, pfResult) {
	out, err := p.c.ListVaults(bg, &glacier.ListVaultsInput{AccountId: p.acct()})
	return out, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) UploadArchive(v string, data []byte) (*glacier.UploadArchiveOutput, pfResult) {
	out, err := p.c.UploadArchive(bg, &glacier.UploadArchiveInput{AccountId: p.acct(), VaultName: aws.String(v), Body: bytes.NewReader(data)})
	return out, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) DeleteArchive(v, id string) pfResult {
	out, err := p.c.DeleteArchive(bg, &glacier.DeleteArchiveInput{AccountId: p.acct(), VaultName: aws.String(v), ArchiveId: aws.String(id)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) AddTags(v string, tags map[string]string) pfResult {
	out, err := p.c.AddTagsToVault(bg, &glacier.AddTagsToVaultInput{AccountId: p.acct(), VaultName: aws.String(v), Tags: tags})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) RemoveTags(v string, keys ...string) pfResult {
	out, err := p.c.RemoveTagsFromVault(bg, &glacier.RemoveTagsFromVaultInput{AccountId: p.acct(), VaultName: aws.String(v), TagKeys: keys})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) ListTags(v string) (*glacier.ListTagsForVaultOutput, pfResult) {
	out, err := p.c.ListTagsForVault(bg, &glacier.ListTagsForVaultInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return out, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) SetAccessPolicy(v, doc string) pfResult {
	out, err := p.c.SetVaultAccessPolicy(bg, &glacier.SetVaultAccessPolicyInput{AccountId: p.acct(), VaultName: aws.String(v), Policy: &gtypes.VaultAccessPolicy{Policy: aws.String(doc)}})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

// GetAccessPolicy returns the policy text (nil when the call failed).
func (p *pfClient) GetAccessPolicy(v string) (*string, pfResult) {
	out, err := p.c.GetVaultAccessPolicy(bg, &glacier.GetVaultAccessPolicyInput{AccountId: p.acct(), VaultName: aws.String(v)})
	var doc *string
	if out != nil && out.Policy != nil {
		doc = out.Policy.Policy
	}
	return doc, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) DeleteAccessPolicy(v string) pfResult {
	out, err := p.c.DeleteVaultAccessPolicy(bg, &glacier.DeleteVaultAccessPolicyInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

// InitiateLock returns the lock id ("" when the call failed).
func (p *pfClient) InitiateLock(v, doc string) (string, pfResult) {
	out, err := p.c.InitiateVaultLock(bg, &glacier.InitiateVaultLockInput{AccountId: p.acct(), VaultName: aws.String(v), Policy: &gtypes.VaultLockPolicy{Policy: aws.String(doc)}})
	id := ""
	if out != nil {
		id = aws.ToString(out.LockId)
	}
	return id, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) GetLock(v string) (*glacier.GetVaultLockOutput, pfResult) {
	out, err := p.c.GetVaultLock(bg, &glacier.GetVaultLockInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return out, result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) CompleteLock(v, lockID string) pfResult {
	out, err := p.c.CompleteVaultLock(bg, &glacier.CompleteVaultLockInput{AccountId: p.acct(), VaultName: aws.String(v), LockId: aws.String(lockID)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

func (p *pfClient) AbortLock(v string) pfResult {
	out, err := p.c.AbortVaultLock(bg, &glacier.AbortVaultLockInput{AccountId: p.acct(), VaultName: aws.String(v)})
	return result(md(out, func() middleware.Metadata { return out.ResultMetadata }), err)
}

// md returns the result metadata of out, nil when out is nil.
func md[T any](out *T, get func() middleware.Metadata) middleware.Metadata {
	if out == nil {
		return middleware.Metadata{}
	}
	return get()
}

// mustCreate creates a vault (201) or fails the test.
func (p *pfClient) mustCreate(t testing.TB, v string) {
	t.Helper()
	p.CreateVault(v).mustWant(t, "CreateVault "+v, 201, "")
}

// mustUpload stores a small random archive (201) and returns its id.
func (p *pfClient) mustUpload(t testing.TB, v string) string {
	t.Helper()
	out, r := p.UploadArchive(v, randomBytes(1024+len(v)))
	r.mustWant(t, "UploadArchive to "+v, 201, "")
	return aws.ToString(out.ArchiveId)
}

// mustInitiate initiates a lock (201) and returns its well-formed id.
func (p *pfClient) mustInitiate(t testing.TB, v, doc string) string {
	t.Helper()
	id, r := p.InitiateLock(v, doc)
	r.mustWant(t, "InitiateVaultLock on "+v, 201, "")
	wantLockID(t, id)
	return id
}

var lockIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{24}$`)

func wantLockID(t testing.TB, id string) {
	t.Helper()
	if !lockIDPattern.MatchString(id) {
		t.Errorf("lock id %q: want 24 characters of [A-Za-z0-9]", id)
	}
}

// wantLockState checks GetVaultLock: state "" means no lock (404).
func (p *pfClient) wantLockState(t testing.TB, what, v, state string) *glacier.GetVaultLockOutput {
	t.Helper()
	out, r := p.GetLock(v)
	if state == "" {
		r.want(t, what+": GetVaultLock", 404, "ResourceNotFoundException")
		return nil
	}
	if !r.want(t, what+": GetVaultLock", 200, "") {
		return nil
	}
	if got := aws.ToString(out.State); got != state {
		t.Errorf("%s: GetVaultLock State = %q, want %q", what, got, state)
	}
	return out
}

// vaultARN is the ARN of a vault in us-east-1, the tests' region.
func vaultARN(acct, vault string) string {
	return "arn:aws:glacier:us-east-1:" + acct + ":vaults/" + vault
}

// retentionPolicy denies glacier:DeleteArchive to everyone while the
// archive is younger than days (policies.md §10.1).
func retentionPolicy(arn string, days int) string {
	return fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "deny-based-on-archive-age",
      "Principal": "*",
      "Effect": "Deny",
      "Action": "glacier:DeleteArchive",
      "Resource": "%s",
      "Condition": {"NumericLessThan": {"glacier:ArchiveAgeInDays": "%d"}}
    }
  ]
}`, arn, days)
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// parseISO parses a Glacier ISO-8601 date.
func parseISO(t testing.TB, what, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s = %q: not ISO-8601: %v", what, s, err)
	}
	return tm
}

// wrongLockID is well formed but never issued.
const wrongLockID = "WrongLockIdWrongLockId00"

// ---------------------------------------------------------------------------

// TestVaultLockWorkflow is the lifecycle of vault-lock.md §7 on a vault
// that already holds archives, ending with the locked retention rule
// surviving a permissive access policy and expiring with archive age.
func TestVaultLockWorkflow(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "retained"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	a1 := c.mustUpload(t, vault)

	// 1. No lock yet.
	c.wantLockState(t, "fresh vault", vault, "")

	// 2–3. Initiate; GetVaultLock shows the draft with a 24 h window.
	p1 := retentionPolicy(arn, 365)
	l1 := c.mustInitiate(t, vault, p1)
	if out := c.wantLockState(t, "after initiate", vault, "InProgress"); out != nil {
		created := parseISO(t, "CreationDate", aws.ToString(out.CreationDate))
		expires := parseISO(t, "ExpirationDate", aws.ToString(out.ExpirationDate))
		if d := expires.Sub(created); d != 24*time.Hour {
			t.Errorf("ExpirationDate - CreationDate = %v (%s, %s), want 24h", d, aws.ToString(out.CreationDate), aws.ToString(out.ExpirationDate))
		}
		if now := ts.service.Clock.Now(); created.Before(now.Add(-time.Minute)) || created.After(now.Add(time.Minute)) {
			t.Errorf("CreationDate %s is not the server's now (%s)", created, now)
		}
		if !sameJSON(aws.ToString(out.Policy), p1) {
			t.Errorf("GetVaultLock Policy = %q, want %q", aws.ToString(out.Policy), p1)
		}
	}

	// 4. The draft is enforced at once, against the account root too.
	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive of a fresh archive under an InProgress lock", "glacier:DeleteArchive", arn)

	// 5. A second Initiate while InProgress.
	_, r := c.InitiateLock(vault, retentionPolicy(arn, 30))
	r.want(t, "InitiateVaultLock while InProgress", 403, "AccessDeniedException")

	// 6. Complete with a wrong id.
	c.CompleteLock(vault, wrongLockID).want(t, "CompleteVaultLock(wrong) while InProgress", 400, "InvalidParameterValueException")
	c.wantLockState(t, "after failed complete", vault, "InProgress")

	// 7. Abort: the draft stops applying.
	c.AbortLock(vault).want(t, "AbortVaultLock while InProgress", 204, "")
	c.wantLockState(t, "after abort", vault, "")
	a2 := c.mustUpload(t, vault)
	c.DeleteArchive(vault, a2).want(t, "DeleteArchive of a fresh archive after abort", 204, "")

	// 8. Abort is idempotent.
	c.AbortLock(vault).want(t, "AbortVaultLock with no lock", 204, "")

	// 9. A changed policy gets a new lock id.
	p2 := strings.Replace(strings.Replace(p1, "deny-based-on-archive-age", "retain-one-year", 1), "ArchiveAgeInDays", "ArchiveAgeinDays", 1)
	l2 := c.mustInitiate(t, vault, p2)
	if l2 == l1 {
		t.Errorf("re-initiated lock reused id %s", l1)
	}
	if out := c.wantLockState(t, "after re-initiate", vault, "InProgress"); out != nil && !sameJSON(aws.ToString(out.Policy), p2) {
		t.Errorf("GetVaultLock Policy = %q, want the new policy %q", aws.ToString(out.Policy), p2)
	}

	// 10. The stale id no longer matches.
	c.CompleteLock(vault, l1).want(t, "CompleteVaultLock(stale id) while InProgress", 400, "InvalidParameterValueException")
	c.wantLockState(t, "after stale complete", vault, "InProgress")

	// 11. Complete with the current id.
	c.CompleteLock(vault, l2).want(t, "CompleteVaultLock(current id)", 204, "")
	if out := c.wantLockState(t, "after complete", vault, "Locked"); out != nil {
		if !sameJSON(aws.ToString(out.Policy), p2) {
			t.Errorf("locked Policy = %q, want %q", aws.ToString(out.Policy), p2)
		}
		if aws.ToString(out.CreationDate) == "" {
			t.Errorf("locked lock has no CreationDate")
		}
	}

	// 12–15. The Locked state cannot be left.
	c.CompleteLock(vault, l2).want(t, "CompleteVaultLock(current id) again while Locked", 204, "")
	c.CompleteLock(vault, wrongLockID).want(t, "CompleteVaultLock(wrong) while Locked", 403, "AccessDeniedException")
	c.CompleteLock(vault, l1).want(t, "CompleteVaultLock(stale id) while Locked", 403, "AccessDeniedException")
	c.AbortLock(vault).want(t, "AbortVaultLock while Locked", 403, "AccessDeniedException")
	_, r = c.InitiateLock(vault, retentionPolicy(arn, 1))
	r.want(t, "InitiateVaultLock while Locked", 403, "AccessDeniedException")
	c.wantLockState(t, "after refused changes", vault, "Locked")

	// 16. The access policy stays editable but cannot loosen the lock.
	a3 := c.mustUpload(t, vault)
	c.DeleteArchive(vault, a3).wantDenied(t, "DeleteArchive of a fresh archive under a Locked lock", "glacier:DeleteArchive", arn)
	allowAll := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"everything","Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"%s"}]}`, arn)
	c.SetAccessPolicy(vault, allowAll).want(t, "SetVaultAccessPolicy(allow everything) on a Locked vault", 204, "")
	c.DeleteArchive(vault, a3).wantDenied(t, "DeleteArchive with an allow-everything access policy", "glacier:DeleteArchive", arn)
	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive of the first archive with an allow-everything access policy", "glacier:DeleteArchive", arn)
	c.DeleteAccessPolicy(vault).want(t, "DeleteVaultAccessPolicy on a Locked vault", 204, "")
	c.DeleteArchive(vault, a3).wantDenied(t, "DeleteArchive after the access policy is deleted", "glacier:DeleteArchive", arn)

	// A year later the archives have aged out of the retention rule; the
	// lock itself never expires.
	ts.advance(t, 366*24*time.Hour)
	c.DeleteArchive(vault, a3).want(t, "DeleteArchive of a 366-day-old archive", 204, "")
	c.DeleteArchive(vault, a1).want(t, "DeleteArchive of the first archive after 366 days", 204, "")
	c.wantLockState(t, "366 days later", vault, "Locked")
	a4 := c.mustUpload(t, vault)
	c.DeleteArchive(vault, a4).wantDenied(t, "DeleteArchive of a fresh archive a year after locking", "glacier:DeleteArchive", arn)
}

// TestVaultLockExpiry: an InProgress draft ends exactly 24 h after it was
// initiated (vault-lock.md §2.1): no longer reported, no longer completable,
// no longer enforced — even before any lock call touches it — and a new
// lock can be initiated.
func TestVaultLockExpiry(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "draft"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	a1 := c.mustUpload(t, vault)
	l1 := c.mustInitiate(t, vault, retentionPolicy(arn, 365))
	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive under the fresh draft", "glacier:DeleteArchive", arn)

	// One second before the end of the window the draft still binds.
	ts.advance(t, 86399*time.Second)
	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive 1 s before expiry", "glacier:DeleteArchive", arn)
	c.wantLockState(t, "1 s before expiry", vault, "InProgress")

	// At 24 h the draft is gone. The first request after the expiry is the
	// deletion, so the authorization itself must see the expiry.
	ts.advance(t, time.Second)
	c.DeleteArchive(vault, a1).want(t, "DeleteArchive right after expiry (no lock call in between)", 204, "")
	c.wantLockState(t, "after expiry", vault, "")
	c.CompleteLock(vault, l1).want(t, "CompleteVaultLock(expired id)", 400, "InvalidParameterValueException")
	c.wantLockState(t, "after completing an expired id", vault, "")
	a2 := c.mustUpload(t, vault)
	c.DeleteArchive(vault, a2).want(t, "DeleteArchive of a fresh archive after expiry", 204, "")

	// Initiate works again, with a new id and a new window.
	l2 := c.mustInitiate(t, vault, retentionPolicy(arn, 365))
	if l2 == l1 {
		t.Errorf("new lock reused the expired id %s", l1)
	}
	if out := c.wantLockState(t, "re-initiated", vault, "InProgress"); out != nil {
		created := parseISO(t, "CreationDate", aws.ToString(out.CreationDate))
		if now := ts.service.Clock.Now(); created.Before(now.Add(-time.Minute)) {
			t.Errorf("re-initiated CreationDate %s is not the server's now (%s)", created, now)
		}
	}
	a3 := c.mustUpload(t, vault)
	c.DeleteArchive(vault, a3).wantDenied(t, "DeleteArchive under the new draft", "glacier:DeleteArchive", arn)
	c.CompleteLock(vault, l1).want(t, "CompleteVaultLock(expired id) against the new draft", 400, "InvalidParameterValueException")
	c.CompleteLock(vault, l2).want(t, "CompleteVaultLock(new id)", 204, "")
	c.wantLockState(t, "completed", vault, "Locked")
	// A Locked lock does not expire.
	ts.advance(t, 48*time.Hour)
	c.wantLockState(t, "48 h after locking", vault, "Locked")
	c.DeleteArchive(vault, c.mustUpload(t, vault)).wantDenied(t, "DeleteArchive under the lock 48 h later", "glacier:DeleteArchive", arn)
}

// TestVaultLockMatrix checks every cell of vault-lock.md §3, and that a
// refused call leaves the state as it was.
func TestVaultLockMatrix(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	n := 0
	// vaultIn makes a new vault in the given state and returns it with the
	// id of its current (or last) lock.
	vaultIn := func(t *testing.T, state string) (string, string) {
		t.Helper()
		n++
		v := fmt.Sprint("matrix-", n)
		c.mustCreate(t, v)
		doc := retentionPolicy(vaultARN(ts.AccountID, v), 1)
		switch state {
		case "None":
			return v, ""
		case "Aborted":
			id := c.mustInitiate(t, v, doc)
			c.AbortLock(v).mustWant(t, "AbortVaultLock", 204, "")
			return v, id
		case "Expired":
			id := c.mustInitiate(t, v, doc)
			ts.advance(t, 24*time.Hour)
			return v, id
		case "InProgress":
			return v, c.mustInitiate(t, v, doc)
		case "Locked":
			id := c.mustInitiate(t, v, doc)
			c.CompleteLock(v, id).mustWant(t, "CompleteVaultLock", 204, "")
			return v, id
		}
		panic(state)
	}
	policyFor := func(v string) string { return retentionPolicy(vaultARN(ts.AccountID, v), 7) }

	// The None column: never initiated, aborted, expired.
	for _, none := range []string{"None", "Aborted", "Expired"} {
		t.Run(none+"/Initiate", func(t *testing.T) {
			v, old := vaultIn(t, none)
			id, r := c.InitiateLock(v, policyFor(v))
			r.want(t, "InitiateVaultLock", 201, "")
			wantLockID(t, id)
			if id == old {
				t.Errorf("new lock reused id %s", old)
			}
			c.wantLockState(t, "after initiate", v, "InProgress")
		})
		t.Run(none+"/CompleteMismatch", func(t *testing.T) {
			v, _ := vaultIn(t, none)
			c.CompleteLock(v, wrongLockID).want(t, "CompleteVaultLock(wrong)", 400, "InvalidParameterValueException")
			c.wantLockState(t, "after refused complete", v, "")
		})
		if none != "None" {
			t.Run(none+"/CompleteOldID", func(t *testing.T) {
				v, old := vaultIn(t, none)
				c.CompleteLock(v, old).want(t, "CompleteVaultLock(id of the "+strings.ToLower(none)+" lock)", 400, "InvalidParameterValueException")
				c.wantLockState(t, "after refused complete", v, "")
			})
		}
		t.Run(none+"/Abort", func(t *testing.T) {
			v, _ := vaultIn(t, none)
			c.AbortLock(v).want(t, "AbortVaultLock", 204, "")
			c.wantLockState(t, "after abort", v, "")
		})
		t.Run(none+"/Get", func(t *testing.T) {
			v, _ := vaultIn(t, none)
			c.wantLockState(t, "no lock", v, "")
		})
	}

	t.Run("InProgress/Initiate", func(t *testing.T) {
		v, id := vaultIn(t, "InProgress")
		_, r := c.InitiateLock(v, policyFor(v))
		r.want(t, "InitiateVaultLock", 403, "AccessDeniedException")
		if out := c.wantLockState(t, "after refused initiate", v, "InProgress"); out != nil && !sameJSON(aws.ToString(out.Policy), retentionPolicy(vaultARN(ts.AccountID, v), 1)) {
			t.Errorf("refused initiate replaced the policy: %s", aws.ToString(out.Policy))
		}
		c.CompleteLock(v, id).want(t, "the original id still completes", 204, "")
	})
	t.Run("InProgress/CompleteMatch", func(t *testing.T) {
		v, id := vaultIn(t, "InProgress")
		c.CompleteLock(v, id).want(t, "CompleteVaultLock(match)", 204, "")
		c.wantLockState(t, "after complete", v, "Locked")
	})
	t.Run("InProgress/CompleteMismatch", func(t *testing.T) {
		v, id := vaultIn(t, "InProgress")
		c.CompleteLock(v, wrongLockID).want(t, "CompleteVaultLock(wrong)", 400, "InvalidParameterValueException")
		c.wantLockState(t, "after refused complete", v, "InProgress")
		c.CompleteLock(v, id).want(t, "the original id still completes", 204, "")
	})
	t.Run("InProgress/Abort", func(t *testing.T) {
		v, _ := vaultIn(t, "InProgress")
		c.AbortLock(v).want(t, "AbortVaultLock", 204, "")
		c.wantLockState(t, "after abort", v, "")
	})
	t.Run("InProgress/Get", func(t *testing.T) {
		v, _ := vaultIn(t, "InProgress")
		if out := c.wantLockState(t, "in progress", v, "InProgress"); out != nil && out.ExpirationDate == nil {
			t.Errorf("InProgress lock without ExpirationDate")
		}
	})

	t.Run("Locked/Initiate", func(t *testing.T) {
		v, _ := vaultIn(t, "Locked")
		_, r := c.InitiateLock(v, policyFor(v))
		r.want(t, "InitiateVaultLock", 403, "AccessDeniedException")
		if out := c.wantLockState(t, "after refused initiate", v, "Locked"); out != nil && !sameJSON(aws.ToString(out.Policy), retentionPolicy(vaultARN(ts.AccountID, v), 1)) {
			t.Errorf("refused initiate replaced the locked policy: %s", aws.ToString(out.Policy))
		}
	})
	t.Run("Locked/CompleteMatch", func(t *testing.T) {
		v, id := vaultIn(t, "Locked")
		c.CompleteLock(v, id).want(t, "CompleteVaultLock(match)", 204, "")
		c.wantLockState(t, "after idempotent complete", v, "Locked")
	})
	t.Run("Locked/CompleteMismatch", func(t *testing.T) {
		v, _ := vaultIn(t, "Locked")
		c.CompleteLock(v, wrongLockID).want(t, "CompleteVaultLock(wrong)", 403, "AccessDeniedException")
		c.wantLockState(t, "after refused complete", v, "Locked")
	})
	t.Run("Locked/Abort", func(t *testing.T) {
		v, _ := vaultIn(t, "Locked")
		c.AbortLock(v).want(t, "AbortVaultLock", 403, "AccessDeniedException")
		c.wantLockState(t, "after refused abort", v, "Locked")
	})
	t.Run("Locked/Get", func(t *testing.T) {
		v, _ := vaultIn(t, "Locked")
		c.wantLockState(t, "locked", v, "Locked")
	})

	t.Run("MissingVault", func(t *testing.T) {
		const v = "no-such-vault"
		_, r := c.InitiateLock(v, policyFor(v))
		r.want(t, "InitiateVaultLock", 404, "ResourceNotFoundException")
		c.CompleteLock(v, wrongLockID).want(t, "CompleteVaultLock", 404, "ResourceNotFoundException")
		c.AbortLock(v).want(t, "AbortVaultLock", 404, "ResourceNotFoundException")
		_, r = c.GetLock(v)
		r.want(t, "GetVaultLock", 404, "ResourceNotFoundException")
	})

	// Deleting a vault drops its lock record: a vault created again under
	// the same name starts with no lock (vault-lock.md §2).
	t.Run("DeletedVault", func(t *testing.T) {
		v, id := vaultIn(t, "Locked")
		c.DeleteVault(v).want(t, "DeleteVault of an empty locked vault", 204, "")
		for _, r := range []pfResult{c.CompleteLock(v, id), c.AbortLock(v)} {
			r.want(t, "lock call on the deleted vault", 404, "ResourceNotFoundException")
		}
		c.mustCreate(t, v)
		c.wantLockState(t, "re-created vault", v, "")
	})
}

// invalidPolicies are policy documents every vault policy operation must
// refuse with 400 InvalidParameterValueException (policies.md §9). arn is
// the target vault.
func invalidPolicies(arn string) map[string]string {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	valid := fmt.Sprintf(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"%s"}`, arn)
	return map[string]string{
		"bad JSON":                   `{"Version":"2012-10-17","Statement":[` + valid,
		"not an object":              `[` + valid + `]`,
		"missing Statement":          `{"Version":"2012-10-17"}`,
		"empty Statement":            stmt(``),
		"bad Effect":                 stmt(strings.Replace(valid, `"Deny"`, `"Block"`, 1)),
		"lower-case Effect":          stmt(strings.Replace(valid, `"Deny"`, `"deny"`, 1)),
		"no Principal":               stmt(strings.Replace(valid, `"Principal":"*",`, ``, 1)),
		"no Action":                  stmt(strings.Replace(valid, `"Action":"glacier:DeleteArchive",`, ``, 1)),
		"no Resource":                stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive"}`),
		"bad Version":                `{"Version":"2020-01-01","Statement":[` + valid + `]}`,
		"unknown condition operator": stmt(strings.TrimSuffix(valid, "}") + `,"Condition":{"NumericRoughly":{"glacier:ArchiveAgeInDays":"365"}}}`),
		"too large (20481 bytes)":    padPolicy(stmt(valid), 20481),
	}
}

// padPolicy pads a JSON policy with trailing whitespace to exactly n bytes.
func padPolicy(doc string, n int) string {
	if len(doc) > n {
		panic("policy longer than the padding target")
	}
	return doc[:len(doc)-1] + strings.Repeat(" ", n-len(doc)) + "}"
}

// TestVaultLockInvalidPolicy: an invalid lock policy is refused with 400
// InvalidParameterValueException and changes nothing (vault-lock.md §3, §6).
func TestVaultLockInvalidPolicy(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "v"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	for name, doc := range invalidPolicies(arn) {
		id, r := c.InitiateLock(vault, doc)
		r.want(t, "InitiateVaultLock with "+name, 400, "InvalidParameterValueException")
		if id != "" {
			t.Errorf("InitiateVaultLock with %s returned lock id %q", name, id)
		}
		c.wantLockState(t, "after "+name, vault, "")
	}
	// The refusals left nothing in force: deletion is allowed.
	c.DeleteArchive(vault, c.mustUpload(t, vault)).want(t, "DeleteArchive after refused lock policies", 204, "")
	// A refused initiate leaves a draft alone too.
	good := retentionPolicy(arn, 365)
	id := c.mustInitiate(t, vault, good)
	_, r := c.InitiateLock(vault, invalidPolicies(arn)["bad JSON"])
	if r.Err == nil {
		t.Errorf("InitiateVaultLock with bad JSON over a draft succeeded")
	}
	if out := c.wantLockState(t, "draft after a refused initiate", vault, "InProgress"); out != nil && !sameJSON(aws.ToString(out.Policy), good) {
		t.Errorf("draft policy changed to %q", aws.ToString(out.Policy))
	}
	c.CompleteLock(vault, id).want(t, "CompleteVaultLock of the untouched draft", 204, "")

	// The size limit counts the policy string as sent: 20480 bytes are fine.
	const v2 = "v2"
	c.mustCreate(t, v2)
	big := padPolicy(retentionPolicy(vaultARN(ts.AccountID, v2), 365), 20480)
	c.mustInitiate(t, v2, big)
	if out := c.wantLockState(t, "20480-byte policy", v2, "InProgress"); out != nil && !sameJSON(aws.ToString(out.Policy), big) {
		t.Errorf("20480-byte policy came back as %d bytes", len(aws.ToString(out.Policy)))
	}
	// Condition key names are case-insensitive and Sids may hold hyphens:
	// the dev guide's own example (vault-lock.md §6).
	const v3 = "v3"
	c.mustCreate(t, v3)
	devGuide := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"deny-based-on-archive-age","Principal":{"AWS":"arn:aws:iam::%s:root"},"Effect":"Deny","Action":"glacier:DeleteArchive","Resource":["%s"],"Condition":{"NumericLessThan":{"glacier:ArchiveAgeinDays":"365"}}}]}`, ts.AccountID, vaultARN(ts.AccountID, v3))
	c.mustInitiate(t, v3, devGuide)
	c.DeleteArchive(v3, c.mustUpload(t, v3)).wantDenied(t, "DeleteArchive under the dev guide's lock policy", "glacier:DeleteArchive", vaultARN(ts.AccountID, v3))
}

// TestVaultLockRace races CompleteVaultLock against AbortVaultLock on one
// InProgress lock (vault-lock.md §2.2): exactly one transition wins, and
// every answer is consistent with it.
func TestVaultLockRace(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const rounds, workers = 12, 16
	locked, aborted := 0, 0
	for round := range rounds {
		v := fmt.Sprint("race-", round)
		c.mustCreate(t, v)
		id := c.mustInitiate(t, v, retentionPolicy(vaultARN(ts.AccountID, v), 365))

		type outcome struct {
			complete bool
			r        pfResult
		}
		outcomes := make([]outcome, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Alternate, offset per round so either kind may go first.
				complete := (w+round)%2 == 0
				var r pfResult
				if complete {
					r = c.CompleteLock(v, id)
				} else {
					r = c.AbortLock(v)
				}
				outcomes[w] = outcome{complete, r}
			}()
		}
		close(start)
		wg.Wait()

		completesOK, completesRefused, abortsOK, abortsRefused := 0, 0, 0, 0
		for _, o := range outcomes {
			switch {
			case o.complete && o.r.Err == nil && o.r.Status == 204:
				completesOK++
			case o.complete && o.r.Status == 400 && o.r.Code() == "InvalidParameterValueException":
				completesRefused++
			case !o.complete && o.r.Err == nil && o.r.Status == 204:
				abortsOK++
			case !o.complete && o.r.Status == 403 && o.r.Code() == "AccessDeniedException":
				abortsRefused++
			default:
				kind := "Abort"
				if o.complete {
					kind = "Complete"
				}
				t.Errorf("round %d: %s answered %s", round, kind, o.r)
			}
		}
		out, r := c.GetLock(v)
		state := ""
		if out != nil {
			state = aws.ToString(out.State)
		}
		switch {
		case r.Err == nil && state == "Locked":
			locked++
			// A Complete won: every Complete saw InProgress or Locked with
			// the matching id, every Abort saw Locked.
			if completesRefused != 0 || abortsOK != 0 {
				t.Errorf("round %d: Locked, yet %d Completes were refused and %d Aborts succeeded", round, completesRefused, abortsOK)
			}
			c.AbortLock(v).want(t, fmt.Sprintf("round %d: AbortVaultLock after the race", round), 403, "AccessDeniedException")
		case r.Status == 404 && r.Code() == "ResourceNotFoundException":
			aborted++
			// An Abort won: every Complete found no lock.
			if completesOK != 0 || abortsRefused != 0 {
				t.Errorf("round %d: no lock, yet %d Completes succeeded and %d Aborts were refused", round, completesOK, abortsRefused)
			}
			c.CompleteLock(v, id).want(t, fmt.Sprintf("round %d: CompleteVaultLock after the race", round), 400, "InvalidParameterValueException")
		default:
			t.Errorf("round %d: GetVaultLock after the race = %s, state %q", round, r, state)
		}
		t.Logf("round %d: %d/%d completes ok, %d/%d aborts ok", round, completesOK, completesOK+completesRefused, abortsOK, abortsOK+abortsRefused)
	}
	t.Logf("%d rounds locked, %d aborted", locked, aborted)
}
