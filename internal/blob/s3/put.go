package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/glacier"
)

const (
	// PartSize is the size of the parts of a multipart upload, and the
	// largest blob stored by a single PutObject. A Put holds at most two
	// such buffers: the part being uploaded and the one being read.
	PartSize = 8 << 20
	// maxParts is S3's limit on the parts of an upload: blobs are limited
	// to maxParts*PartSize (80 GiB; Glacier's own parts and single
	// uploads are at most 4 GiB).
	maxParts = 10000
	// nonceKey is the user metadata (x-amz-meta-permafrost-put) that
	// carries the Put's nonce: whether an object is this Put's own is
	// decided by it.
	nonceKey = "permafrost-put"
	// partChecksum is the checksum of every part, declared when the
	// upload is created (as the SDK's own upload manager does): the server
	// checks each part against it, and completing lists them.
	partChecksum = types.ChecksumAlgorithmCrc32
)

var partPool = sync.Pool{New: func() any { b := make([]byte, PartSize); return &b }}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// put is one call of Put.
type put struct {
	s     *Store
	key   string // the blob key
	name  string // the object key: prefix + key
	nonce string
	class types.StorageClass // the storage class the object gets
}

// Put stores everything read from r under key: a single PutObject when r
// ends within PartSize bytes, a multipart upload otherwise. See the package
// comment for how it never overwrites and what it leaves behind on failure.
// A read error of r, or the context's error, is returned as is; a key that
// exists gives KindConflict.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return s.put(ctx, key, r, s.storageClass())
}

// put is Put with the object's storage class.
func (s *Store) put(ctx context.Context, key string, r io.Reader, class types.StorageClass) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := &put{s: s, key: key, name: s.cfg.Prefix + key, nonce: newNonce(), class: class}
	buf := partPool.Get().(*[]byte)
	n, eof, err := fill(ctx, r, *buf)
	if err != nil {
		partPool.Put(buf)
		return int64(n), err
	}
	if eof {
		err = p.single(ctx, (*buf)[:n])
		partPool.Put(buf)
		return int64(n), err
	}
	return p.multipart(ctx, r, buf)
}

// fill reads from r until buf is full, r ends (eof) or fails; the context
// is checked before each read. Errors of r and ctx are returned unchanged.
func fill(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// metadata is the user metadata of the object: the nonce.
func (p *put) metadata() map[string]string { return map[string]string{nonceKey: p.nonce} }

// ifNoneMatch is the If-None-Match header of the final write: "*" when
// the server enforces it, nil when the store checks with HeadObject.
func (p *put) ifNoneMatch() *string {
	if p.s.cfg.ConditionalWrite {
		return aws.String("*")
	}
	return nil
}

// single stores data with one PutObject.
func (p *put) single(ctx context.Context, data []byte) error {
	if err := p.checkAbsent(ctx); err != nil {
		return err
	}
	err := p.finalWrite(ctx, func() error {
		_, err := p.s.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:        aws.String(p.s.cfg.Bucket),
			Key:           aws.String(p.name),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
			// The CRC32 protects the bytes in transit; see unsignedPayload.
			ChecksumAlgorithm: partChecksum,
			IfNoneMatch:       p.ifNoneMatch(),
			Metadata:          p.metadata(),
			StorageClass:      p.class,
		}, unsignedPayload)
		return err
	})
	if err != nil {
		return p.settle(ctx, err)
	}
	return nil
}

// multipart uploads first (full) and the rest of r as a multipart upload,
// reading the next part while the previous one is sent.
func (p *put) multipart(ctx context.Context, r io.Reader, first *[]byte) (total int64, err error) {
	s := p.s
	created, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.cfg.Bucket),
		Key:               aws.String(p.name),
		Metadata:          p.metadata(),
		StorageClass:      p.class,
		ChecksumAlgorithm: partChecksum,
	})
	if err != nil {
		partPool.Put(first)
		return 0, fail(ctx, err, "put blob "+p.key)
	}
	uploadID := created.UploadId
	done := false
	defer func() {
		if !done {
			p.abort(ctx, uploadID)
		}
	}()

	// Parts are sent under uctx so that a failed read stops the upload in
	// flight at once.
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		part types.CompletedPart
		err  error
	}
	var parts []types.CompletedPart
	cur, curLen, eof := first, PartSize, false
	for num := int32(1); ; num++ {
		if num > maxParts {
			partPool.Put(cur)
			return total, glacier.Errorf(glacier.KindInvalidParameter, "blob %s is larger than %d bytes", p.key, int64(maxParts)*PartSize)
		}
		sent := make(chan result, 1)
		go func(b []byte) {
			part, err := p.uploadPart(uctx, uploadID, num, b)
			sent <- result{part, err}
		}((*cur)[:curLen])

		var next *[]byte
		var n int
		var rerr error
		if !eof {
			next = partPool.Get().(*[]byte)
			n, eof, rerr = fill(ctx, r, *next)
			if rerr != nil {
				cancel()
			}
		}
		res := <-sent
		partPool.Put(cur)
		if rerr != nil {
			partPool.Put(next)
			return total + int64(curLen) + int64(n), rerr
		}
		if res.err != nil {
			if next != nil {
				partPool.Put(next)
			}
			return total, fail(ctx, res.err, "put blob "+p.key)
		}
		parts = append(parts, res.part)
		total += int64(curLen)
		if next == nil {
			break
		}
		if n == 0 {
			partPool.Put(next)
			break
		}
		cur, curLen = next, n
	}

	// Last chance to honour a cancellation: once completed, the blob exists.
	if err := ctx.Err(); err != nil {
		return total, err
	}
	if err := p.checkAbsent(ctx); err != nil {
		return total, err
	}
	err = p.finalWrite(ctx, func() error {
		_, err := s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket:          aws.String(s.cfg.Bucket),
			Key:             aws.String(p.name),
			UploadId:        uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			IfNoneMatch:     p.ifNoneMatch(),
		})
		return err
	})
	if err != nil {
		if err := p.settle(ctx, err); err != nil {
			return total, err
		}
	}
	done = true
	return total, nil
}

