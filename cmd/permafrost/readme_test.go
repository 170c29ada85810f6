package main

// The README's walk-through is a test: its shell blocks are pasted, in
// order, into one bash process, started in a fresh directory that holds
// ./bin/permafrost (what `make build` makes), with nothing from the user's
// AWS configuration. They must run as written.
//
// Marker convention (also explained in the README under "About the
// examples"): a fenced block whose info string is `sh` runs and must
// succeed; `sh norun` is shown but not run; `sh expect-error=CODE` must
// fail, printing CODE (an aws CLI error code such as
// AccessDeniedException). Blocks of any other language (text, go, json,
// console …) are never run.
//
// The one liberty the test takes: the README's 127.0.0.1:9400 becomes a
// free port (in the blocks, and through PERMAFROST_LISTEN for the server
// started without --listen), so that the test never collides with a server
// already on 9400.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docBlock is one fenced code block of a Markdown document.
type docBlock struct {
	Line      int    // of the opening fence, 1-based
	Heading   string // the section it is in
	Lang      string // first word of the info string
	NoRun     bool
	ExpectErr string // expect-error=CODE
	Code      string
}

func (b docBlock) where(doc string) string {
	return fmt.Sprintf("%s:%d (%q)", doc, b.Line, b.Heading)
}

// runnable reports whether the block is one to run: shell blocks, and
// python blocks (run with python3, in the same shell's environment).
func (b docBlock) runnable() bool {
	return (b.Lang == "sh" || b.Lang == "bash" || b.Lang == "python") && !b.NoRun
}

var infoExpectErr = regexp.MustCompile(`^expect-error=([A-Za-z0-9_.-]+)$`)

// docBlocks reads the fenced blocks of a Markdown file, in order.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []docBlock
		cur     *docBlock
		code    strings.Builder
		heading string
		fence   string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if strings.HasPrefix(line, "#") {
				heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			}
			if strings.HasPrefix(trimmed, "```") {
				fence = trimmed[:strings.LastIndex(trimmed, "`")+1]
				fields := strings.Fields(strings.TrimPrefix(trimmed, fence))
				cur = &docBlock{Line: n, Heading: heading}
				if len(fields) > 0 {
					cur.Lang = fields[0]
				}
				for _, f := range fields[min(1, len(fields)):] {
					switch m := infoExpectErr.FindStringSubmatch(f); {
					case f == "norun":
						cur.NoRun = true
					case m != nil:
						cur.ExpectErr = m[1]
					default:
						t.Fatalf("%s:%d: unknown code block marker %q (want norun or expect-error=CODE)", path, n, f)
					}
				}
				code.Reset()
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimPrefix(trimmed, fence)) == "" {
			cur.Code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		code.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", path, cur.Line)
	}
	return blocks
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// docShell runs documentation blocks in one bash process.
type docShell struct {
	Doc  string   // for messages
	Dir  string   // where bash starts
	Env  []string // the whole environment
	Subs map[string]string
}

