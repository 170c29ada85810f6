package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/permafrost/permafrost/internal/blob/blobtest"
	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

func TestOpenChecksBucket(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	ctx := context.Background()
	q := "?endpoint=" + b.Endpoint + "&region=" + b.Region

	_, err := s3.Open(ctx, "s3://no-such-bucket-here"+q)
	if err == nil || !glacier.IsNotFound(err) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing bucket: %v (kind %v), want KindNotFound saying it does not exist", err, glacier.KindOf(err))
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = s3.Open(ctx, "s3://"+b.Name+"?endpoint=http://"+closed)
	if glacier.KindOf(err) != glacier.KindUnavailable || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("Open with nothing listening: %v (kind %v), want KindUnavailable saying unreachable", err, glacier.KindOf(err))
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong"+b.SecretKey)
	_, err = s3.Open(ctx, b.URL)
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("Open with a wrong secret: %v, want access denied", err)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err = s3.Open(ctx, b.URL)
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Errorf("Open without credentials: %v, want no AWS credentials", err)
	}
}

// TestObjectLayout looks at the bucket behind the store's back: blobs are
// objects under the prefix carrying the Put's nonce; List sees only keys
// under the prefix, and not the objects whose names are not keys.
func TestObjectLayout(t *testing.T) {
	s, client := openBucket(t, "/pre/fix")
	bucket := s.Config().Bucket
	ctx := context.Background()
	blobtest.Put(t, s, "a/b", []byte("ab"))
	blobtest.Put(t, s, "big", blobtest.RandomBytes(1, s3.PartSize+1))

	for _, name := range []string{"pre/fix/a/b", "pre/fix/big"} {
		out, err := client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(name)})
		if err != nil {
			t.Fatalf("HeadObject(%s): %v", name, err)
		}
		if len(out.Metadata["permafrost-put"]) != 32 {
			t.Errorf("%s: metadata %v, want a permafrost-put nonce", name, out.Metadata)
		}
	}
	for _, name := range []string{"other/x", "pre/x", "pre/fix/UPPER", "pre/fix/a.b", "pre/fix/.permafrost-probe-1"} {
		if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(name), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("PutObject(%s): %v", name, err)
		}
	}
	if got, want := blobtest.Keys(t, s), []string{"a/b", "big"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("pre/fix/a/b")}); err == nil {
		t.Errorf("pre/fix/a/b still there after Delete")
	}
}

func TestPutExistingIsConflict(t *testing.T) {
	s, _ := openBucket(t, "")
	ctx := context.Background()
	for _, size := range []int{10, s3.PartSize + 10} {
		key := fmt.Sprintf("k%d", size)
		first := blobtest.RandomBytes(1, size)
		blobtest.Put(t, s, key, first)
		_, err := s.Put(ctx, key, bytes.NewReader(blobtest.RandomBytes(2, size)))
		if k := glacier.KindOf(err); k != glacier.KindConflict {
			t.Errorf("Put of an existing %d-byte key: err %v of kind %v, want %v", size, err, k, glacier.KindConflict)
		}
		if got := blobtest.Read(t, s, key, 0, -1); !bytes.Equal(got, first) {
			t.Errorf("%s changed by the refused Put", key)
		}
	}
}

