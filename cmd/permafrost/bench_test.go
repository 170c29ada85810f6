package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

// BenchmarkUploadArchive measures the whole upload path through the real
// SDK and a loopback server: signing, hashing, fsync and the metadata
// commit. The client's own hashing is done once, outside the timer.
func BenchmarkUploadArchive(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			ts := mustServe(b)
			c := ts.client()
			ctx := context.Background()
			if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			data := randomBytes(size)
			sum := treehash.Sum(data).String()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{
					VaultName: aws.String("bench"),
					Body:      bytes.NewReader(data),
					Checksum:  aws.String(sum),
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDescribeVault measures a small signed metadata read.
func BenchmarkDescribeVault(b *testing.B) {
	ts := mustServe(b)
	c := ts.client()
	ctx := context.Background()
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
	}
}