// uploadPart sends one part and returns what completing needs of it: its
// number, ETag and CRC32.
func (p *put) uploadPart(ctx context.Context, uploadID *string, num int32, b []byte) (types.CompletedPart, error) {
	out, err := p.s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket:            aws.String(p.s.cfg.Bucket),
		Key:               aws.String(p.name),
		UploadId:          uploadID,
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(b),
		ContentLength:     aws.Int64(int64(len(b))),
		ChecksumAlgorithm: partChecksum,
	}, unsignedPayload)
	if err != nil {
		return types.CompletedPart{}, err
	}
	return types.CompletedPart{
		PartNumber:    aws.Int32(num),
		ETag:          out.ETag,
		ChecksumCRC32: out.ChecksumCRC32,
	}, nil
}

// abort drops the multipart upload and its parts, also when ctx has ended;
// a failure leaves an invisible incomplete upload (see the package comment).
func (p *put) abort(ctx context.Context, uploadID *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	p.s.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
		Bucket:   aws.String(p.s.cfg.Bucket),
		Key:      aws.String(p.name),
		UploadId: uploadID,
	})
}

// retryableConflict reports whether a 409 code asks for the write again.
func retryableConflict(code string) bool {
	return code == "ConditionalRequestConflict" || code == "ExistingObjectIsDirectory"
}

// conflictRetries is how many times a final write is tried again after
// 409 ConditionalRequestConflict.
const conflictRetries = 3

// finalWrite runs the final write, again after a short pause when AWS
// answers 409 ConditionalRequestConflict: a conditional write of the same
// key was in flight, and AWS asks for a retry (the SDK does not retry 409)
// rather than deciding the race. Once the other write is done the retry
// gets its definite answer.
//
// versitygw's posix backend also answers 409 ExistingObjectIsDirectory for
// a key whose sibling in the same directory is being deleted at that moment
// (a race inside its directory handling, seen in the conformance suite's
// concurrent put/delete); blob keys are never prefixes of one another, so
// the answer is transient and the write is tried again.
func (p *put) finalWrite(ctx context.Context, write func() error) error {
	pause := 100 * time.Millisecond
	for i := 0; ; i++ {
		err := write()
		if err == nil || i == conflictRetries || !retryableConflict(apiCode(err)) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// checkAbsent is the best-effort check of conditional-write=false: a
// HeadObject before the final write. With conditional writes it does
// nothing; the server refuses the write instead.
func (p *put) checkAbsent(ctx context.Context) error {
	if p.s.cfg.ConditionalWrite {
		return nil
	}
	_, err := p.s.head(ctx, p.key)
	switch {
	case err == nil:
		return glacier.Errorf(glacier.KindConflict, "blob %s already exists", p.key)
	case glacier.IsNotFound(err):
		return nil
	default:
		return err
	}
}

// settle decides what a failed final write (PutObject or
// CompleteMultipartUpload) means, by looking at what the key holds now:
//
//   - the context ended: the Put fails with the context's error, so the
//     object must not stay: if it is this Put's (the server completed the
//     request before the cancellation reached it), it is deleted;
//   - the key holds this Put's object (nonce): an earlier attempt of the
//     SDK's retries succeeded and its response was lost (the retry then
//     met If-None-Match, or found the upload gone): the Put succeeded;
//   - otherwise the error stands: KindConflict when another object holds
//     the key, KindUnavailable when the server could not be reached...
func (p *put) settle(ctx context.Context, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	ours := false
	if out, herr := p.s.head(cctx, p.key); herr == nil {
		ours = out.Metadata[nonceKey] == p.nonce
	}
	if cerr := ctx.Err(); cerr != nil {
		if ours {
			p.s.client.DeleteObject(cctx, &awss3.DeleteObjectInput{Bucket: aws.String(p.s.cfg.Bucket), Key: aws.String(p.name)})
		}
		return cerr
	}
	if ours {
		return nil
	}
	if kindOf(err) == glacier.KindConflict {
		return glacier.Wrap(glacier.KindConflict, err, "blob "+p.key+" already exists")
	}
	return fail(ctx, err, "put blob "+p.key)
}

// unsignedPayload signs a PutObject or UploadPart without the body's
// SHA-256 (UNSIGNED-PAYLOAD): the service has already hashed the bytes
// once for the tree hash and the client's signature, and the CRC32 the
// request carries protects them in transit, so the SDK need not read and
// hash every part a second time.
func unsignedPayload(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}
