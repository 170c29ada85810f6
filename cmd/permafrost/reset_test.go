package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
)

// TestResetEmptiesInstallation: POST /_permafrost/v1/reset removes vaults
// (a Locked one included) with their archives, uploads, jobs, policies,
// tags and notification configs, the provisioned capacity, the retrieval
// policy and every blob, and keeps the account and its key.
func TestResetEmptiesInstallation(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := t.Context()
	acct := aws.String("-")
	defaultPolicy, err := c.GetDataRetrievalPolicy(ctx, &glacier.GetDataRetrievalPolicyInput{AccountId: acct})
	if err != nil {
		t.Fatal(err)
	}

	for _, v := range []string{"locked", "busy"} {
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: acct, VaultName: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{AccountId: acct, VaultName: aws.String("locked"), Body: bytes.NewReader(randomBytes(3 << 20))})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`
	lock, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{AccountId: acct, VaultName: aws.String("locked"), Policy: &types.VaultLockPolicy{Policy: aws.String(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{AccountId: acct, VaultName: aws.String("locked"), LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{AccountId: acct, VaultName: aws.String("locked"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId, Tier: aws.String("Expedited")}})
	if err != nil {
		t.Fatal(err)
	}
	ts.advance(t, 2*time.Minute)
	devWaitJob(t, c, "locked", aws.ToString(job.JobId), 10*time.Second)

	mp, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{AccountId: acct, VaultName: aws.String("busy"), PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{AccountId: acct, VaultName: aws.String("busy"), UploadId: mp.UploadId,
		Range: aws.String("bytes 0-1048575/*"), Body: bytes.NewReader(randomBytes(1 << 20))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{AccountId: acct, VaultName: aws.String("busy"), Tags: map[string]string{"team": "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetVaultAccessPolicy(ctx, &glacier.SetVaultAccessPolicyInput{AccountId: acct, VaultName: aws.String("busy"), Policy: &types.VaultAccessPolicy{Policy: aws.String(policy)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{AccountId: acct, VaultName: aws.String("busy"),
		VaultNotificationConfig: &types.VaultNotificationConfig{SNSTopic: aws.String("arn:aws:sns:us-east-1:" + ts.AccountID + ":t"), Events: []string{"ArchiveRetrievalCompleted"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurchaseProvisionedCapacity(ctx, &glacier.PurchaseProvisionedCapacityInput{AccountId: acct}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDataRetrievalPolicy(ctx, &glacier.SetDataRetrievalPolicyInput{AccountId: acct, Policy: &types.DataRetrievalPolicy{
		Rules: []types.DataRetrievalRule{{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(1 << 30)}}}}); err != nil {
		t.Fatal(err)
	}
	if n := countBlobs(t, ts); n < 2 {
		t.Fatalf("%d blobs before the reset, want the archive's and the part's", n)
	}

	var out struct {
		BlobsRemoved int `json:"blobs_removed"`
	}
	if err := json.Unmarshal(devPost(t, ts.URL()+"/_permafrost/v1/reset", "", 200), &out); err != nil || out.BlobsRemoved < 2 {
		t.Fatalf("reset answered %+v, %v; want the blobs it removed", out, err)
	}

	list, err := c.ListVaults(ctx, &glacier.ListVaultsInput{AccountId: acct})
	if err != nil || len(list.VaultList) != 0 {
		t.Fatalf("ListVaults after reset = %+v, %v; want none", list, err)
	}
	capacity, err := c.ListProvisionedCapacity(ctx, &glacier.ListProvisionedCapacityInput{AccountId: acct})
	if err != nil || len(capacity.ProvisionedCapacityList) != 0 {
		t.Fatalf("ListProvisionedCapacity after reset = %+v, %v; want none", capacity, err)
	}
	rp, err := c.GetDataRetrievalPolicy(ctx, &glacier.GetDataRetrievalPolicyInput{AccountId: acct})
	if err != nil || aws.ToString(rp.Policy.Rules[0].Strategy) != aws.ToString(defaultPolicy.Policy.Rules[0].Strategy) {
		t.Fatalf("GetDataRetrievalPolicy after reset = %+v, %v; want the default", rp, err)
	}
	if n := countBlobs(t, ts); n != 0 {
		t.Errorf("%d blobs after reset, want none", n)
	}

	// The names are free again, with nothing attached, and the key works.
	for _, v := range []string{"locked", "busy"} {
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: acct, VaultName: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetVaultLock(ctx, &glacier.GetVaultLockInput{AccountId: acct, VaultName: aws.String("locked")}); err == nil {
		t.Error("the recreated vault has a lock")
	}
	if _, err := c.GetVaultAccessPolicy(ctx, &glacier.GetVaultAccessPolicyInput{AccountId: acct, VaultName: aws.String("busy")}); err == nil {
		t.Error("the recreated vault has an access policy")
	}
	tags, err := c.ListTagsForVault(ctx, &glacier.ListTagsForVaultInput{AccountId: acct, VaultName: aws.String("busy")})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("tags of the recreated vault = %v, %v", tags, err)
	}
	ups, err := c.ListMultipartUploads(ctx, &glacier.ListMultipartUploadsInput{AccountId: acct, VaultName: aws.String("busy")})
	if err != nil || len(ups.UploadsList) != 0 {
		t.Errorf("uploads of the recreated vault = %v, %v", ups, err)
	}
	jobs, err := c.ListJobs(ctx, &glacier.ListJobsInput{AccountId: acct, VaultName: aws.String("locked")})
	if err != nil || len(jobs.JobList) != 0 {
		t.Errorf("jobs of the recreated vault = %v, %v", jobs, err)
	}
	// A reset is a POST only.
	resp, err := http.Get(ts.URL() + "/_permafrost/v1/reset")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET reset = %d, want 400", resp.StatusCode)
	}
}

// countBlobs counts the blobs in the server's blob store.
func countBlobs(t *testing.T, ts *testServer) int {
	t.Helper()
	n := 0
	if err := ts.stores.blobs.List(context.Background(), func(string, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
