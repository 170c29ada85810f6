package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/testenv"
)

// proc is a permafrost process run by a test.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	err            error
}

// cleanEnv is the test's environment without PERMAFROST_* settings.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERMAFROST_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startProc starts the permafrost binary in dir with args and env.
func startProc(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(permafrostBinary(t), args...), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// runProc runs the binary to completion and returns its exit code.
func runProc(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := startProc(t, dir, env, args...)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("permafrost %s did not finish", strings.Join(args, " "))
	}
	code = 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return code, p.stdout.String(), p.stderr.String()
}

// waitLog waits until the process logs a line containing want and
// returns it; it fails if the process exits first.
func (p *proc) waitLog(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(l, want) {
				return l
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("process exited (%v) before logging %q:\n%s", p.err, want, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no log line %q within 60 s:\n%s", want, p.stderr.String())
	return ""
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", p.err, p.stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no exit within 40 s of SIGTERM")
	}
}

// servingLine starts `permafrost serve` (JSON logs) and returns the
// decoded "permafrost serving" line.
func servingLine(t *testing.T, p *proc) map[string]any {
	t.Helper()
	line := p.waitLog(t, `"msg":"permafrost serving"`)
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("serving line %q: %v", line, err)
	}
	return m
}

// TestBadStoreSettingsStopTheProgram: a mistyped --meta or --blobs, as a
// flag or in the environment, stops the program with one line naming the
// setting, creates nothing, and never shows the password.
func TestBadStoreSettingsStopTheProgram(t *testing.T) {
	const password = "Sup3rS3cretPw"
	cases := []struct {
		name    string
		env     []string
		args    []string
		setting string
	}{
		{"env meta without colon", []string{"PERMAFROST_META=postgres//bad"}, nil, "--meta (PERMAFROST_META)"},
		{"flag blobs without colon", nil, []string{"--blobs", "s3//bucket"}, "--blobs (PERMAFROST_BLOBS)"},
		{"env blobs without colon", []string{"PERMAFROST_BLOBS=s3//bucket"}, nil, "--blobs (PERMAFROST_BLOBS)"},
		{"unknown meta scheme", nil, []string{"--meta", "mysql://u:" + password + "@h/db"}, "--meta (PERMAFROST_META)"},
		{"unknown blobs scheme", nil, []string{"--blobs", "gs://bucket"}, "--blobs (PERMAFROST_BLOBS)"},
		{"relative file blobs", nil, []string{"--blobs", "file://relative/dir"}, "--blobs (PERMAFROST_BLOBS)"},
		{"bad postgres port", nil, []string{"--meta", "postgres://u:" + password + "@localhost:bad/db"}, "--meta (PERMAFROST_META)"},
		{"bad postgres port in env", []string{"PERMAFROST_META=postgres://u:" + password + "@localhost:99999/db"}, nil, "--meta (PERMAFROST_META)"},
		{"key=value password", []string{"PERMAFROST_META=postgres://u@localhost:bad/db?password=" + password}, nil, "--meta (PERMAFROST_META)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cwd := t.TempDir()
			for _, cmd := range [][]string{{"serve", "--listen", "127.0.0.1:0"}, {"accounts", "list"}, {"migrate", "--from-data-dir", cwd}} {
				if cmd[0] == "accounts" && strings.HasPrefix(c.setting, "--blobs") {
					continue // the operator commands read only the metadata
				}
				code, out, errOut := runProc(t, cwd, cleanEnv(c.env...), append(cmd, c.args...)...)
				if code == 0 {
					t.Fatalf("%s started with %v %v", cmd[0], c.env, c.args)
				}
				lines := strings.Split(strings.TrimSpace(errOut), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], c.setting) {
					t.Errorf("%s: stderr %q: want one line naming %s", cmd[0], errOut, c.setting)
				}
				if strings.Contains(out+errOut, password) {
					t.Errorf("%s: the password is shown: %q", cmd[0], out+errOut)
				}
				if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
					t.Errorf("%s created %v", cmd[0], entries)
				}
			}
		})
	}
}

