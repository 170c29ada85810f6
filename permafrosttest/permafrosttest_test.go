package permafrosttest_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/permafrosttest"
)

// client returns a Glacier client for srv: with retries the SDK's standard
// retryer (3 attempts) with short back-offs, without them one attempt.
func client(srv *permafrosttest.Server, retries bool) *glacier.Client {
	o := glacier.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Timeout: time.Minute},
	}
	if retries {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
		})
	} else {
		o.RetryMaxAttempts = 1
	}
	return glacier.New(o)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// wantAPIError fails t unless err is the Glacier error code with status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() == "" {
		t.Fatalf("got error %s (%q), want %s with a message", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("got %v, want HTTP status %d", err, status)
	}
}

func mustVault(t *testing.T, c *glacier.Client, name string) {
	t.Helper()
	if _, err := c.CreateVault(t.Context(), &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String(name)}); err != nil {
		t.Fatalf("CreateVault %s: %v", name, err)
	}
}

func mustUpload(t *testing.T, c *glacier.Client, vault string, data []byte) string {
	t.Helper()
	out, err := c.UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String(vault), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("UploadArchive: %v", err)
	}
	return aws.ToString(out.ArchiveId)
}

// mustRetrieve starts an archive retrieval, which completes at once.
func mustRetrieve(t *testing.T, c *glacier.Client, vault, archiveID string) string {
	t.Helper()
	out, err := c.InitiateJob(t.Context(), &glacier.InitiateJobInput{
		AccountId: aws.String("-"), VaultName: aws.String(vault),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archiveID)},
	})
	if err != nil {
		t.Fatalf("InitiateJob: %v", err)
	}
	id := aws.ToString(out.JobId)
	for i := 0; ; i++ {
		d, err := c.DescribeJob(t.Context(), &glacier.DescribeJobInput{AccountId: aws.String("-"), VaultName: aws.String(vault), JobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeJob: %v", err)
		}
		if d.Completed {
			return id
		}
		if i == 100 {
			t.Fatalf("job %s did not complete", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRoundTrip(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, false)
	mustVault(t, c, "photos")
	data := randomBytes(3<<20 + 17)
	archiveID := mustUpload(t, c, "photos", data)
	jobID := mustRetrieve(t, c, "photos", archiveID)
	out, err := c.GetJobOutput(t.Context(), &glacier.GetJobOutputInput{AccountId: aws.String("-"), VaultName: aws.String("photos"), JobId: aws.String(jobID)})
	if err != nil {
		t.Fatalf("GetJobOutput: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("job output: %d bytes, %v; want the %d bytes uploaded", len(got), err, len(data))
	}
	// Inventories are live: DescribeVault counts the archive at once.
	d, err := c.DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("photos")})
	if err != nil || d.NumberOfArchives != 1 {
		t.Fatalf("DescribeVault = %+v, %v; want 1 archive", d, err)
	}
	if got := aws.ToString(d.VaultARN); got != "arn:aws:glacier:us-east-1:"+srv.AccountID+":vaults/photos" {
		t.Errorf("VaultARN = %s", got)
	}
}

func TestOptions(t *testing.T) {
	srv := permafrosttest.New(t,
		permafrosttest.WithRegion("eu-west-1"),
		permafrosttest.WithJobDelays(permafrosttest.JobDelays{Standard: 3 * time.Hour}),
		permafrosttest.WithInventoryInterval(24*time.Hour))
	c := client(srv, false)
	mustVault(t, c, "v")
	id := mustUpload(t, c, "v", []byte("hello"))
	// The inventory is daily: the new archive is not counted yet.
	d, err := c.DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || d.NumberOfArchives != 0 || !strings.Contains(aws.ToString(d.VaultARN), ":eu-west-1:") {
		t.Fatalf("DescribeVault = %+v, %v; want no archive counted yet, in eu-west-1", d, err)
	}
	job, err := c.InitiateJob(t.Context(), &glacier.InitiateJobInput{
		AccountId: aws.String("-"), VaultName: aws.String("v"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id)},
	})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *glacier.DescribeJobOutput {
		t.Helper()
		d, err := c.DescribeJob(t.Context(), &glacier.DescribeJobInput{AccountId: aws.String("-"), VaultName: aws.String("v"), JobId: job.JobId})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if describe().Completed {
		t.Fatal("a Standard job with a 3 h delay completed at once")
	}
	if err := srv.Advance(3*time.Hour + time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 0; !describe().Completed; i++ {
		if i == 100 {
			t.Fatal("the job did not complete after Advance")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A day later the next inventory counts the archive.
	if err := srv.Advance(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		d, err := c.DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
		if err != nil {
			t.Fatal(err)
		}
		if d.NumberOfArchives == 1 {
			break
		}
		if i == 100 {
			t.Fatalf("DescribeVault a day later = %+v, want the archive counted", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdvanceExpiresVaultLock: an in-progress vault lock expires 24 hours
// after it was initiated.
func TestAdvanceExpiresVaultLock(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, false)
	mustVault(t, c, "v")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`
	lock, err := c.InitiateVaultLock(t.Context(), &glacier.InitiateVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Now()
	if err := srv.Advance(24*time.Hour + time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := srv.Now().Sub(before); d < 24*time.Hour {
		t.Fatalf("the clock moved %v, want 24 h", d)
	}
	_, err = c.CompleteVaultLock(t.Context(), &glacier.CompleteVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("v"), LockId: lock.LockId})
	if err == nil {
		t.Fatal("CompleteVaultLock of an expired lock succeeded")
	}
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	_, err = c.GetVaultLock(t.Context(), &glacier.GetVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	if err := srv.Advance(-time.Second); err == nil {
		t.Error("Advance with a negative duration succeeded")
	}
}

// TestReset: Reset empties the server, a locked vault included, and the
// key keeps working.
func TestReset(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, false)
	mustVault(t, c, "locked")
	mustUpload(t, c, "locked", []byte("keep me"))
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`
	lock, err := c.InitiateVaultLock(t.Context(), &glacier.InitiateVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("locked"), Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(t.Context(), &glacier.CompleteVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("locked"), LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(permafrosttest.Fault{Operation: "CreateVault", Error: "ThrottlingException"}); err != nil {
		t.Fatal(err)
	}

	if err := srv.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	list, err := c.ListVaults(t.Context(), &glacier.ListVaultsInput{AccountId: aws.String("-")})
	if err != nil || len(list.VaultList) != 0 {
		t.Fatalf("ListVaults after Reset = %+v, %v; want none", list, err)
	}
	// Fault rules went too, and the name is free, without a lock.
	mustVault(t, c, "locked")
	_, err = c.GetVaultLock(t.Context(), &glacier.GetVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("locked")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}

func TestInjectFaultRejectsBadRules(t *testing.T) {
	srv := permafrosttest.New(t)
	for _, f := range []permafrosttest.Fault{
		{Operation: "NoSuchOperation", Error: "ThrottlingException"},
		{Operation: "*", Error: "NoSuchError"},
		{Operation: "*"},
		{Operation: "*", Error: "ThrottlingException", CutRequestAfterBytes: permafrosttest.Bytes(1)},
		{Operation: "*", Latency: time.Second, Probability: 2},
	} {
		if err := srv.InjectFault(f); err == nil || !strings.Contains(err.Error(), "InvalidParameterValueException") {
			t.Errorf("InjectFault(%+v) = %v, want InvalidParameterValueException", f, err)
		}
	}
}

// TestAdvanceAgesArchives: a lock policy that protects archives younger
// than 365 days lets the delete through once the clock moved a year on.
func TestAdvanceAgesArchives(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, false)
	mustVault(t, c, "records")
	id := mustUpload(t, c, "records", []byte("ledger"))
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive",
		"Resource":"arn:aws:glacier:` + srv.Region + `:` + srv.AccountID + `:vaults/records",
		"Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`
	lock, err := c.InitiateVaultLock(t.Context(), &glacier.InitiateVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("records"), Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(t.Context(), &glacier.CompleteVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("records"), LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	del := func() error {
		_, err := c.DeleteArchive(t.Context(), &glacier.DeleteArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("records"), ArchiveId: aws.String(id)})
		return err
	}
	wantAPIError(t, del(), "AccessDeniedException", 403)
	if err := srv.Advance(366 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := del(); err != nil {
		t.Fatalf("DeleteArchive of a 366-day-old archive: %v", err)
	}
}
