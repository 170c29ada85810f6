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

// BenchmarkListVaultsSixHandler is BenchmarkListVaultsHandler on the page
// the replay benchmark lists: six vaults.
func BenchmarkListVaultsSixHandler(b *testing.B) {
	ts := mustServe(b)
	ctx := context.Background()
	for _, name := range []string{"bench", "mixed", "meta-1", "meta-2", "meta-3", "meta-4"} {
		if _, err := ts.client().CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(name)}); err != nil {
			b.Fatal(err)
		}
	}
	req, err := http.NewRequest("GET", ts.URL()+"/-/vaults", nil)
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