// TestFailedMultipartPut: a multipart Put that fails (reader error, context
// cancelled) leaves neither a blob nor an upload (checked by openBucket).
func TestFailedMultipartPut(t *testing.T) {
	s, _ := openBucket(t, "")
	fail := errors.New("reader fails")
	for _, at := range []int64{s3.PartSize, s3.PartSize + 1, 2*s3.PartSize + 12345} {
		key := fmt.Sprintf("fail/at-%d", at)
		r := io.MultiReader(blobtest.NewPatternReader(at), iotest.ErrReader(fail))
		n, err := s.Put(context.Background(), key, r)
		if !errors.Is(err, fail) {
			t.Errorf("Put(%s): err %v, want the reader's", key, err)
		}
		if n != at {
			t.Errorf("Put(%s) = %d bytes, want the %d read", key, n, at)
		}
		blobtest.NotVisible(t, s, key)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: blobtest.NewPatternReader(4 * s3.PartSize), after: 2*s3.PartSize + 100, cancel: cancel}
	if _, err := s.Put(ctx, "fail/cancelled", r); !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled in the third part: err %v, want context.Canceled", err)
	}
	blobtest.NotVisible(t, s, "fail/cancelled")
	if got := blobtest.Keys(t, s); len(got) != 0 {
		t.Errorf("List = %q, want nothing", got)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int64
	after  int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestLostResponse: when the server stores the object but its answer is
// lost, the SDK's retry meets If-None-Match (or a completed upload); the
// nonce tells the Put that the object is its own, so it succeeds.
func TestLostResponse(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	p := newProxy(t, strings.TrimPrefix(b.Endpoint, "http://"))
	s := mustOpen(t, p.url(b))
	t.Cleanup(func() { checkNoUploads(t, rawClient(b), b.Name) })
	for _, size := range []int{1000, 2*s3.PartSize + 7} {
		key := fmt.Sprintf("lost/%d", size)
		data := blobtest.RandomBytes(uint64(size), size)
		p.set(func(p *proxy) { p.dropFinal = 1 })
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
			t.Errorf("Put(%s) whose first answer was lost: %v", key, err)
			continue
		}
		p.set(func(p *proxy) {
			if p.dropFinal != 0 {
				t.Errorf("Put(%s): no answer was dropped", key)
			}
		})
		if got := blobtest.Read(t, s, key, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Open(%s): wrong bytes", key)
		}
	}
	// The nonce is what tells: a key held by another Put stays a conflict.
	blobtest.Put(t, s, "lost/other", []byte("first"))
	p.set(func(p *proxy) { p.dropFinal = 1 })
	if _, err := s.Put(context.Background(), "lost/other", strings.NewReader("second")); glacier.KindOf(err) != glacier.KindConflict {
		t.Errorf("Put of an existing key with its answer lost: %v, want KindConflict", err)
	}
	if got := blobtest.Read(t, s, "lost/other", 0, -1); string(got) != "first" {
		t.Errorf("lost/other = %q, want first", got)
	}
}

// TestConditionalRequestConflict: AWS answers 409 ConditionalRequestConflict
// while another conditional write of the key is in flight; the Put tries
// again, a few times.
func TestConditionalRequestConflict(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	p := newProxy(t, strings.TrimPrefix(b.Endpoint, "http://"))
	s := mustOpen(t, p.url(b))
	for _, size := range []int{1000, s3.PartSize + 7} {
		key := fmt.Sprintf("k%d", size)
		data := blobtest.RandomBytes(uint64(size), size)
		p.set(func(p *proxy) { p.conflictFinal = 2 })
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
			t.Errorf("Put(%s) after two 409s: %v", key, err)
		}
		if got := blobtest.Read(t, s, key, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Open(%s): wrong bytes", key)
		}
		// Past the retries, the conflict stands.
		p.set(func(p *proxy) { p.conflictFinal = 10 })
		_, err := s.Put(context.Background(), key+"-again", bytes.NewReader(data))
		if k := glacier.KindOf(err); k != glacier.KindConflict {
			t.Errorf("Put(%s-again) answered 409 every time: %v (kind %v), want KindConflict", key, err, k)
		}
		blobtest.NotVisible(t, s, key+"-again")
		p.set(func(p *proxy) { p.conflictFinal = 0 })
	}
	checkNoUploads(t, rawClient(b), b.Name)
}

