package s3

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Restores of archive storage classes. A store whose URL names GLACIER or
// DEEP_ARCHIVE is a glacier.Restorer: archive jobs ask it to restore the
// objects behind their range (one object per blob: a single upload's blob,
// or each part of a multipart upload, so a ranged retrieval restores only
// the parts it covers) and read the restored copies once it says Ready.
// Inventory snapshots and outputs are stored in the bucket's default class
// (PutReadable), so that metadata-only operations never wait.

var _ glacier.Restorer = (*Store)(nil)

// Archival reports whether the store's objects go to an archive class.
func (s *Store) Archival() bool {
	return slices.Contains(archivalClasses, s.cfg.StorageClass)
}

// PutReadable is Put without the archive class: the object gets the
// bucket's default class (STANDARD on AWS) and can be read at once.
func (s *Store) PutReadable(ctx context.Context, key string, r io.Reader) (int64, error) {
	if !s.Archival() {
		return s.Put(ctx, key, r)
	}
	return s.put(ctx, key, r, "")
}

// S3Tier maps a Glacier retrieval tier to the S3 restore tier for objects
// of class. DEEP_ARCHIVE has no Expedited tier: an Expedited job on it
// restores with Standard (within 12 hours on AWS), the fastest that class
// offers, rather than failing.
func S3Tier(class, tier string) types.Tier {
	switch tier {
	case "Expedited":
		if class == string(types.StorageClassDeepArchive) {
			return types.TierStandard
		}
		return types.TierExpedited
	case "Bulk":
		return types.TierBulk
	default:
		return types.TierStandard
	}
}

// Restore reports whether the blob can be read and, if not, asks for a
// restore of days days (reusing one in progress). See glacier.Restorer.
func (s *Store) Restore(ctx context.Context, key, tier string, days int) (glacier.RestoreState, error) {
	if err := checkKey(key); err != nil {
		return glacier.RestorePending, err
	}
	st, class, err := s.restoreState(ctx, key, days)
	if err != nil || st == glacier.RestoreReady || class == "" {
		return st, err
	}
	t := S3Tier(class, tier)
	_, err = s.client.RestoreObject(ctx, &awss3.RestoreObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.cfg.Prefix + key),
		RestoreRequest: &types.RestoreRequest{
			Days:                 aws.Int32(int32(days)),
			GlacierJobParameters: &types.GlacierJobParameters{Tier: t},
		},
	})
	if err != nil && apiCode(err) == "GlacierExpeditedRetrievalNotAvailable" {
		// AWS is out of Expedited capacity: Standard is the next best.
		t = types.TierStandard
		_, err = s.client.RestoreObject(ctx, &awss3.RestoreObjectInput{
			Bucket: aws.String(s.cfg.Bucket),
			Key:    aws.String(s.cfg.Prefix + key),
			RestoreRequest: &types.RestoreRequest{
				Days:                 aws.Int32(int32(days)),
				GlacierJobParameters: &types.GlacierJobParameters{Tier: t},
			},
		})
	}
	switch {
	case err == nil, apiCode(err) == "RestoreAlreadyInProgress":
	case kindOf(err) == glacier.KindNotFound:
		return glacier.RestorePending, notFound(key, err)
	default:
		return glacier.RestorePending, fail(ctx, err, "restore blob "+key)
	}
	// Servers that restore at once (and AWS for a restore already done)
	// make the object readable now.
	st, _, err = s.restoreState(ctx, key, days)
	return st, err
}

// restoreState reads the object's class and restore status: Ready when
// it is not archived or its restored copy exists (extending a copy that
// would expire too early), Pending with its class otherwise — class ""
// when a restore is already in progress.
func (s *Store) restoreState(ctx context.Context, key string, days int) (glacier.RestoreState, string, error) {
	out, err := s.head(ctx, key)
	if err != nil {
		return glacier.RestorePending, "", err
	}
	class := string(out.StorageClass)
	if !slices.Contains(archivalClasses, class) {
		return glacier.RestoreReady, "", nil
	}
	restore := aws.ToString(out.Restore)
	switch {
	case restore == "":
		return glacier.RestorePending, class, nil
	case strings.Contains(restore, `ongoing-request="true"`):
		return glacier.RestorePending, "", nil
	}
	// ongoing-request="false", expiry-date="Fri, 23 Dec 2026 00:00:00 GMT"
	if _, exp, ok := strings.Cut(restore, `expiry-date="`); ok {
		exp, _, _ = strings.Cut(exp, `"`)
		if t, err := time.Parse(time.RFC1123, exp); err == nil && t.Before(time.Now().Add(time.Duration(days-1)*24*time.Hour)) {
			// Extend the restored copy (a RestoreObject on a restored
			// object sets its new expiry); it stays readable meanwhile.
			s.client.RestoreObject(ctx, &awss3.RestoreObjectInput{
				Bucket:         aws.String(s.cfg.Bucket),
				Key:            aws.String(s.cfg.Prefix + key),
				RestoreRequest: &types.RestoreRequest{Days: aws.Int32(int32(days))},
			})
		}
	}
	return glacier.RestoreReady, "", nil
}
