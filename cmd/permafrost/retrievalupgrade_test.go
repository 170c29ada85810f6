package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestRetrievalPolicyStoredByEarlierVersion: a policy an earlier version
// stored as "Strategy:bytes" is still the account's policy: reported by
// GetDataRetrievalPolicy and enforced at InitiateJob.
func TestRetrievalPolicyStoredByEarlierVersion(t *testing.T) {
	ts := jobServe(t, nil)
	c := ts.client()
	mustCreateVault(t, c, "v")
	archiveID := jobUpload(t, c, "v", "", randomBytes(2*mib))
	if err := ts.stores.meta.PutSetting(context.Background(), "retrieval-policy/"+ts.AccountID, "BytesPerHour:262144"); err != nil {
		t.Fatal(err)
	}
	r := retrGetPolicy(t, c)
	if aws.ToString(r.Strategy) != "BytesPerHour" || aws.ToInt64(r.BytesPerHour) != 262144 {
		t.Fatalf("policy = %s / %v, want BytesPerHour 262144", aws.ToString(r.Strategy), aws.ToInt64(r.BytesPerHour))
	}
	// 256 KiB per hour admits 1 MiB in flight (spread over 4 hours), not 2.
	retrWantAccepted(t, c, "first MiB", jobArchiveParams(archiveID, "Standard", "0-1048575"))
	retrWantRefused(t, c, "second MiB", jobArchiveParams(archiveID, "Standard", "1048576-2097151"))
}
