package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/glacier"
)

// S3 Object Lock (retention below the API).
//
// When the bucket has Object Lock enabled (object-lock=auto, the default,
// detects it with GetObjectLockConfiguration at Open; object-lock=required
// refuses to start without it; object-lock=off never uses it), the service
// puts every object of an archive in a vault with a retention floor under
// retention (Retain) in the mode of retention-mode= (COMPLIANCE unless
// GOVERNANCE is chosen for trials). A retention date is never shortened.
//
// Object Lock buckets are versioned, so Delete removes the object's
// versions by id rather than adding a delete marker (which would hide the
// object while keeping its bytes forever). A version still under retention
// cannot be removed: Delete leaves it in place and reports success, and the
// sweep, which still lists the object, deletes it once the retention date
// has passed. So nothing is lost before its date and nothing is left behind
// after it.

// lockState is what Open learnt about the bucket's Object Lock.
type lockState struct {
	enabled bool
	mode    types.ObjectLockRetentionMode
}

// parseObjectLock reads the object-lock= and retention-mode= parameters.
func (c *Config) parseObjectLock(name, v string) error {
	switch name {
	case "object-lock":
		switch v {
		case "auto", "required", "off":
			c.ObjectLock = v
		default:
			return fmt.Errorf("object-lock %q: want auto, required or off", v)
		}
	case "retention-mode":
		switch strings.ToUpper(v) {
		case "COMPLIANCE", "GOVERNANCE":
			c.RetentionMode = strings.ToUpper(v)
		default:
			return fmt.Errorf("retention-mode %q: want COMPLIANCE or GOVERNANCE", v)
		}
	}
	return nil
}

// objectLockQuery adds the object-lock parameters to q (for String).
func (c Config) objectLockQuery(q url.Values) {
	if c.ObjectLock != "" && c.ObjectLock != "auto" {
		q.Set("object-lock", c.ObjectLock)
	}
	if c.RetentionMode != "" && c.RetentionMode != "COMPLIANCE" {
		q.Set("retention-mode", c.RetentionMode)
	}
}

