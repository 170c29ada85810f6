package s3_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/permafrost/permafrost/internal/blob/blobtest"
	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// TestConformance runs the suite on a fresh bucket per subtest.
func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) glacier.BlobStore {
		s, _ := openBucket(t, "")
		return s
	})
}

// TestConformancePrefix runs it again with the blobs under a key prefix.
func TestConformancePrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) glacier.BlobStore {
		s, _ := openBucket(t, "/some/prefix")
		return s
	})
}

// openBucket opens a store on a new bucket (with path as the URL's path,
// the key prefix) and checks, when the test ends, that it left no
// multipart upload behind.
func openBucket(t *testing.T, path string) (*s3.Store, *awss3.Client) {
	t.Helper()
	b := testenv.S3(t)
	b.SetEnv(t)
	client := rawClient(b)
	t.Cleanup(func() { checkNoUploads(t, client, b.Name) })
	return mustOpen(t, withPath(b.URL, path)), client
}

// withPath puts path into an s3://bucket?query URL.
func withPath(u, path string) string {
	for i := range len(u) {
		if u[i] == '?' {
			return u[:i] + path + u[i:]
		}
	}
	return u + path
}

func mustOpen(t testing.TB, url string) *s3.Store {
	t.Helper()
	s, err := s3.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	return s
}

// rawClient is a plain SDK client of the bucket's server, to look behind
// the store's back.
func rawClient(b testenv.S3Bucket) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       b.Region,
		BaseEndpoint: aws.String(b.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, ""),
	})
}

// checkNoUploads fails the test if the bucket has incomplete multipart
// uploads: a failed Put must abort its upload.
func checkNoUploads(t testing.TB, client *awss3.Client, bucket string) {
	t.Helper()
	out, err := client.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Errorf("ListMultipartUploads: %v", err)
		return
	}
	for _, u := range out.Uploads {
		t.Errorf("multipart upload of %s left behind (%s)", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}
