package main

// End-to-end tests of vault access policies (operations.md §5) and of the
// policy evaluation across accounts and with tags (policies.md §6, §10),
// through the real SDK against a running server.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestVaultAccessPolicy: set, get byte-for-byte, replace, delete and
// idempotent delete, 404 when none, invalid policies refused.
func TestVaultAccessPolicy(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "shared"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)

	doc, r := c.GetAccessPolicy(vault)
	r.want(t, "GetVaultAccessPolicy with none set", 404, "ResourceNotFoundException")
	if doc != nil {
		t.Errorf("GetVaultAccessPolicy with none set returned %q", *doc)
	}
	c.DeleteAccessPolicy(vault).want(t, "DeleteVaultAccessPolicy with none set", 204, "")

	// Odd layout, tabs, key order and a trailing newline must survive.
	p1 := "{\n  \"Version\" : \"2012-10-17\",\n\t\"Id\": \"partner-read\",\n  \"Statement\": [ {\"Sid\": \"read-only-partner\", \"Principal\": {\"AWS\": [\"arn:aws:iam::444455556666:root\", \"777788889999\"]},\n    \"Effect\": \"Allow\", \"Action\": [\"glacier:DescribeVault\", \"glacier:ListJobs\", \"glacier:GetJobOutput\"],\n    \"Resource\": \"" + arn + "\" } ]\n}\n"
	c.SetAccessPolicy(vault, p1).want(t, "SetVaultAccessPolicy", 204, "")
	doc, r = c.GetAccessPolicy(vault)
	if r.want(t, "GetVaultAccessPolicy", 200, "") && aws.ToString(doc) != p1 {
		t.Errorf("GetVaultAccessPolicy = %q, want byte-for-byte %q", aws.ToString(doc), p1)
	}

	// Replace.
	p2 := fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"111122223333"},"NotAction":["glacier:Describe*","glacier:List*"],"Resource":"%s","Condition":{"Bool":{"aws:SecureTransport":false}}}}`, arn)
	c.SetAccessPolicy(vault, p2).want(t, "SetVaultAccessPolicy (replace)", 204, "")
	doc, r = c.GetAccessPolicy(vault)
	if r.want(t, "GetVaultAccessPolicy after replace", 200, "") && aws.ToString(doc) != p2 {
		t.Errorf("GetVaultAccessPolicy after replace = %q, want %q", aws.ToString(doc), p2)
	}

	// Invalid documents are refused and the stored policy stays.
	for name, bad := range invalidPolicies(arn) {
		c.SetAccessPolicy(vault, bad).want(t, "SetVaultAccessPolicy with "+name, 400, "InvalidParameterValueException")
	}
	doc, r = c.GetAccessPolicy(vault)
	if r.want(t, "GetVaultAccessPolicy after refused sets", 200, "") && aws.ToString(doc) != p2 {
		t.Errorf("refused sets changed the policy to %q", aws.ToString(doc))
	}
	// A body without the Policy member.
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/"+vault+"/access-policy", nil, []byte(`{}`)), "MissingParameterValueException", 400)

	// 20480 bytes, whitespace included, are within the limit.
	big := padPolicy(p2, 20480)
	c.SetAccessPolicy(vault, big).want(t, "SetVaultAccessPolicy of exactly 20480 bytes", 204, "")
	doc, r = c.GetAccessPolicy(vault)
	if r.want(t, "GetVaultAccessPolicy of the 20480-byte policy", 200, "") && aws.ToString(doc) != big {
		t.Errorf("20480-byte policy came back as %d bytes", len(aws.ToString(doc)))
	}

	// Delete, then 404; delete stays idempotent.
	c.DeleteAccessPolicy(vault).want(t, "DeleteVaultAccessPolicy", 204, "")
	_, r = c.GetAccessPolicy(vault)
	r.want(t, "GetVaultAccessPolicy after delete", 404, "ResourceNotFoundException")
	if !strings.Contains(r.Message(), vault) {
		t.Errorf("not-set message %q does not name the vault", r.Message())
	}
	c.DeleteAccessPolicy(vault).want(t, "DeleteVaultAccessPolicy again", 204, "")

	// Policies are per vault.
	c.mustCreate(t, "other")
	c.SetAccessPolicy(vault, p1).want(t, "SetVaultAccessPolicy again", 204, "")
	_, r = c.GetAccessPolicy("other")
	r.want(t, "GetVaultAccessPolicy of another vault", 404, "ResourceNotFoundException")

	// A missing vault.
	c.SetAccessPolicy("missing", p1).want(t, "SetVaultAccessPolicy on a missing vault", 404, "ResourceNotFoundException")
	_, r = c.GetAccessPolicy("missing")
	r.want(t, "GetVaultAccessPolicy on a missing vault", 404, "ResourceNotFoundException")
	c.DeleteAccessPolicy("missing").want(t, "DeleteVaultAccessPolicy on a missing vault", 404, "ResourceNotFoundException")
}

// mustRunJSON runs a permafrost command with --json and decodes its output.
func mustRunJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(bg, args, &out, &errOut); err != nil {
		t.Fatalf("permafrost %s: %v (%s)", strings.Join(args, " "), err, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		t.Fatalf("permafrost %s printed %q: %v", strings.Join(args, " "), out.String(), err)
	}
}

// createAccount runs `permafrost accounts create --json` on the server's
// data directory and returns the new account's root client.
func (ts *testServer) createAccount(t *testing.T) (string, *pfClient) {
	t.Helper()
	var cred struct {
		AccountID       string `json:"account_id"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	mustRunJSON(t, &cred, append([]string{"accounts", "create", "--json"}, storeArgs(t, ts.Config.DataDir)...)...)
	if len(cred.AccountID) != 12 || cred.AccessKeyID == "" || cred.SecretAccessKey == "" {
		t.Fatalf("accounts create printed %+v", cred)
	}
	return cred.AccountID, ts.sdkClient(cred.AccessKeyID, cred.SecretAccessKey)
}

