package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// TestAWSCLISmoke drives an in-process server with the real AWS CLI
// (`aws glacier …`), which signs, hashes and parses on its own: vaults,
// tags, notifications, a single-request upload, a multipart upload with a
// short last part, deletes and an error answer.
func TestAWSCLISmoke(t *testing.T) {
	ts := mustServe(t)
	dir := t.TempDir()
	cli := newAWSCLI(t, ts, dir)
	const vault = "cli-vault"
	vaultARN := "arn:aws:glacier:us-east-1:" + ts.AccountID + ":vaults/" + vault

	// Vaults.
	var created struct{ Location string }
	cli.json(&created, "create-vault", "--vault-name", vault)
	if want := "/" + ts.AccountID + "/vaults/" + vault; created.Location != want {
		t.Errorf("create-vault location = %q, want %q", created.Location, want)
	}
	var desc struct {
		VaultARN, VaultName, CreationDate string
		NumberOfArchives, SizeInBytes     int64
	}
	cli.json(&desc, "describe-vault", "--vault-name", vault)
	if desc.VaultARN != vaultARN || desc.VaultName != vault || desc.NumberOfArchives != 0 || desc.SizeInBytes != 0 || desc.CreationDate == "" {
		t.Errorf("describe-vault = %+v", desc)
	}
	var list struct {
		VaultList []struct{ VaultARN, VaultName string }
	}
	cli.json(&list, "list-vaults")
	if len(list.VaultList) != 1 || list.VaultList[0].VaultName != vault || list.VaultList[0].VaultARN != vaultARN {
		t.Errorf("list-vaults = %+v", list)
	}

	// A single-request upload; the CLI computes the tree hash itself.
	data := randomBytes(3 << 20)
	file := filepath.Join(dir, "archive.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var up struct{ Location, Checksum, ArchiveID string }
	cli.json(&up, "upload-archive", "--vault-name", vault, "--archive-description", "cli smoke", "--body", file)
	if want := treehash.Sum(data).String(); up.Checksum != want {
		t.Errorf("upload-archive checksum = %q, want %q", up.Checksum, want)
	}
	if len(up.ArchiveID) != 138 || up.Location != "/"+ts.AccountID+"/vaults/"+vault+"/archives/"+up.ArchiveID {
		t.Errorf("upload-archive archiveId %q (%d chars), location %q", up.ArchiveID, len(up.ArchiveID), up.Location)
	}

	// Tags.
	cli.json(nil, "add-tags-to-vault", "--vault-name", vault, "--tags", "owner=ci,purpose=smoke")
	var tags struct{ Tags map[string]string }
	cli.json(&tags, "list-tags-for-vault", "--vault-name", vault)
	if want := map[string]string{"owner": "ci", "purpose": "smoke"}; !reflect.DeepEqual(tags.Tags, want) {
		t.Errorf("list-tags-for-vault = %v, want %v", tags.Tags, want)
	}

	// Notifications.
	topic := "arn:aws:sns:us-east-1:" + ts.AccountID + ":cli-topic"
	events := []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"}
	cfg, _ := json.Marshal(map[string]any{"SNSTopic": topic, "Events": events})
	cli.json(nil, "set-vault-notifications", "--vault-name", vault, "--vault-notification-config", string(cfg))
	var notif struct {
		VaultNotificationConfig struct {
			SNSTopic string
			Events   []string
		} `json:"vaultNotificationConfig"`
	}
	cli.json(&notif, "get-vault-notifications", "--vault-name", vault)
	if notif.VaultNotificationConfig.SNSTopic != topic || !reflect.DeepEqual(notif.VaultNotificationConfig.Events, events) {
		t.Errorf("get-vault-notifications = %+v", notif)
	}

	// Multipart: two 1 MiB parts and a short last part. Upload ids may
	// start with '-', hence --upload-id=ID.
	const partSize = 1 << 20
	mdata := randomBytes(2*partSize + 12345)
	var initOut struct{ Location, UploadID string }
	cli.json(&initOut, "initiate-multipart-upload", "--vault-name", vault, "--part-size", fmt.Sprint(partSize), "--archive-description", "cli multipart")
	uid := initOut.UploadID
	if uid == "" || initOut.Location != "/"+ts.AccountID+"/vaults/"+vault+"/multipart-uploads/"+uid {
		t.Fatalf("initiate-multipart-upload = %+v", initOut)
	}
	var wantRanges, wantHashes []string
	for start := 0; start < len(mdata); start += partSize {
		part := mdata[start:min(start+partSize, len(mdata))]
		pfile := filepath.Join(dir, fmt.Sprintf("part-%d.bin", start/partSize))
		if err := os.WriteFile(pfile, part, 0o600); err != nil {
			t.Fatal(err)
		}
		end := start + len(part) - 1
		var partOut struct{ Checksum string }
		cli.json(&partOut, "upload-multipart-part", "--vault-name", vault, "--upload-id="+uid,
			"--range", fmt.Sprintf("bytes %d-%d/*", start, end), "--body", pfile)
		sum := treehash.Sum(part).String()
		if partOut.Checksum != sum {
			t.Errorf("upload-multipart-part at %d: checksum %q, want %q", start, partOut.Checksum, sum)
		}
		wantRanges = append(wantRanges, fmt.Sprintf("%d-%d", start, end))
		wantHashes = append(wantHashes, sum)
	}
	var parts struct {
		MultipartUploadID, VaultARN, ArchiveDescription string
		PartSizeInBytes                                 int64
		Parts                                           []struct{ RangeInBytes, SHA256TreeHash string }
	}
	// --no-paginate: the CLI's paginator for ListParts keeps only Parts
	// (botocore lists no non-aggregate keys for it); without it the
	// whole response shows.
	cli.json(&parts, "list-parts", "--vault-name", vault, "--upload-id="+uid, "--no-paginate")
	var gotRanges, gotHashes []string
	for _, p := range parts.Parts {
		gotRanges = append(gotRanges, p.RangeInBytes)
		gotHashes = append(gotHashes, p.SHA256TreeHash)
	}
	if parts.MultipartUploadID != uid || parts.VaultARN != vaultARN || parts.ArchiveDescription != "cli multipart" ||
		parts.PartSizeInBytes != partSize || !reflect.DeepEqual(gotRanges, wantRanges) || !reflect.DeepEqual(gotHashes, wantHashes) {
		t.Errorf("list-parts = %+v, want ranges %v hashes %v", parts, wantRanges, wantHashes)
	}
	var uploads struct {
		UploadsList []struct{ MultipartUploadID string }
	}
	cli.json(&uploads, "list-multipart-uploads", "--vault-name", vault)
	if len(uploads.UploadsList) != 1 || uploads.UploadsList[0].MultipartUploadID != uid {
		t.Errorf("list-multipart-uploads before completion = %+v, want just %s", uploads, uid)
	}
	msum := treehash.Sum(mdata).String()
	var done struct{ Location, Checksum, ArchiveID string }
	cli.json(&done, "complete-multipart-upload", "--vault-name", vault, "--upload-id="+uid,
		"--checksum", msum, "--archive-size", fmt.Sprint(len(mdata)))
	if done.Checksum != msum || len(done.ArchiveID) != 138 || done.Location != "/"+ts.AccountID+"/vaults/"+vault+"/archives/"+done.ArchiveID {
		t.Errorf("complete-multipart-upload = %+v, want checksum %s", done, msum)
	}
	uploads.UploadsList = nil
	cli.json(&uploads, "list-multipart-uploads", "--vault-name", vault)
	if len(uploads.UploadsList) != 0 {
		t.Errorf("list-multipart-uploads after completion = %+v, want none", uploads)
	}
	cli.json(&desc, "describe-vault", "--vault-name", vault)
	if desc.NumberOfArchives != 2 {
		t.Errorf("describe-vault after two uploads: %d archives, want 2", desc.NumberOfArchives)
	}

	// Deletes: archive ids may start with '-', hence --archive-id=ID.
	for _, id := range []string{up.ArchiveID, done.ArchiveID} {
		cli.json(nil, "delete-archive", "--vault-name", vault, "--archive-id="+id)
	}
	cli.json(&desc, "describe-vault", "--vault-name", vault)
	if desc.NumberOfArchives != 0 || desc.SizeInBytes != 0 {
		t.Errorf("describe-vault after the deletes: %d archives, %d bytes, want 0, 0", desc.NumberOfArchives, desc.SizeInBytes)
	}

	// An error answer reaches the user as the CLI's error message.
	cli.wantError("ResourceNotFoundException", "describe-vault", "--vault-name", "no-such-vault")
	cli.wantError("Vault not found for ARN: arn:aws:glacier:us-east-1:"+ts.AccountID+":vaults/no-such-vault", "describe-vault", "--vault-name", "no-such-vault")

	cli.json(nil, "delete-vault", "--vault-name", vault)
	cli.wantError("ResourceNotFoundException", "describe-vault", "--vault-name", vault)
	list.VaultList = nil
	cli.json(&list, "list-vaults")
	if len(list.VaultList) != 0 {
		t.Errorf("list-vaults after delete-vault = %+v", list)
	}
}

// awsCLI runs `aws glacier` against a test server with the test account's
// root key and nothing from the user's own AWS configuration.
type awsCLI struct {
	t        *testing.T
	bin      string
	env      []string
	endpoint string
}

// newAWSCLI fails the test, saying how to install it, when the aws CLI is
// missing (scripts/test installs it).
func newAWSCLI(t *testing.T, ts *testServer, dir string) *awsCLI {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is needed but `aws` is not on PATH (%v); install it with: pip install awscli", err)
	}
	config := filepath.Join(dir, "aws-config")
	creds := filepath.Join(dir, "aws-credentials")
	for _, f := range []string{config, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+ts.KeyID,
		"AWS_SECRET_ACCESS_KEY="+ts.Secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
	)
	return &awsCLI{t: t, bin: bin, env: env, endpoint: ts.URL()}
}

