package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/permafrost/permafrost/internal/glacier"
)

// apiErr is an error as the SDK returns it for an S3 error response:
// the status in a ResponseError, the code in an APIError, after the
// retryer's MaxAttemptsError when it was retried.
func apiErr(status int, code string) error {
	var err error = &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "GetObject",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      &smithy.GenericAPIError{Code: code, Message: "test"},
			},
			RequestID: "req",
		},
	}
	if status >= 500 {
		err = &retry.MaxAttemptsError{Attempt: 3, Err: err}
	}
	return err
}

// sendErr is an error as the SDK returns it when the request could not be
// sent or its response not received.
func sendErr(cause error) error {
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "PutObject",
		Err: &retry.MaxAttemptsError{Attempt: 3, Err: &smithyhttp.RequestSendError{
			Err: &url.Error{Op: "Put", URL: "http://127.0.0.1:1/b/k", Err: cause},
		}},
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestKindOf(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	for _, tc := range []struct {
		name string
		err  error
		want glacier.Kind
	}{
		{"NoSuchKey", apiErr(404, "NoSuchKey"), glacier.KindNotFound},
		{"HEAD 404", apiErr(404, "NotFound"), glacier.KindNotFound},
		{"404 with another code", apiErr(404, "Whatever"), glacier.KindNotFound},
		{"NoSuchBucket", apiErr(404, "NoSuchBucket"), glacier.KindUnavailable},
		{"PreconditionFailed", apiErr(412, "PreconditionFailed"), glacier.KindConflict},
		{"ConditionalRequestConflict", apiErr(409, "ConditionalRequestConflict"), glacier.KindConflict},
		{"SlowDown", apiErr(503, "SlowDown"), glacier.KindUnavailable},
		{"ServiceUnavailable", apiErr(503, "ServiceUnavailable"), glacier.KindUnavailable},
		{"InternalError", apiErr(500, "InternalError"), glacier.KindUnavailable},
		{"502 without code", apiErr(502, ""), glacier.KindUnavailable},
		{"429", apiErr(429, "TooManyRequests"), glacier.KindUnavailable},
		{"RequestTimeout", apiErr(400, "RequestTimeout"), glacier.KindUnavailable},
		{"AccessDenied", apiErr(403, "AccessDenied"), glacier.KindInternal},
		{"SignatureDoesNotMatch", apiErr(403, "SignatureDoesNotMatch"), glacier.KindInternal},
		{"InvalidObjectState", apiErr(403, "InvalidObjectState"), glacier.KindInternal},
		{"InvalidArgument", apiErr(400, "InvalidArgument"), glacier.KindInternal},
		{"connection refused", sendErr(refused), glacier.KindUnavailable},
		{"connection reset", sendErr(reset), glacier.KindUnavailable},
		{"timeout", sendErr(timeoutErr{}), glacier.KindUnavailable},
		{"EOF", sendErr(io.EOF), glacier.KindUnavailable},
		{"body cut short", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), glacier.KindUnavailable},
		{"anything else", errors.New("boom"), glacier.KindInternal},
	} {
		if got := kindOf(tc.err); got != tc.want {
			t.Errorf("%s: kindOf(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestFail(t *testing.T) {
	bg := context.Background()
	cancelled, cancel := context.WithCancel(bg)
	cancel()

	// A cancelled context gives the context's error, unwrapped.
	err := fail(cancelled, &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithy.CanceledError{Err: context.Canceled}}, "get blob k")
	if err != context.Canceled {
		t.Errorf("fail(cancelled) = %v, want context.Canceled itself", err)
	}
	// Not when the error has nothing to do with the context.
	if err := fail(cancelled, apiErr(404, "NoSuchKey"), "get blob k"); !glacier.IsNotFound(err) {
		t.Errorf("fail(cancelled ctx, NoSuchKey) = %v, want KindNotFound", err)
	}

	for _, tc := range []struct {
		err  error
		kind glacier.Kind
		msg  string
	}{
		{apiErr(404, "NoSuchKey"), glacier.KindNotFound, "get blob k: not found"},
		{apiErr(503, "SlowDown"), glacier.KindUnavailable, "get blob k: S3 storage unavailable"},
		{apiErr(412, "PreconditionFailed"), glacier.KindConflict, "get blob k: already exists"},
		{apiErr(403, "InvalidObjectState"), glacier.KindInternal, "must be restored"},
		{apiErr(403, "AccessDenied"), glacier.KindInternal, "s3: get blob k"},
	} {
		err := fail(bg, tc.err, "get blob k")
		var ge *glacier.Error
		if !errors.As(err, &ge) {
			t.Errorf("fail(%v) = %T, want a *glacier.Error", tc.err, err)
			continue
		}
		if ge.Kind != tc.kind {
			t.Errorf("fail(%v): kind %v, want %v", tc.err, ge.Kind, tc.kind)
		}
		if !strings.Contains(ge.Message, tc.msg) {
			t.Errorf("fail(%v): message %q, want it to contain %q", tc.err, ge.Message, tc.msg)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("fail(%v) lost its cause", tc.err)
		}
	}
}

func TestContentRangeStart(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes 0-9/100", 0, true},
		{"bytes 1048576-1048675/3000000", 1048576, true},
		{"bytes */100", 0, false},
		{"", 0, false},
		{"items 0-9/100", 0, false},
		{"bytes 12", 0, false},
	} {
		got, ok := contentRangeStart(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("contentRangeStart(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidKey(t *testing.T) {
	for _, key := range []string{"a", "a/b", "0-9/x-y/z", "abc-123"} {
		if !validKey(key) {
			t.Errorf("validKey(%q) = false", key)
		}
	}
	for _, key := range []string{"", "/", "/a", "a/", "a//b", ".", "..", "a/../b", "A", "a.b", "a_b", "a b", ".permafrost-probe-1", string(make([]byte, maxKeyLen+1))} {
		if validKey(key) {
			t.Errorf("validKey(%q) = true", key)
		}
	}
}
