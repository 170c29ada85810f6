// Package selectout writes the objects of Glacier Select jobs (job.txt,
// results, manifests, errors) to an S3-compatible endpoint with
// aws-sdk-go-v2, applying each job's OutputLocation.S3 settings: storage
// class, tags, user metadata, and, where the target supports them,
// server-side encryption and ACLs.
package selectout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/internal/glacier"
)

// The environment variables holding the output endpoint's credentials,
// apart from the AWS_* ones a client of this server may have set.
const (
	EnvAccessKeyID     = "PERMAFROST_SELECT_ACCESS_KEY_ID"
	EnvSecretAccessKey = "PERMAFROST_SELECT_SECRET_ACCESS_KEY"
	EnvSessionToken    = "PERMAFROST_SELECT_SESSION_TOKEN"
)

// Config says where select output goes.
type Config struct {
	// Endpoint is the base URL of an S3-compatible server; "" means AWS.
	Endpoint  string
	Region    string
	PathStyle bool
	// Static credentials; when AccessKeyID is empty the standard AWS
	// credential chain is used.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// ParseURL parses s3://?endpoint=URL&region=R&path-style=B (every part
// optional) and takes the credentials from PERMAFROST_SELECT_ACCESS_KEY_ID
// and PERMAFROST_SELECT_SECRET_ACCESS_KEY.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "s3" || u.Opaque != "" || u.User != nil || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Host != "" {
		return Config{}, fmt.Errorf("invalid URL %q: want s3://?endpoint=URL&region=R (buckets come from each job's OutputLocation; credentials from %s and %s)", u.Redacted(), EnvAccessKeyID, EnvSecretAccessKey)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("invalid URL query: %w", err)
	}
	c := Config{Region: "us-east-1"}
	pathStyle := ""
	for k, v := range q {
		if len(v) != 1 {
			return Config{}, fmt.Errorf("parameter %s given %d times", k, len(v))
		}
		switch k {
		case "endpoint":
			e, err := url.Parse(v[0])
			if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.User != nil {
				return Config{}, fmt.Errorf("endpoint %q: want http://host[:port] or https://host[:port]", v[0])
			}
			c.Endpoint = e.Scheme + "://" + e.Host
		case "region":
			c.Region = v[0]
		case "path-style":
			pathStyle = v[0]
		default:
			return Config{}, fmt.Errorf("unknown parameter %q (known: endpoint, region, path-style)", k)
		}
	}
	c.PathStyle = c.Endpoint != ""
	if pathStyle != "" {
		if c.PathStyle, err = strconv.ParseBool(pathStyle); err != nil {
			return Config{}, fmt.Errorf("path-style %q: want true or false", pathStyle)
		}
	}
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = os.Getenv(EnvAccessKeyID), os.Getenv(EnvSecretAccessKey), os.Getenv(EnvSessionToken)
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return Config{}, fmt.Errorf("set both %s and %s, or neither", EnvAccessKeyID, EnvSecretAccessKey)
	}
	return c, nil
}

// Writer puts select output objects. It implements glacier.SelectOutput.
type Writer struct {
	// DescribeJob renders job.txt: the job's DescribeJob JSON, a wire form
	// internal/api owns (api.JobMessage, set where the server is
	// assembled); nil writes only the job and archive ids.
	DescribeJob func(glacier.Job) string

	client *awss3.Client
	where  string
	log    *slog.Logger
}

var (
	_ glacier.SelectOutput         = (*Writer)(nil)
	_ glacier.JobDescriptionWriter = (*Writer)(nil)
)

// New builds the S3 client of c. Nothing is contacted until a job writes.
func New(ctx context.Context, c Config, log *slog.Logger) (*Writer, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.Region)}
	if c.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("select output: loading the AWS configuration: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	w := &Writer{where: c.Endpoint, log: log}
	if w.where == "" {
		w.where = "AWS S3 in " + c.Region
	}
	w.client = awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
	})
	return w, nil
}

// Client returns the S3 client (tests read results back with it).
func (w *Writer) Client() *awss3.Client { return w.client }