// run runs one `aws glacier` subcommand with --account-id -.
func (c *awsCLI) run(args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"glacier", args[0], "--account-id", "-", "--endpoint-url", c.endpoint, "--output", "json"}, args[1:]...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// json runs a subcommand that must succeed and decodes its output into v
// (output must be empty when v is nil).
func (c *awsCLI) json(v any, args ...string) {
	c.t.Helper()
	out, errb, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("aws glacier %s: %v\nstderr: %s", strings.Join(args, " "), err, errb)
	}
	if v == nil {
		if len(bytes.TrimSpace(out)) != 0 {
			c.t.Errorf("aws glacier %s: unexpected output %s", args[0], out)
		}
		return
	}
	if err := json.Unmarshal(out, v); err != nil {
		c.t.Fatalf("aws glacier %s: output %q: %v", args[0], out, err)
	}
}

// wantError runs a subcommand that must fail and print want (an error
// code or message) on stderr.
func (c *awsCLI) wantError(want string, args ...string) {
	c.t.Helper()
	_, errb, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("aws glacier %s succeeded, want %s", strings.Join(args, " "), want)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		c.t.Fatalf("aws glacier %s: %v", args[0], err)
	}
	if !bytes.Contains(errb, []byte(want)) {
		c.t.Errorf("aws glacier %s: stderr %q does not contain %q", strings.Join(args, " "), errb, want)
	}
}
