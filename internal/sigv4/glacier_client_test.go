package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
)

// TestGlacierClient drives the real aws-sdk-go-v2 Glacier client (serializers, Glacier customizations,
// checksum and signing middleware) against an httptest server that builds a Request from *http.Request exactly
// as the HTTP layer should, and verifies every request it receives.
func TestGlacierClient(t *testing.T) {
	var (
		mu   sync.Mutex
		seen int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ph := payloadHashFor(r.Header, body)
		_, err := verifyHTTP(r, body, testSecret, time.Now(), Options{Service: "glacier", Regions: []string{"us-east-1"}})
		if err == nil && r.Header.Get("X-Amz-Content-Sha256") != "" && ph != sha256Hex(body) {
			t.Errorf("%s %s: x-amz-content-sha256 %s differs from the body's SHA-256", r.Method, r.RequestURI, ph)
		}
		mu.Lock()
		seen++
		mu.Unlock()
		if err != nil {
			t.Errorf("%s %s (token %v): %v", r.Method, r.RequestURI, r.Header.Get("X-Amz-Security-Token") != "", err)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"code":"InvalidSignatureException","message":"x","type":"Client"}`)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()

	for _, token := range []string{"", testToken} {
		client := glacier.New(glacier.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			HTTPClient:   srv.Client(),
			Retryer:      aws.NopRetryer{},
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: token}, nil
			}),
		})
		ctx := context.Background()
		calls := []func() error{
			func() error {
				_, err := client.ListVaults(ctx, &glacier.ListVaultsInput{Limit: aws.Int32(10), Marker: aws.String("x y/z")})
				return err
			},
			func() error {
				_, err := client.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("a b%c")})
				return err
			},
			func() error {
				_, err := client.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("my-vault"),
					ArchiveDescription: aws.String("my  archive   description"), Body: bytes.NewReader([]byte("hello world"))})
				return err
			},
			func() error {
				_, err := client.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{AccountId: aws.String("123456789012"),
					VaultName: aws.String("v"), UploadId: aws.String("UPLOAD-ID_123"), Range: aws.String("bytes 0-4/*"),
					Body: bytes.NewReader([]byte("hello"))})
				return err
			},
			func() error {
				_, err := client.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: map[string]string{"k": "v w"}})
				return err
			},
			func() error {
				_, err := client.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"),
					JobParameters: &types.JobParameters{Type: aws.String("inventory-retrieval")}})
				return err
			},
			func() error {
				_, err := client.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String("-aBc_123-xyz")})
				return err
			},
			func() error {
				_, err := client.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Completed: aws.String("true"), Statuscode: aws.String("Succeeded")})
				return err
			},
		}
		for _, call := range calls {
			if err := call(); err != nil && strings.Contains(err.Error(), "InvalidSignature") {
				t.Errorf("client: %v", err)
			}
		}
	}
	if seen != 16 {
		t.Errorf("server saw %d requests, want 16", seen)
	}
}