// cleanDocEnv is the environment of a fresh shell for the examples: the
// test's own, without any AWS_ or PERMAFROST_ setting, with empty AWS
// config and credentials files so that nothing of the user's applies.
func cleanDocEnv(t *testing.T, dir string) []string {
	t.Helper()
	awsDir := filepath.Join(dir, ".aws-empty")
	if err := os.MkdirAll(awsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(awsDir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PERMAFROST_") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	scratch := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	return append(env,
		"AWS_CONFIG_FILE="+filepath.Join(awsDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(awsDir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"TMPDIR="+scratch, // mktemp -d stays inside the test's directory
	)
}

// Run runs the runnable blocks in order and checks each one: an ordinary
// block must finish with every command succeeding (bash -e semantics
// while it runs), an expect-error block must fail printing its code. It
// returns the whole output.
func (s docShell) Run(t *testing.T, blocks []docBlock, timeout time.Duration) string {
	t.Helper()
	var driver strings.Builder
	driver.WriteString("exec 2>&1\n")
	var run []docBlock
	for _, b := range blocks {
		if !b.runnable() {
			continue
		}
		i := len(run)
		run = append(run, b)
		code := b.Code
		for from, to := range s.Subs {
			code = strings.ReplaceAll(code, from, to)
		}
		file := filepath.Join(s.Dir, fmt.Sprintf(".block-%02d.%s", i, b.Lang))
		if err := os.WriteFile(file, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("source %q", file)
		if b.Lang == "python" {
			line = fmt.Sprintf("python3 %q", file)
		}
		fmt.Fprintf(&driver, "printf '\\n@@@ start %d\\n'\n", i)
		if b.ExpectErr != "" {
			fmt.Fprintf(&driver, "set +e\n%s\nrc=$?\nprintf '\\n@@@ exit %d %%d\\n' $rc\n", line, i)
		} else {
			fmt.Fprintf(&driver, "set -e\n%s\nset +e\nprintf '\\n@@@ exit %d 0\\n'\n", line, i)
		}
	}
	driver.WriteString("printf '\\n@@@ end\\n'\n")
	if len(run) == 0 {
		t.Fatalf("%s: no runnable blocks", s.Doc)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", driver.String())
	cmd.Dir = s.Dir
	cmd.Env = s.Env
	// Its own process group, so that whatever the blocks leave running
	// (a server whose kill failed) is stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err = cmd.Wait()
	text := out.String()
	if ctx.Err() != nil {
		t.Fatalf("%s: the blocks did not finish within %v\n%s", s.Doc, timeout, text)
	}

	// Split the output by block and judge each.
	exit := regexp.MustCompile(`(?m)^@@@ exit (\d+) (\d+)$`)
	done := map[int]int{}
	for _, m := range exit.FindAllStringSubmatch(text, -1) {
		var i, rc int
		fmt.Sscan(m[1], &i)
		fmt.Sscan(m[2], &rc)
		done[i] = rc
	}
	for i, b := range run {
		section := blockOutput(text, i)
		rc, finished := done[i]
		switch {
		case !finished && b.ExpectErr == "":
			t.Fatalf("%s: a command failed (shell exit: %v); its output:\n%s\n--- the block:\n%s", b.where(s.Doc), err, section, b.Code)
		case !finished:
			t.Fatalf("%s: the shell ended inside the block (%v); its output:\n%s", b.where(s.Doc), err, section)
		case b.ExpectErr != "" && rc == 0:
			t.Errorf("%s: succeeded, but the README says it fails with %s; its output:\n%s", b.where(s.Doc), b.ExpectErr, section)
		case b.ExpectErr != "" && !strings.Contains(section, b.ExpectErr):
			t.Errorf("%s: failed (exit %d) without %s; its output:\n%s", b.where(s.Doc), rc, b.ExpectErr, section)
		}
	}
	if !strings.Contains(text, "\n@@@ end\n") || err != nil {
		t.Fatalf("%s: the shell did not reach the end (%v):\n%s", s.Doc, err, text)
	}
	return text
}

// blockOutput is the output of block i.
func blockOutput(text string, i int) string {
	start := fmt.Sprintf("@@@ start %d\n", i)
	j := strings.Index(text, start)
	if j < 0 {
		return ""
	}
	rest := text[j+len(start):]
	if k := strings.Index(rest, "\n@@@ "); k >= 0 {
		rest = rest[:k]
	}
	return rest
}

// buildBinary builds ./cmd/permafrost into dir/bin/permafrost, as `make
// build` does in the repository.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the server binary but is not on PATH (%v)", err)
	}
	bin := filepath.Join(dir, "bin", "permafrost")
	start := time.Now()
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// needTools fails the test, saying how to get them, when the commands the
// examples use are missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			hint := ""
			if tool == "aws" {
				hint = "; install it with: pip install awscli (scripts/test does)"
			}
			t.Fatalf("the README's examples need %s, which is not on PATH (%v)%s", tool, err, hint)
		}
	}
}

func TestReadmeWalkthrough(t *testing.T) {
	needTools(t, "bash", "aws", "python3", "split", "cmp", "tar", "head")
	dir := t.TempDir()
	buildBinary(t, dir)

	blocks := docBlocks(t, "../../README.md")
	var expectErr int
	for _, b := range blocks {
		if b.runnable() && b.ExpectErr != "" {
			expectErr++
		}
	}
	if expectErr == 0 {
		t.Fatal("the README has no expect-error block: the lock demo must show AccessDeniedException")
	}

	addr := freeAddr(t)
	env := append(cleanDocEnv(t, dir), "PERMAFROST_LISTEN="+addr)
	sh := docShell{Doc: "README.md", Dir: dir, Env: env, Subs: map[string]string{"127.0.0.1:9400": addr}}
	start := time.Now()
	out := sh.Run(t, blocks, 3*time.Minute)
	t.Logf("README blocks ran in %v", time.Since(start).Round(time.Millisecond))

	// The lock demo's refusals are the policy's, not some other failure.
	for _, want := range []string{"glacier:DeleteArchive on resource", "when calling the AbortVaultLock operation", "glacier:UploadArchive"} {
		if !strings.Contains(out, want) {
			t.Errorf("the README's output never mentions %q:\n%s", want, out)
		}
	}
	// `kill $PF` really stopped the server: nothing listens any more.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server still listens on %s after the README's kill $PF", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
