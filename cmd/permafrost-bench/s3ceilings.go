package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The object store's own ceilings (issue #13, PostgreSQL + S3): the same
// gateway the pg-s3-* nodes write to, driven directly with the requests
// permafrost's S3 blob store sends (internal/blob/s3: PutObject or a
// multipart upload of 8 MiB parts, UNSIGNED-PAYLOAD with a CRC32 checksum,
// one part in flight). A pg-s3 upload can be no faster than these, so
// they say how much of the gap to embedded is the object store's.

const s3CeilPart = 8 << 20 // internal/blob/s3.PartSize

// s3CeilingIDs are the ceiling rows an upload row of a pg-s3 configuration
// names besides its own: the gateway's rate for the same size.
func (b *bench) s3CeilingIDs(sizeID string) []string {
	if b.config == "" || b.config == "embedded" {
		return nil
	}
	return []string{"s3-put/" + sizeID}
}

// s3Ceilings measures the gateway alone, once per run (the first pg-s3
// configuration), before any node writes to it.
func (b *bench) s3Ceilings(ctx context.Context, gw *gateway) {
	for _, c := range b.report.Ceilings {
		if c.ID == "s3-put/small16" {
			return
		}
	}
	c := awss3.New(awss3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(gw.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
	})
	unsigned := func(o *awss3.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	}
	var seq atomic.Int64
	key := func() string { return "ceiling/" + strconv.FormatInt(seq.Add(1), 10) }
	put := func(ctx context.Context, data []byte) error {
		_, err := c.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: aws.String(benchBucket), Key: aws.String(key()),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		}, unsigned)
		return err
	}
	if b.want("replay") {
		b.ceiling(ctx, Row{ID: "s3-put/small16", Name: fmt.Sprintf("versitygw alone: PutObject %s, %d concurrent aws-sdk-go-v2 clients", sizeLabel(replaySmall), replayConns),
			Unit: "ops/s", Higher: true, Note: "the object store of pg-s3-*; the client signs each request, so this bounds it from below; archives of this size are kept in PostgreSQL (inline) unless --inline-archive-max is lower"},
			func(ctx context.Context) (float64, error) {
				data := b.data[:replaySmall]
				return rate(ctx, replayConns, b.cfg.duration, func(ctx context.Context) error { return put(ctx, data) })
			})
	}
	if !b.want("upload") {
		return
	}
	for _, size := range b.sizes() {
		if size <= s3CeilPart {
			continue // a single PutObject; the large sizes are the ones compared
		}
		data := b.data[:size]
		b.ceiling(ctx, Row{ID: "s3-put/" + b.sizeID(size), Name: fmt.Sprintf("versitygw alone: %s as a multipart upload of 8 MiB parts, one in flight", sizeLabel(size)),
			Unit: "MB/s", Higher: true, Note: "the object store of pg-s3-*, sent as permafrost's S3 blob store sends it"},
			func(ctx context.Context) (float64, error) {
				d, err := timeIt(func() error { return s3Multipart(ctx, c, key(), data, unsigned) })
				return mbps(size, d), err
			})
	}
}

// s3Multipart uploads data in 8 MiB parts, one at a time, and completes it.
func s3Multipart(ctx context.Context, c *awss3.Client, key string, data []byte, opt func(*awss3.Options)) error {
	created, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(benchBucket), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for num, off := int32(1), 0; off < len(data); num, off = num+1, off+s3CeilPart {
		p := data[off:min(off+s3CeilPart, len(data))]
		out, err := c.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String(benchBucket), Key: aws.String(key), UploadId: created.UploadId,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		}, opt)
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	_, err = c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(benchBucket), Key: aws.String(key), UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}
