package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/glacier"
)

var _ glacier.BlobStore = (*Store)(nil)

const (
	// dialTimeout bounds connecting to the endpoint.
	dialTimeout = 10 * time.Second
	// responseHeaderTimeout bounds the wait for a response once the
	// request is sent; CompleteMultipartUpload of a large blob on a slow
	// posix gateway is the longest legitimate wait.
	responseHeaderTimeout = 2 * time.Minute
	// cleanupTimeout bounds the requests that clean up after a failed Put
	// (abort, delete), which run even when the Put's context has ended.
	cleanupTimeout = 30 * time.Second
	// maxIdleConns is how many idle connections to the endpoint are kept:
	// concurrent Puts each keep one busy.
	maxIdleConns = 64
)

// Store keeps blobs as objects of one bucket, under a key prefix. It is
// safe for concurrent use, also by several processes.
type Store struct {
	client *awss3.Client
	cfg    Config
	where  string // the bucket and endpoint, for messages
	lock   lockState
}

// Open parses rawURL (see ParseURL), loads credentials from the store's
// own settings (CredentialsFromEnv) or else the standard
// AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
// the shared config and credentials files, SSO, web identity, container
// and EC2 instance roles) and checks that the bucket answers (HeadBucket)
// and, unless the URL says conditional-write=false, that the server
// honours If-None-Match: * (the probe of the package comment).
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: c, where: fmt.Sprintf("bucket %q at %s", c.Bucket, c.Endpoint)}
	if c.Endpoint == "" {
		s.where = fmt.Sprintf("bucket %q in AWS region %s", c.Bucket, c.Region)
	}

	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = responseHeaderTimeout
			t.MaxIdleConnsPerHost = maxIdleConns
		})
	creds, err := CredentialsFromEnv(nil)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, append([]func(*config.LoadOptions) error{
		config.WithRegion(c.Region),
		config.WithHTTPClient(httpClient),
	}, creds.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration (credentials from %s): %w", creds.Source, err)
	}
	if awsCfg.Credentials == nil {
		return nil, errors.New("s3: no AWS credentials: set PERMAFROST_S3_ACCESS_KEY_ID and PERMAFROST_S3_SECRET_ACCESS_KEY (or PERMAFROST_S3_PROFILE, or the standard AWS_* settings)")
	}
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("s3: no AWS credentials from %s (set PERMAFROST_S3_ACCESS_KEY_ID and PERMAFROST_S3_SECRET_ACCESS_KEY, or PERMAFROST_S3_PROFILE, or the standard AWS_* settings): %w", creds.Source, err)
	}
	s.client = awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// GETs of ranges and of multipart objects have no checksum to
		// validate; the SDK would log that at every Open.
		o.DisableLogOutputChecksumValidationSkipped = true
	})

	if err := s.checkBucket(ctx); err != nil {
		return nil, err
	}
	if err := s.detectObjectLock(ctx); err != nil {
		return nil, err
	}
	if c.ConditionalWrite {
		if err := s.probeConditionalWrite(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// checkBucket fails with a message saying what to fix when the bucket does
// not answer HeadBucket.
func (s *Store) checkBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" && r != s.cfg.Region {
			return fmt.Errorf("s3: bucket %q is in region %s: add region=%s to the URL: %w", s.cfg.Bucket, r, r, err)
		}
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return glacier.Wrap(glacier.KindNotFound, err, fmt.Sprintf("s3: %s does not exist", s.where))
		case http.StatusForbidden, http.StatusUnauthorized:
			return fmt.Errorf("s3: access to %s denied: check the credentials and the bucket's policy: %w", s.where, err)
		case http.StatusMovedPermanently, http.StatusBadRequest:
			return fmt.Errorf("s3: %s answers %d: is the region (%s) right? %w", s.where, re.HTTPStatusCode(), s.cfg.Region, err)
		}
	}
	if kindOf(err) == glacier.KindUnavailable {
		return glacier.Wrap(glacier.KindUnavailable, err, fmt.Sprintf("s3: %s is unreachable", s.where))
	}
	return fmt.Errorf("s3: checking %s: %w", s.where, err)
}

// probeConditionalWrite writes a probe object twice with If-None-Match: *
// and checks that the second write is refused, then deletes it. The probe's
// key holds a '.', so it is never a blob key and List skips it.
func (s *Store) probeConditionalWrite(ctx context.Context) error {
	key := s.cfg.Prefix + ".permafrost-probe-" + newNonce()
	put := func() error {
		_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:        aws.String(s.cfg.Bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader([]byte("probe")),
			ContentLength: aws.Int64(5),
			IfNoneMatch:   aws.String("*"),
		})
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if s.lock.enabled { // versioned: remove the versions, not just hide them
			s.deleteObjectVersions(dctx, key, "probe")
			return
		}
		s.client.DeleteObject(dctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	}()
	unsupported := fmt.Sprintf("s3: %s does not honour conditional writes (If-None-Match: *), which Put relies on never to overwrite a blob; "+
		"use a server that does (AWS S3, versitygw ≥ 1.8, MinIO, Ceph RGW ≥ 19…) or add conditional-write=false to the URL to check with HeadObject instead, which concurrent writers of one key can both pass", s.where)
	if err := put(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if code := apiCode(err); code == "NotImplemented" {
			return fmt.Errorf("%s: %w", unsupported, err)
		}
		if kindOf(err) == glacier.KindUnavailable {
			return glacier.Wrap(glacier.KindUnavailable, err, fmt.Sprintf("s3: writing a probe object to %s", s.where))
		}
		return fmt.Errorf("s3: writing a probe object to %s (write access is needed): %w", s.where, err)
	}
	err := put()
	if err == nil {
		return errors.New(unsupported + ": it ignored the header")
	}
	if kindOf(err) != glacier.KindConflict {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", unsupported, err)
	}
	return nil
}

// Delete removes the blob; a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.lock.enabled {
		return s.deleteVersions(ctx, key)
	}
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.cfg.Prefix + key),
	})
	if err != nil && kindOf(err) != glacier.KindNotFound {
		return fail(ctx, err, "delete blob "+key)
	}
	return nil
}

// List calls fn for every blob under the prefix, a page of ListObjectsV2
// at a time. Objects whose names are not keys (the probe, objects put by
// hand) are skipped.
func (s *Store) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket)}
	if s.cfg.Prefix != "" {
		in.Prefix = aws.String(s.cfg.Prefix)
	}
	pages := awss3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fail(ctx, err, "list blobs")
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.cfg.Prefix)
			if !ok || !validKey(key) {
				continue
			}
			if err := fn(key, aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

// head returns the object's metadata; a missing blob is KindNotFound.
func (s *Store) head(ctx context.Context, key string) (*awss3.HeadObjectOutput, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.cfg.Prefix + key),
	})
	if err != nil {
		if kindOf(err) == glacier.KindNotFound {
			return nil, notFound(key, err)
		}
		return nil, fail(ctx, err, "head blob "+key)
	}
	return out, nil
}

// storageClass is the class uploads carry ("" for the bucket's default).
func (s *Store) storageClass() types.StorageClass { return types.StorageClass(s.cfg.StorageClass) }