// userCreated is the --json output of `permafrost users create`.
type userCreated struct {
	AccountID       string `json:"account_id"`
	UserName        string `json:"user_name"`
	UserID          string `json:"user_id"`
	ARN             string `json:"arn"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	HasPolicy       bool   `json:"has_policy"`
	CreatedAt       string `json:"created_at"`
}

// createUser runs `permafrost users create --json` on the server's data
// directory, with the identity policy doc when it is not empty.
func (ts *testServer) createUser(t *testing.T, acct, name, doc string) (userCreated, *pfClient) {
	t.Helper()
	args := append([]string{"users", "create", "--account-id", acct, "--name", name, "--json"}, storeArgs(t, ts.Config.DataDir)...)
	if doc != "" {
		args = append(args, "--policy-file", writePolicyFile(t, name, doc))
	}
	var u userCreated
	mustRunJSON(t, &u, args...)
	if u.AccessKeyID == "" || u.SecretAccessKey == "" {
		t.Fatalf("users create printed no key: %+v", u)
	}
	return u, ts.sdkClient(u.AccessKeyID, u.SecretAccessKey)
}

// writePolicyFile writes doc to a temporary file and returns its path.
func writePolicyFile(t *testing.T, name, doc string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+"-policy.json")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCrossAccountPolicy: another account's root is denied a vault until
// the owner's access policy grants it, its users additionally need their own
// identity policy, and an explicit Deny naming the owner's account binds
// the owner's root.
func TestCrossAccountPolicy(t *testing.T) {
	ts := mustServe(t)
	a := ts.rootClient()
	acctA := ts.AccountID
	const vault = "shared"
	arn := vaultARN(acctA, vault)
	a.mustCreate(t, vault)
	a.mustCreate(t, "private")

	acctB, rootB := ts.createAccount(t)
	b := rootB.on(acctA) // B's root addressing A's vaults

	// No policy: everything is denied to B.
	_, r := b.DescribeVault(vault)
	r.want(t, "B DescribeVault on A's vault without a policy", 403, "AccessDeniedException")
	_, r = b.UploadArchive(vault, []byte("from B"))
	r.want(t, "B UploadArchive to A's vault without a policy", 403, "AccessDeniedException")
	_, r = b.ListTags(vault)
	r.want(t, "B ListTagsForVault without a policy", 403, "AccessDeniedException")

	// Grant B's root (ARN form) a few actions.
	grant := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["glacier:DescribeVault","glacier:UploadArchive","glacier:ListTagsForVault"],"Resource":"%s"}]}`, acctB, arn)
	a.SetAccessPolicy(vault, grant).mustWant(t, "SetVaultAccessPolicy granting B", 204, "")
	d, r := b.DescribeVault(vault)
	if r.want(t, "B DescribeVault when granted", 200, "") && aws.ToString(d.VaultARN) != arn {
		t.Errorf("B DescribeVault VaultARN = %q, want %q", aws.ToString(d.VaultARN), arn)
	}
	_, r = b.ListTags(vault)
	r.want(t, "B ListTagsForVault when granted", 200, "")
	up, r := b.UploadArchive(vault, []byte("from B"))
	if r.want(t, "B UploadArchive when granted", 201, "") {
		if loc := aws.ToString(up.Location); !strings.HasPrefix(loc, "/"+acctA+"/vaults/"+vault+"/archives/") {
			t.Errorf("B's upload Location = %q, want it in A's vault", loc)
		}
		if d, r := a.DescribeVault(vault); r.want(t, "A DescribeVault", 200, "") && d.NumberOfArchives != 1 {
			t.Errorf("A's vault holds %d archives after B's upload, want 1", d.NumberOfArchives)
		}
		// Not granted: deleting that archive, reading the policy.
		b.DeleteArchive(vault, aws.ToString(up.ArchiveId)).wantDenied(t, "B DeleteArchive (not granted)", "glacier:DeleteArchive", arn)
	}
	_, r = b.GetAccessPolicy(vault)
	r.want(t, "B GetVaultAccessPolicy (not granted)", 403, "AccessDeniedException")
	b.AddTags(vault, map[string]string{"k": "v"}).want(t, "B AddTagsToVault (not granted)", 403, "AccessDeniedException")
	// The grant covers only that vault.
	_, r = b.DescribeVault("private")
	r.want(t, "B DescribeVault on A's other vault", 403, "AccessDeniedException")
	// B's own account is unaffected: "-" is B's account.
	_, r = rootB.DescribeVault(vault)
	r.want(t, "B DescribeVault of its own (missing) vault", 404, "ResourceNotFoundException")

	// B's users need their own identity policy as well.
	_, noPolicy := ts.createUser(t, acctB, "partner-nobody", "")
	_, r = noPolicy.on(acctA).DescribeVault(vault)
	r.want(t, "B's user without identity policy, vault grants B", 403, "AccessDeniedException")
	readerPolicy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:DescribeVault","Resource":"%s"}]}`, arn)
	_, reader := ts.createUser(t, acctB, "partner-reader", readerPolicy)
	readerOnA := reader.on(acctA)
	_, r = readerOnA.DescribeVault(vault)
	r.want(t, "B's user allowed by both policies", 200, "")
	_, r = readerOnA.UploadArchive(vault, []byte("from B's user"))
	r.want(t, "B's user UploadArchive (vault grants B, identity policy does not)", 403, "AccessDeniedException")
	_, r = readerOnA.ListTags(vault)
	r.want(t, "B's user ListTagsForVault (vault grants B, identity policy does not)", 403, "AccessDeniedException")

	// The bare account id is the same principal; the new policy replaces
	// the old grant entirely.
	bare := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"glacier:DescribeVault","Resource":"%s"}]}`, acctB, arn)
	a.SetAccessPolicy(vault, bare).mustWant(t, "SetVaultAccessPolicy granting B by account id", 204, "")
	_, r = b.DescribeVault(vault)
	r.want(t, "B DescribeVault granted by bare account id", 200, "")
	_, r = readerOnA.DescribeVault(vault)
	r.want(t, "B's reader granted by bare account id", 200, "")
	_, r = b.UploadArchive(vault, []byte("again"))
	r.want(t, "B UploadArchive no longer granted", 403, "AccessDeniedException")

	// Deleting the policy revokes B at once.
	a.DeleteAccessPolicy(vault).mustWant(t, "DeleteVaultAccessPolicy", 204, "")
	_, r = b.DescribeVault(vault)
	r.want(t, "B DescribeVault after the policy is deleted", 403, "AccessDeniedException")
	_, r = readerOnA.DescribeVault(vault)
	r.want(t, "B's reader after the policy is deleted", 403, "AccessDeniedException")
	// A itself was never affected.
	_, r = a.DescribeVault(vault)
	r.want(t, "A DescribeVault", 200, "")

	// An explicit Deny naming A's own account binds A's root: ARN form,
	// then bare account id form. Allows elsewhere do not help.
	for _, principal := range []string{`"arn:aws:iam::` + acctA + `:root"`, `"` + acctA + `"`, `["` + acctB + `","` + acctA + `"]`} {
		deny := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"%[1]s"},
  {"Effect":"Deny","Principal":{"AWS":%[2]s},"Action":["glacier:ListTagsForVault","glacier:UploadArchive"],"Resource":"%[1]s"}]}`, arn, principal)
		a.SetAccessPolicy(vault, deny).mustWant(t, "SetVaultAccessPolicy denying A "+principal, 204, "")
		_, r = a.ListTags(vault)
		r.wantDenied(t, "A ListTagsForVault denied by its own access policy ("+principal+")", "glacier:ListTagsForVault", arn)
		_, r = a.UploadArchive(vault, []byte("denied"))
		r.wantDenied(t, "A UploadArchive denied by its own access policy ("+principal+")", "glacier:UploadArchive", arn)
		_, r = a.DescribeVault(vault)
		r.want(t, "A DescribeVault not covered by the deny", 200, "")
		// The vault's other actions stay available to the owner.
		_, r = a.DescribeVault("private")
		r.want(t, "A DescribeVault of the other vault", 200, "")
	}
	// The last policy's Deny names B too; its Allow to Principal "*"
	// grants B's root the rest of the vault.
	_, r = b.ListTags(vault)
	r.wantDenied(t, "B ListTagsForVault denied by the Deny naming B and A", "glacier:ListTagsForVault", arn)
	_, r = b.DescribeVault(vault)
	r.want(t, "B DescribeVault under Principal * allow", 200, "")
	a.DeleteAccessPolicy(vault).mustWant(t, "DeleteVaultAccessPolicy", 204, "")
	_, r = a.ListTags(vault)
	r.want(t, "A ListTagsForVault after the deny is removed", 200, "")
}

