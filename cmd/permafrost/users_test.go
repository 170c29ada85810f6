package main

// End-to-end tests of IAM-style users (`permafrost users …`, policies.md
// §8) and their identity policies, through the real SDK against a running
// server whose data directory the commands change while it serves.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestUsers(t *testing.T) {
	ts := mustServe(t)
	root := ts.rootClient()
	acct, dir := ts.AccountID, ts.Config.DataDir
	const vault = "team"
	arn := vaultARN(acct, vault)
	root.mustCreate(t, vault)
	root.mustCreate(t, "other")

	// A user without a policy.
	nobody, nobodyC := ts.createUser(t, acct, "nobody", "")
	wantUserOutput(t, nobody, acct, "nobody", false)

	// A user whose identity policy allows describing one vault and listing.
	readerPolicy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "describe", "Effect": "Allow", "Action": "glacier:DescribeVault", "Resource": "%s"},
    {"Sid": "list", "Effect": "Allow", "Action": ["glacier:ListVaults"], "Resource": "*"}
  ]
}`, arn)
	reader, readerC := ts.createUser(t, acct, "reader", readerPolicy)
	wantUserOutput(t, reader, acct, "reader", true)
	if reader.AccessKeyID == nobody.AccessKeyID || reader.UserID == nobody.UserID {
		t.Errorf("two users share a key or user id: %+v, %+v", reader, nobody)
	}

	// users list, text and JSON; secrets are never listed.
	var out, errOut bytes.Buffer
	if err := run(bg, append([]string{"users", "list", "--account-id", acct}, storeArgs(t, dir)...), &out, &errOut); err != nil {
		t.Fatalf("users list: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"nobody", "reader"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("users list does not show %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), reader.SecretAccessKey) || strings.Contains(out.String(), nobody.SecretAccessKey) {
		t.Errorf("users list shows a secret:\n%s", out.String())
	}
	listed := listUsersJSON(t, ts, acct)
	if len(listed) != 2 {
		t.Fatalf("users list --json = %+v, want 2 users", listed)
	}
	for _, want := range []userCreated{nobody, reader} {
		got, ok := listed[want.UserName]
		if !ok {
			t.Errorf("users list --json lacks %s: %+v", want.UserName, listed)
			continue
		}
		if got.UserID != want.UserID || got.ARN != want.ARN || got.HasPolicy != want.HasPolicy || got.AccountID != acct {
			t.Errorf("users list --json %s = %+v, want as created %+v", want.UserName, got, want)
		}
		if got.SecretAccessKey != "" {
			t.Errorf("users list --json shows %s's secret", want.UserName)
		}
	}

	// Without an identity policy a user may do nothing, even in its own account.
	_, r := nobodyC.DescribeVault(vault)
	r.wantDenied(t, "DescribeVault by a user without a policy", "glacier:DescribeVault", arn)
	if r.Code() == "AccessDeniedException" && !strings.Contains(r.Message(), nobody.ARN) {
		t.Errorf("denial message %q does not name the user %s", r.Message(), nobody.ARN)
	}
	_, r = nobodyC.ListVaults()
	r.want(t, "ListVaults by a user without a policy", 403, "AccessDeniedException")
	nobodyC.CreateVault("mine").want(t, "CreateVault by a user without a policy", 403, "AccessDeniedException")
	_, r = nobodyC.UploadArchive(vault, []byte("x"))
	r.want(t, "UploadArchive by a user without a policy", 403, "AccessDeniedException")

	// The reader may do exactly what its policy allows.
	d, r := readerC.DescribeVault(vault)
	if r.want(t, "DescribeVault by the reader", 200, "") && aws.ToString(d.VaultARN) != arn {
		t.Errorf("reader DescribeVault VaultARN = %q", aws.ToString(d.VaultARN))
	}
	lv, r := readerC.ListVaults()
	if r.want(t, "ListVaults by the reader", 200, "") && len(lv.VaultList) != 2 {
		t.Errorf("reader ListVaults = %d vaults, want 2 (the account's)", len(lv.VaultList))
	}
	_, r = readerC.DescribeVault("other")
	r.wantDenied(t, "DescribeVault of a vault outside the reader's policy", "glacier:DescribeVault", vaultARN(acct, "other"))
	readerC.DeleteVault(vault).wantDenied(t, "DeleteVault by the reader", "glacier:DeleteVault", arn)
	_, r = readerC.UploadArchive(vault, []byte("x"))
	r.wantDenied(t, "UploadArchive by the reader", "glacier:UploadArchive", arn)
	_, r = readerC.ListTags(vault)
	r.want(t, "ListTagsForVault by the reader", 403, "AccessDeniedException")
	_, r = readerC.GetLock(vault)
	r.want(t, "GetVaultLock by the reader", 403, "AccessDeniedException")
	// Nothing the users were refused happened.
	if d, r := root.DescribeVault(vault); r.want(t, "root DescribeVault", 200, "") && d.NumberOfArchives != 0 {
		t.Errorf("refused uploads left %d archives", d.NumberOfArchives)
	}
	_, r = root.DescribeVault("mine")
	r.want(t, "the refused CreateVault", 404, "ResourceNotFoundException")

	// A vault access policy naming the user grants it (same account: either
	// policy suffices, policies.md §6).
	grant := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"glacier:ListTagsForVault","Resource":"%s"}]}`, nobody.ARN, arn)
	root.SetAccessPolicy(vault, grant).mustWant(t, "SetVaultAccessPolicy naming the user", 204, "")
	_, r = nobodyC.ListTags(vault)
	r.want(t, "ListTagsForVault by the user named in the access policy", 200, "")
	_, r = readerC.ListTags(vault)
	r.want(t, "ListTagsForVault by a user not named in the access policy", 403, "AccessDeniedException")
	// A Deny naming the account covers its users (policies.md §3.1).
	deny := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"%s"},"Action":"glacier:DescribeVault","Resource":"%s"}]}`, acct, arn)
	root.SetAccessPolicy(vault, deny).mustWant(t, "SetVaultAccessPolicy denying the account", 204, "")
	_, r = readerC.DescribeVault(vault)
	r.wantDenied(t, "DescribeVault by the reader under a Deny naming its account", "glacier:DescribeVault", arn)
	root.DeleteAccessPolicy(vault).mustWant(t, "DeleteVaultAccessPolicy", 204, "")
	_, r = readerC.DescribeVault(vault)
	r.want(t, "DescribeVault by the reader after the deny is removed", 200, "")

	// Deleting a user removes its keys at once.
	out.Reset()
	if err := run(bg, append([]string{"users", "delete", "--account-id", acct, "--name", "reader"}, storeArgs(t, dir)...), &out, &errOut); err != nil {
		t.Fatalf("users delete: %v (%s)", err, errOut.String())
	}
	_, r = readerC.DescribeVault(vault)
	r.want(t, "DescribeVault with a deleted user's key", 400, "UnrecognizedClientException")
	listed = listUsersJSON(t, ts, acct)
	if _, ok := listed["reader"]; ok || len(listed) != 1 {
		t.Errorf("users list --json after delete = %+v, want only nobody", listed)
	}
	if err := run(bg, append([]string{"users", "delete", "--account-id", acct, "--name", "reader"}, storeArgs(t, dir)...), &out, &errOut); err == nil {
		t.Errorf("deleting a deleted user succeeded")
	}
	// The other user and the root are untouched.
	_, r = nobodyC.DescribeVault(vault)
	r.want(t, "the other user still authenticates (and is denied)", 403, "AccessDeniedException")
	_, r = root.DescribeVault(vault)
	r.want(t, "root after users delete", 200, "")

	// A user name can be reused after deletion, with a new key and id.
	again, againC := ts.createUser(t, acct, "reader", readerPolicy)
	if again.AccessKeyID == reader.AccessKeyID {
		t.Errorf("re-created user got the deleted user's key %s", reader.AccessKeyID)
	}
	_, r = againC.DescribeVault(vault)
	r.want(t, "DescribeVault by the re-created reader", 200, "")
	_, r = readerC.DescribeVault(vault)
	r.want(t, "the deleted user's old key after the name is reused", 400, "UnrecognizedClientException")

	// Invalid identity policies make `users create` fail and create nothing.
	before := listUsersJSON(t, ts, acct)
	invalid := map[string]string{
		"bad JSON":          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"`,
		"with Principal":    fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"glacier:DescribeVault","Resource":"%s"}]}`, arn),
		"bad Effect":        fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"glacier:DescribeVault","Resource":"%s"}]}`, arn),
		"missing Statement": `{"Version":"2012-10-17"}`,
	}
	i := 0
	for what, doc := range invalid {
		i++
		name := fmt.Sprint("invalid-", i)
		var out, errOut bytes.Buffer
		err := run(bg, append([]string{"users", "create", "--account-id", acct, "--name", name, "--policy-file", writePolicyFile(t, name, doc), "--json"}, storeArgs(t, dir)...), &out, &errOut)
		if err == nil {
			t.Errorf("users create with a policy file %s succeeded: %s", what, out.String())
			continue
		}
		if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "polic") {
			t.Errorf("users create with a policy file %s: message %q does not mention the policy", what, err)
		}
		if strings.Contains(out.String(), "secret") || strings.Contains(out.String(), "AKIA") {
			t.Errorf("users create with a policy file %s printed a key: %s", what, out.String())
		}
	}
	after := listUsersJSON(t, ts, acct)
	if len(after) != len(before) {
		t.Errorf("refused users create changed the users: %v -> %v", before, after)
	}
	// Users of a missing account cannot be created.
	if err := run(bg, append([]string{"users", "create", "--account-id", "999999999999", "--name", "ghost"}, storeArgs(t, dir)...), &out, &errOut); err == nil {
		t.Errorf("users create in a missing account succeeded")
	}
}

// wantUserOutput checks the --json output of users create.
func wantUserOutput(t *testing.T, u userCreated, acct, name string, hasPolicy bool) {
	t.Helper()
	if u.AccountID != acct || u.UserName != name || u.ARN != "arn:aws:iam::"+acct+":user/"+name || u.HasPolicy != hasPolicy || u.UserID == "" {
		t.Errorf("users create --json = %+v, want account %s, name %s, has_policy %t", u, acct, name, hasPolicy)
	}
	if _, err := time.Parse(time.RFC3339, u.CreatedAt); err != nil {
		t.Errorf("created_at %q: %v", u.CreatedAt, err)
	}
}

// listUsersJSON runs `users list --json` and indexes it by user name.
func listUsersJSON(t *testing.T, ts *testServer, acct string) map[string]userCreated {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(bg, append([]string{"users", "list", "--account-id", acct, "--json"}, storeArgs(t, ts.Config.DataDir)...), &out, &errOut); err != nil {
		t.Fatalf("users list --json: %v (%s)", err, errOut.String())
	}
	var list []userCreated
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("users list --json printed %q: %v", out.String(), err)
	}
	m := map[string]userCreated{}
	for _, u := range list {
		m[u.UserName] = u
	}
	return m
}