// TestSecretsRedacted: a real PostgreSQL URL's password appears in no log
// line of a serving node (debug level), nor in the error of a wrong
// password; the banner names both stores without it.
func TestSecretsRedacted(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil || cfg.Password == "" {
		t.Fatalf("test DSN %q has no password (%v)", dsn, err)
	}
	password := cfg.Password
	cwd := t.TempDir()
	blobs := "file://" + filepath.Join(cwd, "blobs")
	p := startProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--meta", dsn, "--blobs", blobs, "--log-format", "json", "--log-level", "debug")
	line := servingLine(t, p)
	if meta, _ := line["meta"].(string); !strings.Contains(meta, "xxxxx") || strings.Contains(meta, password) {
		t.Errorf("banner meta = %q, want the URL with its password redacted", meta)
	}
	if line["blobs"] != blobs {
		t.Errorf("banner blobs = %v, want %s", line["blobs"], blobs)
	}
	endpoint, _ := line["endpoint"].(string)
	resp, err := http.Get(endpoint + "/-/vaults")
	if err == nil {
		resp.Body.Close()
	}
	p.stop(t)
	if all := p.stdout.String() + p.stderr.String(); strings.Contains(all, password) {
		t.Fatalf("the password appears in the output:\n%s", all)
	}

	// A wrong password: the error is about authentication, without either
	// password.
	wrong := strings.Replace(dsn, ":"+password+"@", ":WrongPassw0rd@", 1)
	code, out, errOut := runProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--meta", wrong, "--blobs", blobs)
	if code == 0 || strings.Contains(out+errOut, "WrongPassw0rd") || strings.Contains(out+errOut, password) {
		t.Fatalf("wrong password: exit %d, output %q", code, out+errOut)
	}
	if !strings.Contains(errOut, "xxxxx") {
		t.Errorf("wrong password: %q does not name the redacted URL", errOut)
	}
}

// TestStartupBanner: the serving line names the endpoint, region, stores,
// version and revision and the switches on; on a terminal a human banner
// says the same; the endpoint it names answers.
func TestStartupBanner(t *testing.T) {
	cwd := t.TempDir()
	data := filepath.Join(cwd, "data")
	p := startProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--region", "eu-west-1",
		"--test-clock", "--job-delays", "none", "--log-format", "json")
	line := servingLine(t, p)
	want := map[string]string{
		"region":   "eu-west-1",
		"meta":     "sqlite:" + filepath.Join(data, "meta.db"),
		"blobs":    "file://" + filepath.Join(data, "archives"),
		"version":  "v0.0.0-test",
		"switches": "test-clock,job-delays=none",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("serving line %s = %v, want %s", k, line[k], v)
		}
	}
	if _, ok := line["revision"].(string); !ok {
		t.Errorf("serving line has no revision: %v", line)
	}
	endpoint, _ := line["endpoint"].(string)
	resp, err := http.Get(endpoint + "/_permafrost/v1/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health at the announced endpoint %s: %v %v", endpoint, resp, err)
	}
	resp.Body.Close()
	p.stop(t)

	// On a terminal (script(1) gives the process one) a banner follows.
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script(1) from util-linux is needed to give the server a terminal: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shell := permafrostBinary(t) + " serve --listen 127.0.0.1:0 --data-dir " + data + " --region eu-west-1 --test-clock & pid=$!; sleep 3; kill $pid; wait $pid"
	cmd := exec.CommandContext(ctx, script, "-qec", shell, "/dev/null")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	for _, w := range []string{"permafrost v0.0.0-test", "endpoint  http://127.0.0.1:", "metadata  sqlite:" + data, "archives  file://" + data, "TESTING   test-clock"} {
		if !bytes.Contains(out, []byte(w)) {
			t.Errorf("terminal banner lacks %q:\n%s", w, out)
		}
	}
}

