package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTestingDoc runs docs/testing.md's shell recipe with the built binary
// on PATH, and its pytest fixture (conftest.py) with its test, driven
// without pytest: a stand-in pytest module whose fixture decorator leaves
// the functions as they are, called in the order pytest would.
func TestTestingDoc(t *testing.T) {
	needTools(t, "bash", "aws", "python3", "curl", "grep")
	if out, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
		t.Logf("boto3 is missing (%s); installing it with pip", strings.TrimSpace(string(out)))
		if out, err := exec.Command("python3", "-m", "pip", "install", "--quiet", "boto3").CombinedOutput(); err != nil {
			t.Fatalf("docs/testing.md's fixture needs boto3, and pip install boto3 failed: %v\n%s", err, out)
		}
	}
	dir := t.TempDir()
	buildBinary(t, dir)
	env := cleanDocEnv(t, dir)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + filepath.Join(dir, "bin") + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
	}
	blocks := docBlocks(t, "../../docs/testing.md")
	sh := docShell{Doc: "docs/testing.md", Dir: dir, Env: env}
	out := sh.Run(t, blocks, 2*time.Minute)
	for _, want := range []string{`"VaultName": "backups"`, `"blobs_removed":0`} {
		if !strings.Contains(out, want) {
			t.Errorf("docs/testing.md's shell output lacks %q:\n%s", want, out)
		}
	}

	var conftest string
	for _, b := range blocks {
		if b.Lang == "python" && strings.Contains(b.Code, "@pytest.fixture") {
			conftest = b.Code
		}
	}
	if conftest == "" {
		t.Fatal("docs/testing.md has no pytest fixture")
	}
	py := filepath.Join(dir, "py")
	files := map[string]string{
		"conftest.py": conftest,
		"pytest.py": `def fixture(fn=None, **kw):
    return fn if fn is not None else (lambda f: f)
`,
		"drive.py": `import pathlib, tempfile
import conftest

class Factory:
    def mktemp(self, name):
        return pathlib.Path(tempfile.mkdtemp(prefix=name))

session = conftest.permafrost(Factory())
env = next(session)
conftest.test_upload_survives_throttling(conftest.glacier(env), env)
print("faults:", conftest.call(env, "GET", "/_permafrost/v1/faults"))
next(session, None)
print("fixture done")
`,
	}
	if err := os.MkdirAll(py, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, code := range files {
		if err := os.WriteFile(filepath.Join(py, name), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("python3", "drive.py")
	cmd.Dir, cmd.Env = py, env
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "fixture done") || !strings.Contains(string(got), "'applied': 2") {
		t.Fatalf("docs/testing.md's pytest fixture: %v\n%s", err, got)
	}
}
