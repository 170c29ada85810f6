package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/permafrost/permafrost/internal/treehash"
)

// newTransport is the one HTTP transport every measurement uses, servers
// and ceilings alike: loopback only, keep-alive with enough idle
// connections per host for the most concurrent workload (so connections
// are reused, never churned), no compression.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        max(conns, 2) * 2,
		MaxIdleConnsPerHost: max(conns, 2) * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
}

// newClient is the aws-sdk-go-v2 Glacier client the harness drives both
// servers with. Retries are off: a failed request is an error in the
// figures, not something to hide.
func newClient(url string, conns int) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, ""),
		HTTPClient:   &http.Client{Transport: newTransport(conns)},
		Retryer:      aws.NopRetryer{},
	})
}

// payload is an upload body with its hashes computed in advance, outside
// any timing: the client must not be the bottleneck being measured.
type payload struct {
	data   []byte
	tree   string // x-amz-sha256-tree-hash
	linear string // x-amz-content-sha256, and the SigV4 payload hash
}

func newPayload(data []byte) payload {
	h := treehash.New()
	h.Write(data)
	return payload{data: data, tree: h.TreeHash().String(), linear: h.Linear().String()}
}

// withPayloadHash hands the SDK the body's SHA-256 so that its signer does
// not read the body to compute it, and sends it as x-amz-content-sha256 as
// the SDK would have. Inserted before the SDK's own ComputePayloadHash
// step, which then finds the hash set and does nothing.
func withPayloadHash(linear string) func(*glacier.Options) {
	return func(o *glacier.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("BenchPresetPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Set("X-Amz-Content-Sha256", linear)
					}
					return next.HandleFinalize(v4.SetPayloadHash(ctx, linear), in)
				}), "ComputePayloadHash", middleware.Before)
		})
	}
}

func uploadArchive(ctx context.Context, c *glacier.Client, vault string, p payload) (string, error) {
	out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		VaultName:          aws.String(vault),
		Body:               bytes.NewReader(p.data),
		Checksum:           aws.String(p.tree),
		ArchiveDescription: aws.String("permafrost-bench"),
	}, withPayloadHash(p.linear))
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ArchiveId), nil
}

func deleteArchives(ctx context.Context, c *glacier.Client, vault string, ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] { // moto names archives by their MD5: equal bodies share an id
			continue
		}
		seen[id] = true
		if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String(vault), ArchiveId: aws.String(id)}); err != nil {
			return fmt.Errorf("DeleteArchive: %w", err)
		}
	}
	return nil
}

// drain reads r to its end through a 1 MiB buffer (io.Discard's ReadFrom
// would read 8 KiB at a time) and returns the byte count.
func drain(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// waitJob polls DescribeJob until the job has completed (permafrost with
// --job-delays none answers at once; moto takes seconds by tier).
func waitJob(ctx context.Context, c *glacier.Client, vault, id string) error {
	for {
		d, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("DescribeJob: %w", err)
		}
		if d.Completed {
			if d.StatusCode != "Succeeded" {
				return fmt.Errorf("job %s: %s %s", id, d.StatusCode, aws.ToString(d.StatusMessage))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