// TestFirstKeyOnlyAfterBind: a start that cannot bind its port prints no
// key and creates none; the next good start prints one; later starts say
// how to make another.
func TestFirstKeyOnlyAfterBind(t *testing.T) {
	cwd := t.TempDir()
	data := filepath.Join(cwd, "data")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, out, errOut := runProc(t, cwd, cleanEnv(), "serve", "--listen", busy.Addr().String(), "--data-dir", data)
	if code == 0 || out != "" || !strings.Contains(errOut, "address already in use") {
		t.Fatalf("serve on a busy port: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve on a busy port created %s (%v)", data, err)
	}
	code, out, errOut = runProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:99999", "--data-dir", data)
	if code == 0 || out != "" || !strings.Contains(errOut, "--listen") {
		t.Fatalf("serve on a bad --listen: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--metrics-listen", busy.Addr().String(), "--data-dir", data)
	if code == 0 || out != "" || !strings.Contains(errOut, "--metrics-listen") {
		t.Fatalf("serve with a busy --metrics-listen: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a start that could not bind created %s (%v)", data, err)
	}
	// A start that fails after opening the stores makes no key either.
	code, out, errOut = runProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--sns-topics-file", filepath.Join(cwd, "missing"), "--data-dir", data)
	if code == 0 || out != "" || !strings.Contains(errOut, "--sns-topics-file") {
		t.Fatalf("serve with a missing --sns-topics-file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	p := startProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--log-format", "json")
	servingLine(t, p)
	var key string
	deadline := time.Now().Add(10 * time.Second)
	for key == "" && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.stdout.String()))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "export AWS_ACCESS_KEY_ID=AKIA") {
				key = sc.Text()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if key == "" {
		t.Fatalf("the first good start printed no key: %q", p.stdout.String())
	}
	p.stop(t)

	p = startProc(t, cwd, cleanEnv(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--log-format", "json")
	hint := p.waitLog(t, "permafrost accounts create --data-dir "+data)
	if !strings.Contains(hint, `"access_keys":1`) {
		t.Errorf("hint line %q does not count the existing key", hint)
	}
	p.stop(t)
	if p.stdout.String() != "" {
		t.Fatalf("a second start printed %q", p.stdout.String())
	}
}

// TestOperatorCommandsFindTheInstallation: run anywhere but at an
// installation, the operator commands fail saying so and create nothing;
// PERMAFROST_DATA_DIR and PERMAFROST_META find it as serve does.
func TestOperatorCommandsFindTheInstallation(t *testing.T) {
	cwd := t.TempDir()
	lists := [][]string{{"accounts", "list"}, {"keys", "list"}, {"users", "list", "--account-id", "111122223333"},
		{"accounts", "create"}, {"keys", "create", "--account-id", "111122223333"}, {"backup", "--out", "b.db"}}
	for _, args := range lists {
		code, _, errOut := runProc(t, cwd, cleanEnv(), args...)
		if code == 0 || !strings.Contains(errOut, "no permafrost installation in "+filepath.Join(cwd, "permafrost-data")) {
			t.Errorf("%v outside an installation: exit %d, %q", args, code, errOut)
		}
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Fatalf("the commands created %v", entries)
	}

	// The installation of a server, found through the environment.
	data := filepath.Join(t.TempDir(), "data")
	p := startProc(t, cwd, cleanEnv("PERMAFROST_DATA_DIR="+data), "serve", "--listen", "127.0.0.1:0", "--log-format", "json")
	servingLine(t, p)
	code, out, errOut := runProc(t, cwd, cleanEnv("PERMAFROST_DATA_DIR="+data), "accounts", "list")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Fatalf("accounts list with PERMAFROST_DATA_DIR: exit %d, %q %q", code, out, errOut)
	}
	p.stop(t)

	// An empty PostgreSQL database is no installation either, and stays
	// empty.
	dsn := testenv.PostgresDSN(t)
	code, _, errOut = runProc(t, cwd, cleanEnv("PERMAFROST_META="+dsn), "accounts", "create")
	if code == 0 || !strings.Contains(errOut, "no permafrost installation in the database") {
		t.Fatalf("accounts create on an empty database: exit %d, %q", code, errOut)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the empty database now has %d tables (%v)", tables, err)
	}
}

// TestEveryHelpExitsZero: every command's --help (and -h) exits 0 and
// prints its usage.
func TestEveryHelpExitsZero(t *testing.T) {
	cwd := t.TempDir()
	cmds := [][]string{{}, {"serve"}, {"accounts"}, {"accounts", "create"}, {"accounts", "list"}, {"keys"}, {"keys", "create"},
		{"keys", "list"}, {"keys", "delete"}, {"users"}, {"users", "create"}, {"users", "list"}, {"users", "delete"},
		{"migrate"}, {"backup"}, {"version"}}
	for _, c := range cmds {
		for _, h := range []string{"--help", "-h"} {
			code, out, errOut := runProc(t, cwd, cleanEnv(), append(append([]string{}, c...), h)...)
			if code != 0 || !strings.Contains(out+errOut, "sage") && !strings.Contains(out, "permafrost") {
				t.Errorf("permafrost %s %s: exit %d, output %q", strings.Join(c, " "), h, code, out+errOut)
			}
		}
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Fatalf("--help created %v", entries)
	}
}

// TestVersionCommand: version prints the version and the VCS facts: a
// binary built (as make build does) from a clone of this repository with
// an uncommitted change names the clone's commit and says it was modified.
func TestVersionCommand(t *testing.T) {
	code, out, _ := runProc(t, t.TempDir(), cleanEnv(), "version")
	if code != 0 || !strings.HasPrefix(out, "permafrost v0.0.0-test (go") || !strings.Contains(out, "\nrevision: ") {
		t.Fatalf("version: exit %d, %q", code, out)
	}

	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return strings.TrimSpace(string(b))
	}
	head := git(".", "rev-parse", "HEAD")
	clone := filepath.Join(t.TempDir(), "src")
	git(".", "clone", "--quiet", "--no-checkout", git(".", "rev-parse", "--show-toplevel"), clone)
	git(clone, "checkout", "--quiet", head)
	readme := filepath.Join(clone, "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(readme, append(b, "\nan uncommitted change\n"...), 0o644)
	bin := filepath.Join(t.TempDir(), "permafrost")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/permafrost")
	build.Dir = clone
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in a clone: %v\n%s", err, b)
	}
	b, err = exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, "\nrevision: "+head+"\n") || !strings.Contains(got, "\nmodified: true\n") || !strings.Contains(got, "\ncommitted: ") {
		t.Fatalf("version of a modified clone at %s:\n%s", head, got)
	}
}
