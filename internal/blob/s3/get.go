package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Open returns the blob's bytes [offset, offset+length), or to the end when
// length < 0, streamed from one ranged GetObject. An offset equal to the
// size gives an empty reader, an offset beyond it (or negative)
// KindInvalidParameter; both are told apart by a HeadObject after the
// server answered 416. A missing blob is KindNotFound.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "negative offset %d", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if length == 0 {
		// No range can ask for nothing: check the offset against the size.
		return s.emptyAt(ctx, key, offset, false)
	}
	in := &awss3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.cfg.Prefix + key),
	}
	if length > math.MaxInt64-offset {
		length = -1 // to the end, whatever the end is
	}
	if offset > 0 || length > 0 {
		end := ""
		if length > 0 {
			end = strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%s", offset, end))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		switch {
		case apiCode(err) == "InvalidRange":
			// The range starts at or past the end.
			return s.emptyAt(ctx, key, offset, true)
		case kindOf(err) == glacier.KindNotFound:
			return nil, notFound(key, err)
		}
		return nil, fail(ctx, err, "get blob "+key)
	}
	if in.Range != nil {
		start, ok := contentRangeStart(aws.ToString(out.ContentRange))
		if !ok && (offset > 0 || out.ContentRange != nil) || ok && start != offset {
			// Reading and discarding up to the offset is not an option.
			out.Body.Close()
			return nil, glacier.Errorf(glacier.KindInternal, "s3: get blob %s: asked for %s, got Content-Range %q", key, *in.Range, aws.ToString(out.ContentRange))
		}
	}
	rc := &reader{body: out.Body, r: out.Body, key: key}
	if length > 0 {
		// In case the server sent more than asked (a 200 for offset 0).
		rc.r = io.LimitReader(out.Body, length)
	}
	return rc, nil
}

// emptyAt returns an empty reader if offset is within the blob (atEnd:
// its very end) and an error otherwise.
func (s *Store) emptyAt(ctx context.Context, key string, offset int64, atEnd bool) (io.ReadCloser, error) {
	out, err := s.head(ctx, key)
	if err != nil {
		return nil, err
	}
	size := aws.ToInt64(out.ContentLength)
	if offset > size {
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "offset %d beyond the end of blob %s (%d bytes)", offset, key, size)
	}
	if atEnd && offset < size {
		return nil, glacier.Errorf(glacier.KindInternal, "s3: get blob %s: range from %d refused but the blob has %d bytes", key, offset, size)
	}
	return io.NopCloser(strings.NewReader("")), nil
}

// contentRangeStart parses the first byte position of "bytes a-b/c".
func contentRangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// reader is a GetObject body whose read errors are classified: a broken
// connection or a body cut short is KindUnavailable.
type reader struct {
	body io.ReadCloser
	r    io.Reader
	key  string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		var ge *glacier.Error
		if !errors.As(err, &ge) {
			err = glacier.Wrap(kindOf(err), err, "reading blob "+r.key)
		}
	}
	return n, err
}

func (r *reader) Close() error { return r.body.Close() }