// TestRangedGet checks on the wire that Open asks for its range only.
func TestRangedGet(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	p := newProxy(t, strings.TrimPrefix(b.Endpoint, "http://"))
	s := mustOpen(t, p.url(b))
	const size = 20 << 20
	blobtest.Put(t, s, "blob", blobtest.RandomBytes(9, size))
	for _, tc := range []struct {
		offset, length int64
		rangeHeader    string
		bytes          int64
	}{
		{0, -1, "", size},
		{15 << 20, 100, "bytes=15728640-15728739", 100},
		{size - 10, -1, "bytes=20971510-", 10},
		{size - 10, 1000, "bytes=20971510-20972509", 10},
		{0, 1, "bytes=0-0", 1},
		{10, math.MaxInt64, "bytes=10-", size - 10},
	} {
		p.takeGets()
		got := blobtest.Read(t, s, "blob", tc.offset, tc.length)
		if int64(len(got)) != tc.bytes {
			t.Errorf("Open(%d, %d) = %d bytes, want %d", tc.offset, tc.length, len(got), tc.bytes)
		}
		gets := p.takeGets()
		if len(gets) != 1 || gets[0].rangeHeader != tc.rangeHeader || gets[0].bytes != tc.bytes {
			t.Errorf("Open(%d, %d) sent %+v, want one GET with Range %q answered with %d bytes", tc.offset, tc.length, gets, tc.rangeHeader, tc.bytes)
		}
	}
	// At the end: the 416 is told apart by a HEAD, nothing is transferred.
	p.takeGets()
	if got := blobtest.Read(t, s, "blob", size, -1); len(got) != 0 {
		t.Errorf("Open(size) = %d bytes, want none", len(got))
	}
	for _, g := range p.takeGets() {
		if g.bytes > 1000 {
			t.Errorf("Open(size): a GET transferred %d bytes", g.bytes)
		}
	}
}

// TestWithoutConditionalWrites: a server that refuses or ignores
// If-None-Match makes Open fail and say what to do; with
// conditional-write=false the store checks with HeadObject instead.
func TestWithoutConditionalWrites(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	p := newProxy(t, strings.TrimPrefix(b.Endpoint, "http://"))
	p.set(func(p *proxy) { p.refuseConditional = true })
	_, err := s3.Open(context.Background(), p.url(b))
	if err == nil || !strings.Contains(err.Error(), "conditional-write=false") {
		t.Fatalf("Open on a server without conditional writes: %v, want an error advising conditional-write=false", err)
	}
	p.set(func(p *proxy) { p.refuseConditional, p.ignoreConditional = false, true })
	_, err = s3.Open(context.Background(), p.url(b))
	if err == nil || !strings.Contains(err.Error(), "ignored the header") {
		t.Fatalf("Open on a server ignoring If-None-Match: %v, want an error saying so", err)
	}
	s := mustOpen(t, p.url(b)+"&conditional-write=false")
	for _, size := range []int{10, s3.PartSize + 10} {
		key := fmt.Sprintf("k%d", size)
		blobtest.Put(t, s, key, blobtest.RandomBytes(1, size))
		_, err := s.Put(context.Background(), key, bytes.NewReader(blobtest.RandomBytes(2, size)))
		if k := glacier.KindOf(err); k != glacier.KindConflict {
			t.Errorf("Put of an existing %d-byte key: err %v of kind %v, want %v", size, err, k, glacier.KindConflict)
		}
		if got := blobtest.Read(t, s, key, 0, -1); !bytes.Equal(got, blobtest.RandomBytes(1, size)) {
			t.Errorf("%s changed by the refused Put", key)
		}
	}
	checkNoUploads(t, rawClient(b), b.Name)
}

func TestStorageClass(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	s := mustOpen(t, b.URL+"&storage-class=STANDARD")
	for _, size := range []int{10, s3.PartSize + 10} {
		key := fmt.Sprintf("k%d", size)
		data := blobtest.RandomBytes(3, size)
		blobtest.Put(t, s, key, data)
		if got := blobtest.Read(t, s, key, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("%s: wrong bytes", key)
		}
	}
}
