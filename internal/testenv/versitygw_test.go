package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestS3Buckets(t *testing.T) {
	a, b := S3(t), S3(t)
	if a.Name == b.Name {
		t.Errorf("two buckets named %s", a.Name)
	}
	if a.Endpoint != b.Endpoint {
		t.Errorf("two servers (%s, %s), want one shared", a.Endpoint, b.Endpoint)
	}
	want := "s3://" + a.Name + "?endpoint=" + strings.ReplaceAll(strings.ReplaceAll(a.Endpoint, ":", "%3A"), "/", "%2F") + "&path-style=true&region=us-east-1"
	if a.URL != want {
		t.Errorf("URL = %s, want %s", a.URL, want)
	}
	// The bucket exists and is empty.
	c := vgwShared.gw.Client()
	out, err := c.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String(a.Name)})
	if err != nil {
		t.Fatalf("ListObjectsV2(%s): %v", a.Name, err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("new bucket holds %d objects", len(out.Contents))
	}
}

func TestS3URLSetsEnv(t *testing.T) {
	u := S3URL(t)
	if !strings.HasPrefix(u, "s3://pf-tests3urlsetsenv-") {
		t.Errorf("URL %s: want a bucket named after the test", u)
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") != vgwShared.gw.AccessKey || os.Getenv("AWS_SECRET_ACCESS_KEY") != vgwShared.gw.SecretKey {
		t.Errorf("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not the server's keys")
	}
}

func TestBucketNames(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range []string{"TestX", "TestX", "Test/Sub_Test#01", strings.Repeat("VeryLong", 20), "", "---"} {
		b := vgwBucketName(name)
		if len(b) < 3 || len(b) > 63 || seen[b] {
			t.Errorf("vgwBucketName(%q) = %q: invalid or repeated", name, b)
		}
		seen[b] = true
		for _, c := range b {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				t.Errorf("vgwBucketName(%q) = %q: bad character %q", name, b, c)
			}
		}
	}
}

// TestBucketCleanup: a bucket is deleted with its contents and its
// incomplete uploads when its test ends.
func TestBucketCleanup(t *testing.T) {
	gw := NewVersitygwServer(t)
	c := gw.Client()
	ctx := context.Background()
	var name string
	t.Run("uses", func(t *testing.T) {
		b := gw.Bucket(t)
		name = b.Name
		for _, k := range []string{"a", "b/c/d"} {
			if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(name), Key: aws.String("mp")}); err != nil {
			t.Fatal(err)
		}
	})
	_, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		t.Errorf("bucket %s still there after its test", name)
	}
}

// TestRestart: a server of the test's own keeps its data over Stop/Start
// and Kill/Start.
func TestRestart(t *testing.T) {
	gw := NewVersitygwServer(t)
	b := gw.Bucket(t)
	c := gw.Client()
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	for _, stop := range []func(testing.TB){gw.Stop, gw.Kill} {
		stop(t)
		if answers(gw.Endpoint) {
			t.Fatalf("server at %s answers after it was stopped", gw.Endpoint)
		}
		gw.Start(t)
		if _, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k")}); err != nil {
			t.Errorf("object after a restart: %v", err)
		}
	}
}

// TestNoLeftovers runs a test binary that starts the shared server and
// ends (normally, then by SIGKILL): the server must stop with it and its
// directory go.
func TestNoLeftovers(t *testing.T) {
	for _, how := range []string{"exit", "sigkill"} {
		t.Run(how, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSharedServer$", "-test.v")
			cmd.Env = append(os.Environ(), "PERMAFROST_TESTENV_HELPER="+how)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var endpoint, dir string
			sc := bufio.NewScanner(stdout)
			for (endpoint == "" || dir == "") && sc.Scan() {
				line := sc.Text()
				if i := strings.Index(line, "ENDPOINT="); i >= 0 {
					endpoint = line[i+len("ENDPOINT="):]
				}
				if i := strings.Index(line, "DIR="); i >= 0 {
					dir = line[i+len("DIR="):]
				}
			}
			if endpoint == "" || dir == "" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper printed no endpoint and directory")
			}
			if how == "sigkill" {
				if !answers(endpoint) {
					t.Fatalf("server not answering while the helper runs")
				}
				cmd.Process.Signal(syscall.SIGKILL)
			}
			go func() {
				for sc.Scan() {
				}
			}()
			cmd.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for {
				up := answers(endpoint)
				_, serr := os.Stat(dir)
				if !up && errors.Is(serr, os.ErrNotExist) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("10s after the helper ended: server answers: %v; directory %s remains: %v", up, dir, serr == nil)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func answers(endpoint string) bool {
	resp, err := http.Get(endpoint)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// TestHelperSharedServer is run by TestNoLeftovers in a process of its own.
func TestHelperSharedServer(t *testing.T) {
	how := os.Getenv("PERMAFROST_TESTENV_HELPER")
	if how == "" {
		return
	}
	S3(t)
	fmt.Printf("ENDPOINT=%s\nDIR=%s\n", vgwShared.gw.Endpoint, filepath.Dir(vgwShared.gw.root))
	if how == "sigkill" {
		time.Sleep(time.Minute) // killed long before
	}
}
