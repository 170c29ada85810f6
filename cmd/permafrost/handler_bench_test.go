package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// BenchmarkDescribeVaultHandler measures the server's own work for one
// signed DescribeVault — SigV4, authorization from memory, the answer, the
// request log — without a client or a socket: the request is signed once
// and handed to the server's handler again and again (as the replay
// benchmark's wrk does over the network).
func BenchmarkDescribeVaultHandler(b *testing.B) { benchHandler(b, "/-/vaults/bench", "bench") }

// BenchmarkListVaultsHandler is the same for ListVaults.
func BenchmarkListVaultsHandler(b *testing.B) { benchHandler(b, "/-/vaults", "bench") }

// BenchmarkListVaultsSixHandler is BenchmarkListVaultsHandler on the page
// the replay benchmark lists: six vaults.
func BenchmarkListVaultsSixHandler(b *testing.B) {
	benchHandler(b, "/-/vaults", "bench", "mixed", "meta-1", "meta-2", "meta-3", "meta-4")
}

// benchHandler creates vaults, then serves one signed GET of path b.N
// times.
func benchHandler(b *testing.B, path string, vaults ...string) {
	ts := mustServe(b)
	ctx := context.Background()
	for _, name := range vaults {
		if _, err := ts.client().CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(name)}); err != nil {
			b.Fatal(err)
		}
	}
	req, err := http.NewRequest("GET", ts.URL()+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	sum := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: ts.KeyID, SecretAccessKey: ts.Secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "glacier", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:1234"
	req.RequestURI = req.URL.RequestURI()
	h := ts.http.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req.Clone(ctx))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
