package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// The S3 engine is versitygw (github.com/versity/versitygw), an S3 gateway
// whose posix backend keeps buckets as directories: one static binary, no
// setup, and the conditional writes (If-None-Match: *) that
// internal/blob/s3 relies on.
//
// Finding it: $PERMAFROST_TEST_VERSITYGW (a path), else versitygw on PATH,
// else in $GOBIN or $GOPATH/bin, else it is installed there with
// VersitygwInstall (some minutes the first time). If that fails the test
// fails with the command to run; it never skips.
//
// Stopping it: versitygw runs under a small sh wrapper whose stdin is a
// pipe from the test binary. When the test binary exits, however it exits
// (tests done, panic, timeout, SIGKILL), the pipe closes, the wrapper kills
// versitygw and removes the server's temporary directory. So no TestMain is
// needed and no versitygw outlives its test binary.
const (
	// VersitygwVersion is the version installed when none is found.
	VersitygwVersion = "v1.8.0"
	// VersitygwInstall installs it into $GOBIN (default $GOPATH/bin).
	VersitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@" + VersitygwVersion
	// VersitygwEnv names a versitygw binary to use instead of searching.
	VersitygwEnv = "PERMAFROST_TEST_VERSITYGW"
	// S3Region is the region of the test servers.
	S3Region = "us-east-1"
)

// vgwWrapper runs "$@" (versitygw) until a line arrives on stdin ("kill":
// SIGKILL, else SIGTERM) or stdin closes (SIGKILL: the test binary is
// gone), then removes $1 unless it is empty, and exits with versitygw's
// status. Asynchronous commands get /dev/null as stdin, so the watcher
// reads the pipe through fd 3. The shell's own stderr goes to /dev/null:
// once the test binary is gone its report of the killed job would meet a
// closed pipe, and SIGPIPE would end the shell before the rm.
const vgwWrapper = `rmdir=$1; shift
exec 3<&0 4>&2 2>/dev/null
"$@" </dev/null 2>&4 3<&- 4>&- &
gw=$!
( sig=KILL; if read -r cmd <&3 && [ "$cmd" != kill ]; then sig=TERM; fi; kill -s "$sig" "$gw" ) </dev/null 4>&- &
watcher=$!
exec 3<&- 4>&-
wait "$gw"; status=$?
kill "$watcher"
[ -z "$rmdir" ] || rm -rf "$rmdir"
exit "$status"
`

// VersitygwServer is a versitygw server with the posix backend, listening on
// 127.0.0.1. Its root user's keys are AccessKey and SecretKey.
type VersitygwServer struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string

	bin    string
	root   string // the posix backend's directory
	rmdir  string // removed by the wrapper when versitygw ends ("" none)
	addr   string
	client *awss3.Client

	mu   sync.Mutex
	proc *gwProcess

	// versioningDir, if set, enables bucket versioning (and with it S3
	// Object Lock) in the posix backend (objectlock.go).
	versioningDir string
}

// gwProcess is one run of the wrapper.
type gwProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *vgwTail
	exited chan struct{}
}

// S3Bucket is a fresh bucket of a versitygw server and what a client needs
// to reach it.
type S3Bucket struct {
	// URL is the bucket's URL for internal/blob/s3.Open:
	// s3://NAME?endpoint=http://127.0.0.1:PORT&path-style=true&region=us-east-1.
	URL       string
	Name      string
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

var vgwShared struct {
	mu   sync.Mutex
	done bool
	gw   *VersitygwServer
	err  error
}

var vgwBucketSeq atomic.Int64

// S3 returns a new, empty bucket of the test binary's shared versitygw
// server (started at the first call), deleted with its contents when the
// test ends.
func S3(t testing.TB) S3Bucket {
	t.Helper()
	vgwShared.mu.Lock()
	if !vgwShared.done {
		vgwShared.gw, vgwShared.err = startSharedVersitygw(t)
		vgwShared.done = true
	}
	gw, err := vgwShared.gw, vgwShared.err
	vgwShared.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return gw.Bucket(t)
}

// S3URL returns the URL of a new bucket (see S3) and sets the AWS
// environment (SetEnv) so that internal/blob/s3.Open finds its
// credentials. Like t.Setenv it cannot be used in parallel tests.
func S3URL(t testing.TB) string {
	t.Helper()
	b := S3(t)
	b.SetEnv(t)
	return b.URL
}

// SetEnv points the standard AWS credential chain at the bucket's keys for
// the test, and away from the user's own configuration: the shared config
// and credentials files, profiles, session tokens and the EC2 metadata
// service.
func (b S3Bucket) SetEnv(t testing.TB) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "no-such-aws-config")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           b.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       b.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
		// The blob store's own settings would win over the above.
		"PERMAFROST_S3_ACCESS_KEY_ID":     "",
		"PERMAFROST_S3_SECRET_ACCESS_KEY": "",
		"PERMAFROST_S3_SESSION_TOKEN":     "",
		"PERMAFROST_S3_PROFILE":           "",
	} {
		t.Setenv(k, v)
	}
}

