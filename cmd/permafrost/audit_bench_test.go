package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// BenchmarkAuditCost measures what the audit log costs: a metadata write
// (AddTagsToVault) and a small upload (1 KiB) through the real SDK and a
// loopback server. Two servers run side by side, one with the audit log
// and one without, and every iteration makes the same call on both, so
// that the load of a shared machine weighs on both alike. It reports the
// mean latency of each (on-ms/op, off-ms/op) and their ratio. Run with
// PERMAFROST_TEST_BACKEND=postgres-s3 for the shared stores.
func BenchmarkAuditCost(b *testing.B) {
	clients := map[bool]*glacier.Client{}
	for _, on := range []bool{true, false} {
		cfg := testConfig(b, b.TempDir())
		cfg.noAudit = !on
		m := &Main{Config: cfg, Stderr: testLogWriter{b}}
		if err := m.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		ts := &testServer{Main: m}
		ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(b, "")
		clients[on] = ts.client()
		if _, err := clients[on].CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	data := randomBytes(1 << 10)
	calls := map[string]func(c *glacier.Client, i int) error{
		"AddTagsToVault": func(c *glacier.Client, i int) error {
			_, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("bench"), Tags: map[string]string{"k": fmt.Sprint(i)}})
			return err
		},
		"UploadArchive1KiB": func(c *glacier.Client, i int) error {
			_, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("bench"), Body: bytes.NewReader(data)})
			return err
		},
	}
	for _, name := range []string{"AddTagsToVault", "UploadArchive1KiB"} {
		call := calls[name]
		b.Run(name, func(b *testing.B) {
			var spent [2]time.Duration // [on, off]
			for i := range b.N {
				for _, on := range []bool{i%2 == 0, i%2 != 0} { // alternate which goes first
					start := time.Now()
					if err := call(clients[on], i); err != nil {
						b.Fatal(err)
					}
					idx := 1
					if on {
						idx = 0
					}
					spent[idx] += time.Since(start)
				}
			}
			onMs := float64(spent[0].Microseconds()) / 1000 / float64(b.N)
			offMs := float64(spent[1].Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(onMs, "on-ms/op")
			b.ReportMetric(offMs, "off-ms/op")
			b.ReportMetric(onMs/offMs, "on/off")
		})
	}
}
