package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/internal/glacier"
)

// ErrInvalidKey is wrapped by the error every method returns for a key
// outside the key syntax. It is a bug in the caller, hence unclassified
// (KindInternal).
var ErrInvalidKey = errors.New("s3: invalid blob key")

// transient recognizes what the SDK itself would retry: refused, reset
// and timed-out connections, 5xx responses, throttling (SlowDown, 429)
// and RequestTimeout.
var transient = retry.IsErrorRetryables(retry.DefaultRetryables)

// kindOf classifies an error of the SDK.
func kindOf(err error) glacier.Kind {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			// NotFound is what a HEAD's 404 (no body) becomes.
			return glacier.KindNotFound
		case "NoSuchBucket":
			// The store's own bucket is gone: the storage is unavailable,
			// not the blob missing.
			return glacier.KindUnavailable
		case "PreconditionFailed", "ConditionalRequestConflict":
			// If-None-Match: * lost to an existing object, or (AWS) to a
			// concurrent conditional write of the key.
			return glacier.KindConflict
		}
	}
	if transient.IsErrorRetryable(err) == aws.TrueTernary || errors.Is(err, io.ErrUnexpectedEOF) {
		return glacier.KindUnavailable
	}
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		switch code := st.HTTPStatusCode(); {
		case code == http.StatusNotFound:
			return glacier.KindNotFound
		case code == http.StatusPreconditionFailed:
			return glacier.KindConflict
		case code == http.StatusTooManyRequests, code >= 500:
			return glacier.KindUnavailable
		}
	}
	return glacier.KindInternal
}

// fail turns an error of the SDK met doing op (e.g. "get blob a/b") into
// the store's error: the context's own error when ctx ended (so that
// errors.Is(err, context.Canceled) holds), else a *glacier.Error whose
// message is safe to show a client and whose cause is the SDK's error.
func fail(ctx context.Context, err error, op string) error {
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return cerr
	}
	switch k := kindOf(err); k {
	case glacier.KindNotFound:
		return glacier.Wrap(k, err, op+": not found")
	case glacier.KindUnavailable:
		return glacier.Wrap(k, err, op+": S3 storage unavailable")
	case glacier.KindConflict:
		return glacier.Wrap(k, err, op+": already exists")
	default:
		if code := apiCode(err); code == "InvalidObjectState" {
			return glacier.Wrap(k, err, op+": the object is archived (GLACIER or DEEP_ARCHIVE, perhaps by a lifecycle rule) and must be restored before it can be read")
		}
		return glacier.Wrap(k, err, "s3: "+op)
	}
}

// apiCode returns the S3 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFound is the error for a missing blob.
func notFound(key string, err error) error {
	return glacier.Wrap(glacier.KindNotFound, err, "blob "+key+" not found")
}

// checkKey accepts segments of [a-z0-9-] separated by single slashes (the
// syntax of internal/blob/disk).
func checkKey(key string) error {
	if !validKey(key) {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	return nil
}

// maxKeyLen leaves room for a prefix within S3's 1024 bytes.
const maxKeyLen = 512

func validKey(key string) bool {
	return len(key) <= maxKeyLen && glacier.ValidBlobKey(key)
}