// Put writes one object with the location's settings. When the target
// refuses the ACL or encryption settings as unsupported, the object is
// written without them and a warning logged.
func (w *Writer) Put(ctx context.Context, loc glacier.S3Location, key string, body []byte) error {
	in := &awss3.PutObjectInput{
		Bucket:        aws.String(loc.BucketName),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType(key)),
	}
	if loc.StorageClass != "" {
		in.StorageClass = types.StorageClass(loc.StorageClass)
	}
	if len(loc.UserMetadata) > 0 {
		in.Metadata = loc.UserMetadata
	}
	if len(loc.Tagging) > 0 {
		v := url.Values{}
		for k, t := range loc.Tagging {
			v.Set(k, t)
		}
		in.Tagging = aws.String(v.Encode())
	}
	optional := false
	if e := loc.Encryption; e != nil && e.EncryptionType != "" {
		optional = true
		in.ServerSideEncryption = types.ServerSideEncryption(e.EncryptionType)
		if e.KMSKeyId != "" {
			in.SSEKMSKeyId = aws.String(e.KMSKeyId)
		}
		if e.KMSContext != "" {
			in.SSEKMSEncryptionContext = aws.String(e.KMSContext)
		}
	}
	if loc.CannedACL != "" {
		optional = true
		in.ACL = types.ObjectCannedACL(loc.CannedACL)
	}
	if len(loc.AccessControlList) > 0 {
		optional = true
		grants := map[string][]string{}
		for _, g := range loc.AccessControlList {
			grants[g.Permission] = append(grants[g.Permission], grantee(g.Grantee))
		}
		join := func(p string) *string {
			if len(grants[p]) == 0 {
				return nil
			}
			return aws.String(strings.Join(grants[p], ", "))
		}
		in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP = join("FULL_CONTROL"), join("READ"), join("READ_ACP"), join("WRITE_ACP")
	}
	_, err := w.client.PutObject(ctx, in)
	if err != nil && optional && unsupported(err) {
		w.log.Warn("select output: the target does not support the job's ACL or encryption settings; writing without them", "bucket", loc.BucketName, "key", key, "err", err)
		in.ServerSideEncryption, in.SSEKMSKeyId, in.SSEKMSEncryptionContext, in.ACL = "", nil, nil, ""
		in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP = nil, nil, nil, nil
		in.Body = bytes.NewReader(body)
		_, err = w.client.PutObject(ctx, in)
	}
	if err != nil {
		msg := fmt.Sprintf("s3://%s/%s at %s", loc.BucketName, key, w.where)
		// Errors a retry will not fix are classified for the job runner,
		// which fails the job instead of trying again.
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "NoSuchBucket":
				return glacier.Wrap(glacier.KindNotFound, err, msg+": the bucket does not exist")
			case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
				return glacier.Wrap(glacier.KindAccessDenied, err, msg+": access denied")
			}
		}
		return fmt.Errorf("%s: %w", msg, err)
	}
	return nil
}

func contentType(key string) string {
	if strings.HasSuffix(key, ".csv") {
		return "text/csv"
	}
	return "text/plain; charset=utf-8"
}

func grantee(g *glacier.Grantee) string {
	switch g.Type {
	case "CanonicalUser":
		return `id="` + g.ID + `"`
	case "Group":
		return `uri="` + g.URI + `"`
	}
	return `emailAddress="` + g.EmailAddress + `"`
}

// unsupported reports whether err says the server lacks a feature.
func unsupported(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return slices.Contains([]string{"NotImplemented", "AccessControlListNotSupported", "InvalidEncryptionAlgorithmError", "KMS.NotFoundException", "InvalidArgument", "AccessDenied"}, ae.ErrorCode())
}

// PutJobDescription writes job.txt into the job's folder.
func (w *Writer) PutJobDescription(ctx context.Context, j glacier.Job) error {
	var text string
	if w.DescribeJob != nil {
		text = w.DescribeJob(j)
	} else {
		b, _ := json.Marshal(struct{ JobId, ArchiveId string }{j.ID, j.ArchiveID})
		text = string(b)
	}
	if j.Select == nil || j.Select.OutputLocation.S3 == nil {
		return errors.New("select output: the job has no S3 output location")
	}
	return w.Put(ctx, *j.Select.OutputLocation.S3, j.OutputPath()+"job.txt", []byte(text+"\n"))
}
