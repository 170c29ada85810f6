package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// versitygw for the pg-s3-* configurations, the way internal/testenv's
// versitygw.go does it: `ROOT_ACCESS_KEY=… ROOT_SECRET_KEY=… versitygw
// --port 127.0.0.1:PORT posix DIR`, the bucket made with the S3 API. Each
// configuration starts its own gateway on a new directory under the run's
// data dir (the data disk, like the embedded store's files), so its bucket
// is new, and stops it and removes the directory at the end.

const (
	versitygwVersion = "v1.8.0"
	versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@" + versitygwVersion
	s3Region         = "us-east-1"
	benchBucket      = "permafrost-bench"
	s3AccessKey      = "PERMAFROSTBENCHS3"
	s3SecretKey      = "permafrost-bench-versitygw-secret"
)

// versitygwBinary finds versitygw ($PERMAFROST_TEST_VERSITYGW, PATH,
// $GOBIN or $GOPATH/bin) or installs it with go install, as the tests do.
func versitygwBinary(ctx context.Context, logf func(string, ...any)) (string, error) {
	if p := os.Getenv("PERMAFROST_TEST_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	gobin := ""
	if len(lines) == 2 {
		gobin = lines[0]
		if gobin == "" {
			if gp := filepath.SplitList(lines[1]); len(gp) > 0 && gp[0] != "" {
				gobin = filepath.Join(gp[0], "bin")
			}
		}
	}
	if gobin == "" {
		return "", fmt.Errorf("versitygw not found; install it with %s", versitygwInstall)
	}
	p := filepath.Join(gobin, "versitygw")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p, nil
	}
	logf("installing versitygw %s into %s (some minutes the first time)", versitygwVersion, gobin)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/versity/versitygw/cmd/versitygw@"+versitygwVersion)
	cmd.Dir = os.TempDir() // outside any module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("installing versitygw failed (run %s): %v\n%s", versitygwInstall, err, tail(out))
	}
	return p, nil
}

// versitygwModVersion is the module version the binary was built from.
func versitygwModVersion(bin string) string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/versity/versitygw" {
				return f[2]
			}
		}
	}
	return "unknown version"
}

// gateway is one running versitygw with its bucket.
type gateway struct {
	proc      *proc
	root      string
	endpoint  string // http://127.0.0.1:PORT
	bucketURL string // for --blobs
}

// startGateway starts versitygw on a new directory dir/root and creates the
// bucket.
func startGateway(ctx context.Context, bin, dir, logPath string) (*gateway, error) {
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	endpoint := "http://" + addr
	cmd := exec.Command(bin, "--port", addr, "--region", s3Region, "--quiet", "posix", root)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") { // they would override the flags
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "ROOT_ACCESS_KEY="+s3AccessKey, "ROOT_SECRET_KEY="+s3SecretKey)
	p, err := startProcWith(ctx, "versitygw", cmd, endpoint, logPath, httpAnswers)
	if err != nil {
		return nil, err
	}
	client := awss3.New(awss3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
	})
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := client.CreateBucket(cctx, &awss3.CreateBucketInput{Bucket: aws.String(benchBucket)}); err != nil {
		p.stop()
		return nil, fmt.Errorf("creating bucket %s on versitygw: %w", benchBucket, err)
	}
	q := url.Values{"endpoint": {endpoint}, "path-style": {"true"}, "region": {s3Region}}
	return &gateway{proc: p, root: dir, endpoint: endpoint, bucketURL: "s3://" + benchBucket + "/pf?" + q.Encode()}, nil
}

// stop stops versitygw and removes its files.
func (g *gateway) stop() error {
	if g == nil {
		return nil
	}
	err := g.proc.stop()
	return errors.Join(err, os.RemoveAll(g.root))
}

// s3Env is the environment a permafrost node reads the bucket's keys from,
// and nothing else of the operator's AWS configuration.
func s3Env() []string {
	none := filepath.Join(os.TempDir(), "permafrost-bench-no-aws-config")
	return []string{
		"AWS_ACCESS_KEY_ID=" + s3AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s3SecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// httpAnswers is ready when the server answers HTTP at all (an anonymous
// request is refused, which is an answer).
func httpAnswers(ctx context.Context, p *proc) error {
	c := &http.Client{Timeout: 2 * time.Second}
	req, err := http.NewRequestWithContext(ctx, "GET", p.url+"/", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