// NewVersitygwServer starts a versitygw server of the test's own, stopped when
// the test ends: for tests that stop and restart it. Its data lives in a
// t.TempDir and survives Stop.
func NewVersitygwServer(t testing.TB) *VersitygwServer {
	t.Helper()
	bin, err := versitygwBinary(t)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	g := newVersitygwServer(bin, t.TempDir(), "")
	if err := g.startFresh(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := g.stop("kill"); err != nil {
			t.Errorf("testenv: stopping versitygw: %v", err)
		}
	})
	return g
}

func startSharedVersitygw(t testing.TB) (*VersitygwServer, error) {
	bin, err := versitygwBinary(t)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "permafrost-versitygw-")
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	g := newVersitygwServer(bin, root, dir)
	if err := g.startFresh(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return g, nil
}

func newVersitygwServer(bin, root, rmdir string) *VersitygwServer {
	return &VersitygwServer{
		AccessKey: "permafrost-" + vgwRandomHex(4),
		SecretKey: vgwRandomHex(20),
		Region:    S3Region,
		bin:       bin,
		root:      root,
		rmdir:     rmdir,
	}
}

// startFresh starts the server on a free port, trying another port when
// the one picked was taken meanwhile.
func (g *VersitygwServer) startFresh() error {
	var err error
	for range 5 {
		var addr string
		if addr, err = vgwFreeAddr(); err != nil {
			return err
		}
		g.addr = addr
		g.Endpoint = "http://" + addr
		if err = g.start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		return err
	}
	g.client = awss3.New(awss3.Options{
		Region:       g.Region,
		BaseEndpoint: aws.String(g.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(g.AccessKey, g.SecretKey, ""),
	})
	return nil
}

// Start starts the server again after Stop, on the same address and data,
// and waits until it answers.
func (g *VersitygwServer) Start(t testing.TB) {
	t.Helper()
	if g.running() {
		t.Fatalf("testenv: versitygw at %s is running", g.Endpoint)
	}
	if err := g.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

func (g *VersitygwServer) start() error {
	args := []string{"-c", vgwWrapper, "versitygw-wrapper", g.rmdir,
		g.bin, "--port", g.addr, "--region", g.Region, "--quiet", "posix"}
	if g.versioningDir != "" {
		args = append(args, "--versioning-dir", g.versioningDir)
	}
	cmd := exec.Command("/bin/sh", append(args, g.root)...)
	cmd.Env = append(vgwEnviron(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	p := &gwProcess{cmd: cmd, stdin: stdin, out: &vgwTail{max: 64 << 10}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting versitygw: %w", err)
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	if err := vgwWaitReady(g.Endpoint, p); err != nil {
		p.stop("kill")
		return fmt.Errorf("versitygw (%s --port %s posix %s): %w\n%s", g.bin, g.addr, g.root, err, p.out)
	}
	g.mu.Lock()
	g.proc = p
	g.mu.Unlock()
	return nil
}

// Stop stops the server (SIGTERM) and waits until it is gone; stopping a
// stopped server does nothing.
func (g *VersitygwServer) Stop(t testing.TB) {
	t.Helper()
	if err := g.stop("stop"); err != nil {
		t.Fatalf("testenv: stopping versitygw at %s: %v", g.Endpoint, err)
	}
}

// Kill kills the server (SIGKILL), as a crash would, and waits until it is
// gone. Unlike Stop it does not wait for requests in flight (versitygw
// gives them 10 seconds).
func (g *VersitygwServer) Kill(t testing.TB) {
	t.Helper()
	if err := g.stop("kill"); err != nil {
		t.Fatalf("testenv: killing versitygw at %s: %v", g.Endpoint, err)
	}
}

func (g *VersitygwServer) stop(how string) error {
	g.mu.Lock()
	p := g.proc
	g.proc = nil
	g.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(how)
}

func (g *VersitygwServer) running() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.proc != nil
}

// stop asks the wrapper to stop versitygw ("stop" or "kill"), and kills
// it after a while.
func (p *gwProcess) stop(how string) error {
	io.WriteString(p.stdin, how+"\n")
	select {
	case <-p.exited:
		return nil
	case <-time.After(30 * time.Second):
	}
	p.stdin.Close() // the wrapper sends SIGKILL
	select {
	case <-p.exited:
		return errors.New("versitygw ignored SIGTERM for 30s; killed")
	case <-time.After(10 * time.Second):
		return errors.New("versitygw does not exit")
	}
}

// vgwWaitReady waits until the server answers HTTP (any status: an anonymous
// request is refused, which is an answer).
func vgwWaitReady(endpoint string, p *gwProcess) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited while starting: %v", p.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after 60s: %v", err)
		}
	}
}

