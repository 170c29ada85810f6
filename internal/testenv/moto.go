package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// moto's S3 server (github.com/getmoto/moto) implements the archive
// storage classes: GetObject of a GLACIER or DEEP_ARCHIVE object answers
// InvalidObjectState until a RestoreObject made it readable. The suites of
// archive classes run against it (versitygw keeps no storage classes).
//
// Finding it: moto_server on PATH, else `python3 -m moto.server`; if
// neither works, `pip install 'moto[server]'` is run once, and if that
// fails the test fails with the command to run (it never skips).

// MotoServer is one moto server on 127.0.0.1, stopped when the test ends.
type MotoServer struct {
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	client   *awss3.Client
}

// MotoInstall is what installs moto's server when it is missing.
const MotoInstall = "python3 -m pip install 'moto[server]'"

var motoBucketSeq atomic.Int64

// Moto starts a moto server for the test.
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	argv, err := motoCommand()
	if err != nil {
		t.Log("testenv: moto not found; installing it: " + MotoInstall)
		if out, err := exec.Command("sh", "-c", MotoInstall).CombinedOutput(); err != nil {
			t.Fatalf("testenv: moto's S3 server is needed and installing it failed (%v); run %s\n%s", err, MotoInstall, out)
		}
		if argv, err = motoCommand(); err != nil {
			t.Fatalf("testenv: %v (after %s)", err, MotoInstall)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(argv[0], append(argv[1:], "-H", "127.0.0.1", "-p", fmt.Sprint(port))...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting moto: %v", err)
	}
	m := &MotoServer{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: moto did not answer on %s within 30 s: %v\n%s", m.Endpoint, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.client = awss3.New(awss3.Options{
		Region:       S3Region,
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	return m
}

func motoCommand() ([]string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		if exec.Command(p, "--help").Run() == nil {
			return []string{p}, nil
		}
	}
	if exec.Command("python3", "-c", "import moto.server, flask").Run() == nil {
		return []string{"python3", "-m", "moto.server"}, nil
	}
	return nil, fmt.Errorf("neither moto_server nor python3 -m moto.server works")
}

// Client is an S3 client of the server.
func (m *MotoServer) Client() *awss3.Client { return m.client }

// RestoreDelay makes restores take about d (moto's state manager moves
// each restore from IN_PROGRESS to RESTORED after d); 0 makes them
// instant, moto's default.
func (m *MotoServer) RestoreDelay(t testing.TB, d time.Duration) {
	t.Helper()
	body := `{"model_name": "s3::keyrestore", "transition": {"progression": "immediate"}}`
	if d > 0 {
		body = fmt.Sprintf(`{"model_name": "s3::keyrestore", "transition": {"progression": "time", "seconds": %d}}`, int(d.Seconds()))
	}
	resp, err := http.Post(m.Endpoint+"/moto-api/state-manager/set-transition", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("testenv: moto state manager: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("testenv: moto state manager answered %s", resp.Status)
	}
}

// Bucket creates a fresh bucket and returns it; SetEnv on it points the
// AWS credential chain at moto (which accepts any key).
func (m *MotoServer) Bucket(t testing.TB) S3Bucket {
	t.Helper()
	name := fmt.Sprintf("pf-archive-%d-%d", os.Getpid(), motoBucketSeq.Add(1))
	if _, err := m.client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testenv: moto CreateBucket: %v", err)
	}
	return S3Bucket{
		URL:       fmt.Sprintf("s3://%s?endpoint=%s&path-style=true&region=%s", name, m.Endpoint, S3Region),
		Name:      name,
		Endpoint:  m.Endpoint,
		Region:    S3Region,
		AccessKey: "testing",
		SecretKey: "testing",
	}
}
