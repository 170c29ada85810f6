package s3_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/permafrost/permafrost/internal/blob/s3"
)

func TestParseURL(t *testing.T) {
	def := func(c s3.Config) s3.Config {
		if c.Region == "" {
			c.Region = s3.DefaultRegion
		}
		c.ConditionalWrite = true
		return c
	}
	for _, tc := range []struct {
		url  string
		want s3.Config
	}{
		{"s3://bucket", def(s3.Config{Bucket: "bucket"})},
		{"s3://bucket/", def(s3.Config{Bucket: "bucket"})},
		{"s3://my.bucket-1/archives", def(s3.Config{Bucket: "my.bucket-1", Prefix: "archives/"})},
		{"s3://bucket/a/b/c/", def(s3.Config{Bucket: "bucket", Prefix: "a/b/c/"})},
		{"s3://bucket?region=eu-west-3", def(s3.Config{Bucket: "bucket", Region: "eu-west-3"})},
		{"s3://bucket?endpoint=http://127.0.0.1:7070", def(s3.Config{Bucket: "bucket", Endpoint: "http://127.0.0.1:7070", PathStyle: true})},
		{"s3://bucket?endpoint=https://s3.example.com/&path-style=false", def(s3.Config{Bucket: "bucket", Endpoint: "https://s3.example.com"})},
		{"s3://bucket?path-style=true", def(s3.Config{Bucket: "bucket", PathStyle: true})},
		{"s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A9000&path-style=true&region=us-east-1", def(s3.Config{Bucket: "bucket", Endpoint: "http://127.0.0.1:9000", PathStyle: true})},
		{"s3://bucket?storage-class=GLACIER_IR", def(s3.Config{Bucket: "bucket", StorageClass: "GLACIER_IR"})},
		{"s3://bucket?storage-class=STANDARD_IA", def(s3.Config{Bucket: "bucket", StorageClass: "STANDARD_IA"})},
		{"s3://bucket?storage-class=GLACIER", def(s3.Config{Bucket: "bucket", StorageClass: "GLACIER"})},
		{"s3://bucket?storage-class=deep_archive", def(s3.Config{Bucket: "bucket", StorageClass: "DEEP_ARCHIVE"})},
		{"s3://bucket?conditional-write=false", s3.Config{Bucket: "bucket", Region: s3.DefaultRegion}},
	} {
		got, err := s3.ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%s): %v", tc.url, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ParseURL(%s) (-want +got):\n%s", tc.url, d)
		}
		// String gives a URL that parses to the same configuration.
		again, err := s3.ParseURL(got.String())
		if err != nil {
			t.Errorf("ParseURL(%s) of String of %s: %v", got.String(), tc.url, err)
		} else if d := cmp.Diff(got, again); d != "" {
			t.Errorf("ParseURL(String()) of %s = %s (-want +got):\n%s", tc.url, got.String(), d)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct {
		url, want string // want: a part of the error message
	}{
		{"", "scheme must be s3"},
		{"bucket/prefix", "scheme must be s3"},
		{"http://bucket/prefix", "scheme must be s3"},
		{"s3:bucket", "want s3://bucket/prefix"},
		{"s3://", "no bucket"},
		{"s3:///prefix", "no bucket"},
		{"s3://ab", "3 to 63"},
		{"s3://" + strings.Repeat("a", 64), "3 to 63"},
		{"s3://Bucket", "lower-case"},
		{"s3://buck_et", "lower-case"},
		{"s3://-bucket", "begin and end"},
		{"s3://bucket.", "begin and end"},
		{"s3://a..b", "adjacent periods"},
		{"s3://bucket:9000", "port belongs to the endpoint"},
		{"s3://AKIA:secret@bucket", "credentials do not belong in the URL"},
		{"s3://bucket#frag", "fragment"},
		{"s3://bucket/a//b", "empty, . or .. segment"},
		{"s3://bucket/a/../b", "empty, . or .. segment"},
		{"s3://bucket/./b", "empty, . or .. segment"},
		{"s3://bucket/a%00b", "control character"},
		{"s3://bucket/" + strings.Repeat("p", 501), "longer than 500"},
		{"s3://bucket?regoin=us-east-1", `unknown parameter "regoin"`},
		{"s3://bucket?region=us-east-1&region=eu-west-1", "given 2 times"},
		{"s3://bucket?region=", "region"},
		{"s3://bucket?region=US_EAST", "region"},
		{"s3://bucket?endpoint=127.0.0.1:9000", "endpoint"},
		{"s3://bucket?endpoint=ftp://host", "endpoint"},
		{"s3://bucket?endpoint=http://", "endpoint"},
		{"s3://bucket?endpoint=http://host/path", "only scheme, host and port"},
		{"s3://bucket?endpoint=http://u:p@host", "only scheme, host and port"},
		{"s3://bucket?path-style=yes", "path-style"},
		{"s3://bucket?conditional-write=maybe", "conditional-write"},
		{"s3://bucket?storage-class=", "storage-class: empty"},
		{"s3://bucket?storage-class=NOT%20A%20CLASS", "class name"},
		{"s3://bucket?a=%zz", "invalid URL"},
	} {
		_, err := s3.ParseURL(tc.url)
		if err == nil {
			t.Errorf("ParseURL(%q): no error, want one mentioning %q", tc.url, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q): %v, want it to mention %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): the error shows the secret: %v", tc.url, err)
		}
	}
}