// Bucket creates a new, empty bucket, deleted with its contents when the
// test ends (unless the server is stopped then: its data dies with it).
func (g *VersitygwServer) Bucket(t testing.TB) S3Bucket {
	t.Helper()
	name := vgwBucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := g.client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testenv: creating bucket %s on versitygw at %s: %v", name, g.Endpoint, err)
	}
	t.Cleanup(func() {
		if !g.running() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := g.deleteBucket(ctx, name); err != nil {
			t.Errorf("testenv: deleting bucket %s: %v", name, err)
		}
	})
	q := url.Values{"endpoint": {g.Endpoint}, "path-style": {"true"}, "region": {g.Region}}
	return S3Bucket{
		URL:       "s3://" + name + "?" + q.Encode(),
		Name:      name,
		Endpoint:  g.Endpoint,
		Region:    g.Region,
		AccessKey: g.AccessKey,
		SecretKey: g.SecretKey,
	}
}

// Client returns an S3 client of the server's root user.
func (g *VersitygwServer) Client() *awss3.Client { return g.client }

// deleteBucket aborts the bucket's multipart uploads, deletes its objects
// and then the bucket.
func (g *VersitygwServer) deleteBucket(ctx context.Context, name string) error {
	uploads, err := g.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(name)})
	if err != nil {
		return err
	}
	for _, u := range uploads.Uploads {
		if _, err := g.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId}); err != nil {
			return err
		}
	}
	pages := awss3.NewListObjectsV2Paginator(g.client, &awss3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := g.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = g.client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(name)})
	return err
}

// vgwBucketName derives a unique, valid bucket name from a test name.
func vgwBucketName(test string) string {
	var b strings.Builder
	b.WriteString("pf-")
	dash := true
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	if !dash {
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%d-%s", vgwBucketSeq.Add(1), vgwRandomHex(3))
	return b.String()
}

// versitygwBinary finds versitygw or installs it.
func versitygwBinary(t testing.TB) (string, error) {
	if p := os.Getenv(VersitygwEnv); p != "" {
		if err := vgwExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", VersitygwEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gobin, err := vgwGoBin()
	if err != nil {
		return "", fmt.Errorf("finding versitygw: %v; install it with %s, or set %s to a versitygw binary", err, VersitygwInstall, VersitygwEnv)
	}
	p := filepath.Join(gobin, "versitygw")
	if vgwExecutable(p) == nil {
		return p, nil
	}
	t.Logf("testenv: installing versitygw %s into %s (some minutes the first time)", VersitygwVersion, gobin)
	start := time.Now()
	cmd := exec.Command("go", "install", "github.com/versity/versitygw/cmd/versitygw@"+VersitygwVersion)
	cmd.Dir = os.TempDir() // outside any module or workspace
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("versitygw is not installed and installing it failed; run\n\t%s\nor set %s to a versitygw binary.\n%v\n%s", VersitygwInstall, VersitygwEnv, err, out)
	}
	if err := vgwExecutable(p); err != nil {
		return "", fmt.Errorf("%s succeeded but %v; set %s to the versitygw binary", VersitygwInstall, err, VersitygwEnv)
	}
	t.Logf("testenv: installed %s in %v", p, time.Since(start).Round(time.Second))
	return p, nil
}

// vgwGoBin is where go install puts binaries: $GOBIN, else $GOPATH/bin.
func vgwGoBin() (string, error) {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 2 {
		return "", fmt.Errorf("go env GOBIN GOPATH printed %q", out)
	}
	if lines[0] != "" {
		return lines[0], nil
	}
	gopath := filepath.SplitList(lines[1])
	if len(gopath) == 0 || gopath[0] == "" {
		return "", errors.New("no GOPATH")
	}
	return filepath.Join(gopath[0], "bin"), nil
}

func vgwExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an vgwExecutable file", p)
	}
	return nil
}

// vgwEnviron is the environment without versitygw's own settings, which
// would override the flags.
func vgwEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func vgwFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func vgwRandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// vgwTail keeps the last max bytes written to it.
type vgwTail struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *vgwTail) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *vgwTail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
