package sigv4

import (
	"context"
	"net/http"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// typicalGET is a DescribeVault as aws-sdk-go-v2 sends it, in the server's view.
func typicalGET(b *testing.B) Request {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:9000/-/vaults/my-vault/jobs?limit=10&marker=abc", nil)
	req.Header.Set("X-Amz-Glacier-Version", "2012-06-01")
	req.Header.Set("X-Amz-Content-Sha256", EmptySHA256)
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/glacier#1.33.0")
	req.Header.Set("Amz-Sdk-Invocation-Id", "00000000-0000-4000-8000-000000000000")
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(false), req, EmptySHA256, "glacier", "us-east-1", signTime); err != nil {
		b.Fatal(err)
	}
	sr, _ := overTheWire(b, req)
	return fromHTTP(sr)
}

func BenchmarkVerify(b *testing.B) {
	r := typicalGET(b)
	a, err := Parse(r)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Regions: []string{"us-east-1"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Verify(r, testSecret, EmptySHA256, signTime, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVerify(b *testing.B) {
	r := typicalGET(b)
	opts := Options{Regions: []string{"us-east-1"}}
	b.ReportAllocs()
	for b.Loop() {
		a, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Verify(r, testSecret, EmptySHA256, signTime, opts); err != nil {
			b.Fatal(err)
		}
	}
}