// detectObjectLock asks the bucket whether Object Lock is enabled, and
// fails when the URL requires it and it is not.
func (s *Store) detectObjectLock(ctx context.Context) error {
	if s.cfg.ObjectLock == "off" {
		return nil
	}
	s.lock.mode = types.ObjectLockRetentionModeCompliance
	if s.cfg.RetentionMode == "GOVERNANCE" {
		s.lock.mode = types.ObjectLockRetentionModeGovernance
	}
	out, err := s.client.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil && out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled {
		s.lock.enabled = true
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.cfg.ObjectLock == "required" {
		why := "it has no Object Lock configuration"
		if err != nil && apiCode(err) != "ObjectLockConfigurationNotFoundError" {
			why = err.Error()
		}
		return fmt.Errorf("s3: object-lock=required, but %s does not have S3 Object Lock enabled (%s): create the bucket with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket) or drop object-lock=required", s.where, why)
	}
	return nil
}

// ObjectLock reports whether the bucket keeps blobs under S3 Object Lock
// retention, and in which mode.
func (s *Store) ObjectLock() (bool, string) { return s.lock.enabled, string(s.lock.mode) }

// Retain puts the blob under retention until the given time (rounded up to
// a whole second), in the store's mode. A later date already set is kept:
// retention is never shortened (and a COMPLIANCE retention is never turned
// into GOVERNANCE). Without Object Lock it does nothing.
func (s *Store) Retain(ctx context.Context, key string, until time.Time) error {
	if !s.lock.enabled {
		return nil
	}
	if err := checkKey(key); err != nil {
		return err
	}
	until = until.UTC().Truncate(time.Second)
	if until.Before(time.Now()) {
		return nil // nothing to keep: the date has passed in S3's own time
	}
	cur, mode, err := s.Retention(ctx, key)
	if err != nil {
		return err
	}
	if !cur.Before(until.Add(-time.Second)) && (mode == s.lock.mode || mode == types.ObjectLockRetentionModeCompliance) {
		return nil
	}
	if cur.After(until) {
		until = cur
	}
	if mode == types.ObjectLockRetentionModeCompliance {
		mode = types.ObjectLockRetentionModeCompliance
	} else {
		mode = s.lock.mode
	}
	_, err = s.client.PutObjectRetention(ctx, &awss3.PutObjectRetentionInput{
		Bucket:    aws.String(s.cfg.Bucket),
		Key:       aws.String(s.cfg.Prefix + key),
		Retention: &types.ObjectLockRetention{Mode: mode, RetainUntilDate: aws.Time(until)},
	})
	if err != nil {
		if kindOf(err) == glacier.KindNotFound {
			return notFound(key, err)
		}
		return fail(ctx, err, "set retention of blob "+key)
	}
	return nil
}

// Retention returns the blob's current retention date and mode (zero
// when it has none).
func (s *Store) Retention(ctx context.Context, key string) (time.Time, types.ObjectLockRetentionMode, error) {
	h, err := s.head(ctx, key)
	if err != nil {
		return time.Time{}, "", err
	}
	return aws.ToTime(h.ObjectLockRetainUntilDate), types.ObjectLockRetentionMode(h.ObjectLockMode), nil
}

// deleteVersions removes every version (and delete marker) of the blob's
// object by id. Versions still under retention are refused by the server
// and stay; they are skipped, and the sweep tries again later.
func (s *Store) deleteVersions(ctx context.Context, key string) error {
	return s.deleteObjectVersions(ctx, s.cfg.Prefix+key, key)
}

// deleteObjectVersions is deleteVersions for the object name; key names it
// in errors.
func (s *Store) deleteObjectVersions(ctx context.Context, name, key string) error {
	pages := awss3.NewListObjectVersionsPaginator(s.client, &awss3.ListObjectVersionsInput{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(name),
	})
	type version struct{ id *string }
	var versions []version
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fail(ctx, err, "list versions of blob "+key)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == name {
				versions = append(versions, version{v.VersionId})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == name {
				versions = append(versions, version{m.VersionId})
			}
		}
	}
	for _, v := range versions {
		_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
			Bucket:    aws.String(s.cfg.Bucket),
			Key:       aws.String(name),
			VersionId: v.id,
		})
		switch {
		case err == nil, kindOf(err) == glacier.KindNotFound:
		case apiCode(err) == "AccessDenied":
			// Still under retention: the sweep removes it after its date.
		default:
			return fail(ctx, err, "delete blob "+key)
		}
	}
	return nil
}

// anchorDir is where audit anchors live under the prefix. Their names end
// in ".json", so they are never blob keys: List skips them and the sweep
// never touches them.
const anchorDir = "audit-anchors/"

// PutAnchor writes an audit anchor object, under retention until the given
// time when the bucket has Object Lock (and until is not zero). An anchor
// of that name that exists already is left as it is.
func (s *Store) PutAnchor(ctx context.Context, name string, body []byte, until time.Time) error {
	in := &awss3.PutObjectInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(s.cfg.Prefix + anchorDir + name + ".json"),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
	}
	if s.cfg.ConditionalWrite {
		in.IfNoneMatch = aws.String("*")
	}
	if s.lock.enabled && !until.IsZero() {
		in.ObjectLockMode = types.ObjectLockMode(s.lock.mode)
		in.ObjectLockRetainUntilDate = aws.Time(until.UTC().Truncate(time.Second).Add(time.Second))
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		if kindOf(err) == glacier.KindConflict {
			return nil
		}
		return fail(ctx, err, "write audit anchor "+name)
	}
	return nil
}

// ListAnchors calls fn with the name and content of every audit anchor.
func (s *Store) ListAnchors(ctx context.Context, fn func(name string, body []byte) error) error {
	prefix := s.cfg.Prefix + anchorDir
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fail(ctx, err, "list audit anchors")
		}
		for _, o := range page.Contents {
			name, ok := strings.CutSuffix(strings.TrimPrefix(aws.ToString(o.Key), prefix), ".json")
			if !ok {
				continue
			}
			out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: o.Key})
			if err != nil {
				return fail(ctx, err, "read audit anchor "+name)
			}
			body, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
			out.Body.Close()
			if err != nil {
				return fail(ctx, err, "read audit anchor "+name)
			}
			if err := fn(name, body); err != nil {
				return err
			}
		}
	}
	return nil
}
