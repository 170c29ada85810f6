package permafrosttest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/permafrosttest"
)

// startExample starts a server in a temporary directory; in a test, use
// permafrosttest.New(t) instead, which cleans up by itself.
func startExample(opts ...permafrosttest.Option) (*permafrosttest.Server, func()) {
	dir, err := os.MkdirTemp("", "permafrost-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := permafrosttest.Start(dir, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return srv, func() { srv.Close(); os.RemoveAll(dir) }
}

// newClient returns an aws-sdk-go-v2 Glacier client for the server.
func newClient(srv *permafrosttest.Server) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
	})
}

// A whole archive round trip: jobs complete at once.
func Example() {
	srv, stop := startExample() // in a test: srv := permafrosttest.New(t)
	defer stop()
	ctx := context.Background()
	c := newClient(srv)

	c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("backups")})
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		AccountId: aws.String("-"), VaultName: aws.String("backups"),
		Body: bytes.NewReader([]byte("hello, glacier")),
	})
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{
		AccountId: aws.String("-"), VaultName: aws.String("backups"),
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: up.ArchiveId},
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		d, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{AccountId: aws.String("-"), VaultName: aws.String("backups"), JobId: job.JobId})
		if err != nil {
			log.Fatal(err)
		}
		if d.Completed {
			fmt.Println("job:", d.StatusCode)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{AccountId: aws.String("-"), VaultName: aws.String("backups"), JobId: job.JobId})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	fmt.Println("output:", string(b))
	// Output:
	// job: Succeeded
	// output: hello, glacier
}

// Throttle the next two uploads: the SDK's standard retryer (three
// attempts) gets through on the third.
func ExampleServer_InjectFault() {
	srv, stop := startExample()
	defer stop()
	ctx := context.Background()
	c := newClient(srv)
	c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})

	err := srv.InjectFault(permafrosttest.Fault{Operation: "UploadArchive", Count: 2, Error: "ThrottlingException"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("data")),
	})
	fmt.Println("upload with retries:", err)

	// Without retries the client sees the error.
	srv.InjectFault(permafrosttest.Fault{Operation: "UploadArchive", Count: 1, Error: "ThrottlingException"})
	_, err = c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("data")),
	}, func(o *glacier.Options) { o.RetryMaxAttempts = 1 })
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Println("upload without retries:", ae.ErrorCode(), ae.ErrorMessage())
	}
	// Output:
	// upload with retries: <nil>
	// upload without retries: ThrottlingException Rate exceeded
}

// Move the clock past the 24 hours a vault lock stays in progress.
func ExampleServer_Advance() {
	srv, stop := startExample()
	defer stop()
	ctx := context.Background()
	c := newClient(srv)
	c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	lock, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{
		AccountId: aws.String("-"), VaultName: aws.String("v"),
		Policy: &types.VaultLockPolicy{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Advance(25 * time.Hour); err != nil {
		log.Fatal(err)
	}
	_, err = c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{AccountId: aws.String("-"), VaultName: aws.String("v"), LockId: lock.LockId},
		func(o *glacier.Options) { o.RetryMaxAttempts = 1 })
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Println("complete after 25 h:", ae.ErrorCode())
	}
	// Output:
	// complete after 25 h: InvalidParameterValueException
}

// Empty the server between tests; the key stays valid.
func ExampleServer_Reset() {
	srv, stop := startExample()
	defer stop()
	ctx := context.Background()
	c := newClient(srv)
	c.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err := srv.Reset(); err != nil {
		log.Fatal(err)
	}
	list, err := c.ListVaults(ctx, &glacier.ListVaultsInput{AccountId: aws.String("-")})
	fmt.Println("vaults after reset:", len(list.VaultList), err)
	// Output:
	// vaults after reset: 0 <nil>
}
