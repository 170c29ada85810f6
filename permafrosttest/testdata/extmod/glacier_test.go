// Package extmod stands for another project's Glacier tool: its tests
// start permafrost in process through permafrosttest.
package extmod

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/permafrosttest"
)

func newClient(srv *permafrosttest.Server) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
	})
}

func TestUploadSurvivesThrottling(t *testing.T) {
	srv := permafrosttest.New(t, permafrosttest.WithRegion("eu-central-1"))
	c := newClient(srv)
	if _, err := c.CreateVault(t.Context(), &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(permafrosttest.Fault{Operation: "UploadArchive", Count: 1, Error: "ThrottlingException"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("data"))}); err != nil {
		t.Fatalf("UploadArchive with the SDK's retries: %v", err)
	}
	if err := srv.InjectFault(permafrosttest.Fault{Operation: "*", Vault: "v", Count: 1, Error: "ServiceUnavailableException"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")},
		func(o *glacier.Options) { o.RetryMaxAttempts = 1 })
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailableException" {
		t.Fatalf("DescribeVault without retries = %v, want ServiceUnavailableException", err)
	}
}

func TestClockAndReset(t *testing.T) {
	srv := permafrosttest.New(t)
	before := srv.Now()
	if err := srv.Advance(90 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if srv.Now().Sub(before) < 90*24*time.Hour {
		t.Fatal("the clock did not move")
	}
	c := newClient(srv)
	if _, err := c.CreateVault(t.Context(), &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListVaults(t.Context(), &glacier.ListVaultsInput{AccountId: aws.String("-")})
	if err != nil || len(list.VaultList) != 0 {
		t.Fatalf("ListVaults after Reset = %v, %v", list, err)
	}
}