// TestLegalHoldTag: a lock policy that refuses deletion unless the vault's
// LegalHold tag is explicitly "false" (policies.md §10.2, vault-lock.md
// §5.3): the tag is read at request time and a missing tag counts as a hold.
func TestLegalHoldTag(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	hold := func(arn, key string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"legal-hold","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"%s","Condition":{"StringNotEquals":{"%s":"false"}}}]}`, arn, key)
	}
	const vault = "evidence"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	a1 := c.mustUpload(t, vault)
	a2 := c.mustUpload(t, vault)
	id := c.mustInitiate(t, vault, hold(arn, "glacier:ResourceTag/LegalHold"))
	c.CompleteLock(vault, id).mustWant(t, "CompleteVaultLock", 204, "")

	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive with no LegalHold tag", "glacier:DeleteArchive", arn)
	for _, v := range []string{"true", "", "FALSE", "no"} {
		c.AddTags(vault, map[string]string{"LegalHold": v}).mustWant(t, "AddTagsToVault LegalHold="+v, 204, "")
		c.DeleteArchive(vault, a1).wantDenied(t, fmt.Sprintf("DeleteArchive with LegalHold=%q", v), "glacier:DeleteArchive", arn)
	}
	// Another tag named like it does not count.
	c.AddTags(vault, map[string]string{"LegalHold-old": "false"}).mustWant(t, "AddTagsToVault LegalHold-old=false", 204, "")
	c.DeleteArchive(vault, a1).wantDenied(t, "DeleteArchive with LegalHold-old=false only", "glacier:DeleteArchive", arn)

	c.AddTags(vault, map[string]string{"LegalHold": "false"}).mustWant(t, "AddTagsToVault LegalHold=false", 204, "")
	c.DeleteArchive(vault, a1).want(t, "DeleteArchive with LegalHold=false", 204, "")

	// Switching the hold back on, or removing the tag, protects again.
	c.AddTags(vault, map[string]string{"LegalHold": "true"}).mustWant(t, "AddTagsToVault LegalHold=true", 204, "")
	c.DeleteArchive(vault, a2).wantDenied(t, "DeleteArchive with LegalHold back to true", "glacier:DeleteArchive", arn)
	c.RemoveTags(vault, "LegalHold").mustWant(t, "RemoveTagsFromVault LegalHold", 204, "")
	c.DeleteArchive(vault, a2).wantDenied(t, "DeleteArchive after the tag is removed", "glacier:DeleteArchive", arn)
	c.AddTags(vault, map[string]string{"LegalHold": "false"}).mustWant(t, "AddTagsToVault LegalHold=false", 204, "")
	c.DeleteArchive(vault, a2).want(t, "DeleteArchive with LegalHold=false again", 204, "")

	// The tag-name part of the condition key is matched case-insensitively
	// (policies.md §4.1); the hold also works while the lock is a draft.
	const v2 = "evidence-2"
	arn2 := vaultARN(ts.AccountID, v2)
	c.mustCreate(t, v2)
	a3 := c.mustUpload(t, v2)
	c.mustInitiate(t, v2, hold(arn2, "glacier:resourcetag/legalhold"))
	c.DeleteArchive(v2, a3).wantDenied(t, "DeleteArchive under a lower-case condition key, no tag", "glacier:DeleteArchive", arn2)
	c.AddTags(v2, map[string]string{"LegalHold": "false"}).mustWant(t, "AddTagsToVault LegalHold=false", 204, "")
	c.DeleteArchive(v2, a3).want(t, "DeleteArchive under a lower-case condition key, LegalHold=false", 204, "")
}
