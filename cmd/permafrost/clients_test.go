package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestClientRecipes runs the sh and python blocks of docs/clients.md (the
// aws CLI and boto3 recipes) against a real server over HTTP, with the
// test account's key in the environment, as the page says.
func TestClientRecipes(t *testing.T) {
	needTools(t, "bash", "aws", "python3")
	if out, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
		// The aws CLI v1 brings botocore; boto3 is one small package more.
		t.Logf("boto3 is missing (%s); installing it with pip", strings.TrimSpace(string(out)))
		if out, err := exec.Command("python3", "-m", "pip", "install", "--quiet", "boto3").CombinedOutput(); err != nil {
			t.Fatalf("docs/clients.md's boto3 recipe needs boto3, and pip install boto3 failed: %v\n%s", err, out)
		}
	}
	ts := mustServe(t)
	dir := t.TempDir()
	env := append(cleanDocEnv(t, dir), "AWS_ACCESS_KEY_ID="+ts.KeyID, "AWS_SECRET_ACCESS_KEY="+ts.Secret)
	blocks := docBlocks(t, "../../docs/clients.md")
	sh := docShell{Doc: "docs/clients.md", Dir: dir, Env: env, Subs: map[string]string{"127.0.0.1:9400": ts.Addr()}}
	out := sh.Run(t, blocks, 2*time.Minute)
	for _, want := range []string{`"VaultName": "from-cli"`, "uploaded ", "'from-boto3'"} {
		if !strings.Contains(out, want) {
			t.Errorf("docs/clients.md's output lacks %q:\n%s", want, out)
		}
	}
}
