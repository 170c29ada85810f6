package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// BenchmarkAuditCost measures what the audit log costs: a metadata write
// (AddTagsToVault) and a small upload (1 KiB), each with the audit log on
// and off, through the real SDK and a loopback server. Run with
// PERMAFROST_TEST_BACKEND=postgres-s3 for the shared stores.
func BenchmarkAuditCost(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := "audit=on"
		if !on {
			name = "audit=off"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			cfg := testConfig(b, dir)
			cfg.noAudit = !on
			m := &Main{Config: cfg, Stderr: testLogWriter{b}}
			if err := m.Open(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { m.Close() })
			ts := &testServer{Main: m}
			ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(b, "")
			c := ts.client()
			ctx := context.Background()
			if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			b.Run("AddTagsToVault", func(b *testing.B) {
				for i := range b.N {
					if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("bench"),
						Tags: map[string]string{"k": fmt.Sprint(i)}}); err != nil {
						b.Fatal(err)
					}
				}
			})
			data := randomBytes(1 << 10)
			b.Run("UploadArchive1KiB", func(b *testing.B) {
				for range b.N {
					if _, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("bench"), Body: bytes.NewReader(data)}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
