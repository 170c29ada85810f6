package main

// End-to-end tests of the request context (docs/policy-context.md): for
// every global condition key and the Glacier keys, a vault access policy
// whose Deny is conditioned on the key's real value for the caller denies
// the request, and the same Deny on another value allows it — for the
// owner's root, a user of the owner's account and a user of another
// account, through real signed requests. Keys AWS leaves out of a request
// made with long-term keys are tested absent with Null.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/permafrost/permafrost/internal/treehash"
)

// ctxPrincipal is a caller and the values AWS documents for it.
type ctxPrincipal struct {
	name                string
	keyID, secret       string
	account             string
	arn, typ, userID    string
	userName            string // "" for root
	crossAccount        bool
	userAgent, referrer string
}

// doAs sends a signed request as p to the vault's account, with p's
// User-Agent and Referer.
func (ts *testServer) doAs(t *testing.T, p ctxPrincipal, method, path string, header map[string]string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	req.Header.Set("User-Agent", p.userAgent)
	if p.referrer != "" {
		req.Header.Set("Referer", p.referrer)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("x-amz-content-sha256", payload)
	creds := aws.Credentials{AccessKeyID: p.keyID, SecretAccessKey: p.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "glacier", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, b}
}

// ctxKeyCase is one key: the action it is tested on and the condition
// block of a Deny that holds for p (deny) and one that does not (allow).
type ctxKeyCase struct {
	key         string
	action      string // DescribeVault, UploadArchive or DeleteArchive
	deny, allow func(p ctxPrincipal) string
}

func eq(op, key, v string) string { return fmt.Sprintf(`{%q: {%q: %q}}`, op, key, v) }

func ctxKeyCases(acctA string) []ctxKeyCase {
	now := time.Now().UTC()
	fixed := func(s string) func(ctxPrincipal) string { return func(ctxPrincipal) string { return s } }
	null := func(key string, absent bool) func(ctxPrincipal) string {
		return fixed(eq("Null", key, strconv.FormatBool(absent)))
	}
	return []ctxKeyCase{
		{"aws:CurrentTime", "DescribeVault",
			fixed(eq("DateGreaterThan", "aws:CurrentTime", now.Add(-time.Hour).Format(time.RFC3339))),
			fixed(eq("DateGreaterThan", "aws:CurrentTime", now.Add(time.Hour).Format(time.RFC3339)))},
		{"aws:EpochTime", "DescribeVault",
			fixed(eq("NumericGreaterThan", "aws:EpochTime", strconv.FormatInt(now.Unix()-3600, 10))),
			fixed(eq("NumericGreaterThan", "aws:EpochTime", strconv.FormatInt(now.Unix()+3600, 10)))},
		{"aws:SecureTransport", "DescribeVault", fixed(eq("Bool", "aws:SecureTransport", "false")), fixed(eq("Bool", "aws:SecureTransport", "true"))},
		{"aws:SourceIp", "DescribeVault", fixed(eq("IpAddress", "aws:SourceIp", "127.0.0.1/32")), fixed(eq("IpAddress", "aws:SourceIp", "10.0.0.0/8"))},
		{"aws:UserAgent", "DescribeVault",
			func(p ctxPrincipal) string { return eq("StringEquals", "aws:UserAgent", p.userAgent) },
			fixed(eq("StringLike", "aws:UserAgent", "aws-cli/*"))},
		{"aws:Referer", "DescribeVault",
			func(p ctxPrincipal) string { return eq("StringEquals", "aws:Referer", p.referrer) },
			fixed(eq("StringEquals", "aws:Referer", "https://elsewhere.example/"))},
		{"aws:RequestedRegion", "DescribeVault", fixed(eq("StringEquals", "aws:RequestedRegion", "us-east-1")), fixed(eq("StringEquals", "aws:RequestedRegion", "eu-west-1"))},
		{"aws:PrincipalArn", "DescribeVault",
			func(p ctxPrincipal) string { return eq("ArnEquals", "aws:PrincipalArn", p.arn) },
			func(p ctxPrincipal) string { return eq("ArnEquals", "aws:PrincipalArn", p.arn+"x") }},
		{"aws:PrincipalAccount", "DescribeVault",
			func(p ctxPrincipal) string { return eq("StringEquals", "aws:PrincipalAccount", p.account) },
			fixed(eq("StringEquals", "aws:PrincipalAccount", "999999999999"))},
		{"aws:PrincipalType", "DescribeVault",
			func(p ctxPrincipal) string { return eq("StringEquals", "aws:PrincipalType", p.typ) },
			fixed(eq("StringEquals", "aws:PrincipalType", "AssumedRole"))},
		{"aws:userid", "DescribeVault",
			func(p ctxPrincipal) string { return eq("StringEquals", "aws:userid", p.userID) },
			fixed(eq("StringEquals", "aws:userid", "AIDAOTHER"))},
		{"aws:username", "DescribeVault",
			func(p ctxPrincipal) string {
				if p.userName == "" {
					return eq("Null", "aws:username", "true") // absent for a root
				}
				return eq("StringEquals", "aws:username", p.userName)
			},
			func(p ctxPrincipal) string {
				if p.userName == "" {
					return eq("Null", "aws:username", "false")
				}
				return eq("StringEquals", "aws:username", p.userName+"x")
			}},
		{"aws:ResourceAccount", "DescribeVault", fixed(eq("StringEquals", "aws:ResourceAccount", acctA)), fixed(eq("StringEquals", "aws:ResourceAccount", "999999999999"))},
		{"aws:ViaAWSService", "DescribeVault", fixed(eq("Bool", "aws:ViaAWSService", "false")), fixed(eq("Bool", "aws:ViaAWSService", "true"))},
		{"aws:PrincipalIsAWSService", "DescribeVault", fixed(eq("Bool", "aws:PrincipalIsAWSService", "false")), fixed(eq("Bool", "aws:PrincipalIsAWSService", "true"))},
		// Absent for long-term access keys, as in AWS.
		{"aws:MultiFactorAuthPresent", "DescribeVault", null("aws:MultiFactorAuthPresent", true), null("aws:MultiFactorAuthPresent", false)},
		{"aws:MultiFactorAuthAge", "DescribeVault", null("aws:MultiFactorAuthAge", true), null("aws:MultiFactorAuthAge", false)},
		{"aws:TokenIssueTime", "DescribeVault", null("aws:TokenIssueTime", true), null("aws:TokenIssueTime", false)},
		{"aws:PrincipalOrgID", "DescribeVault", null("aws:PrincipalOrgID", true), null("aws:PrincipalOrgID", false)},
		{"aws:SourceVpc", "DescribeVault", null("aws:SourceVpc", true), null("aws:SourceVpc", false)},
		{"aws:PrincipalTag/team", "DescribeVault", null("aws:PrincipalTag/team", true), null("aws:PrincipalTag/team", false)},
		// The vault's tags, for the actions that carry them.
		{"glacier:ResourceTag/Team", "UploadArchive", fixed(eq("StringEquals", "glacier:ResourceTag/Team", "blue")), fixed(eq("StringEquals", "glacier:ResourceTag/Team", "red"))},
		{"aws:ResourceTag/Team", "UploadArchive", fixed(eq("StringEquals", "aws:ResourceTag/Team", "blue")), fixed(eq("StringEquals", "aws:ResourceTag/Team", "red"))},
		{"aws:ResourceTag/Team on DescribeVault", "DescribeVault", null("aws:ResourceTag/Team", true), null("aws:ResourceTag/Team", false)},
		{"glacier:ArchiveAgeInDays", "DeleteArchive", fixed(eq("NumericLessThan", "glacier:ArchiveAgeInDays", "1")), fixed(eq("NumericGreaterThanEquals", "glacier:ArchiveAgeInDays", "1"))},
	}
}

// TestGlobalConditionKeys: each key through real signed requests.
func TestGlobalConditionKeys(t *testing.T) {
	ts := mustServe(t)
	a := ts.rootClient()
	acctA := ts.AccountID
	const vault = "context"
	arn := vaultARN(acctA, vault)
	a.mustCreate(t, vault)
	a.AddTags(vault, map[string]string{"Team": "blue"}).mustWant(t, "AddTagsToVault", 204, "")

	actions := `["glacier:DescribeVault","glacier:UploadArchive","glacier:DeleteArchive"]`
	allowVault := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%s,"Resource":"%s"}]}`, actions, arn)
	alice, _ := ts.createUser(t, acctA, "alice", allowVault)
	acctB, _ := ts.createAccount(t)
	bob, _ := ts.createUser(t, acctB, "bob", allowVault)

	ua := "permafrost-context-test/1.0 (key check)"
	principals := []ctxPrincipal{
		{name: "owner root", keyID: ts.KeyID, secret: ts.Secret, account: acctA, arn: "arn:aws:iam::" + acctA + ":root",
			typ: "Account", userID: acctA, userAgent: ua + " root", referrer: "https://console.example/root"},
		{name: "owner's user", keyID: alice.AccessKeyID, secret: alice.SecretAccessKey, account: acctA, arn: alice.ARN,
			typ: "User", userID: alice.UserID, userName: "alice", userAgent: ua + " alice", referrer: "https://console.example/alice"},
		{name: "cross-account user", keyID: bob.AccessKeyID, secret: bob.SecretAccessKey, account: acctB, arn: bob.ARN,
			typ: "User", userID: bob.UserID, userName: "bob", crossAccount: true, userAgent: ua + " bob", referrer: "https://console.example/bob"},
	}
	if !strings.HasPrefix(alice.UserID, "AIDA") || !strings.HasPrefix(bob.UserID, "AIDA") {
		t.Fatalf("user ids %q, %q: want AWS-shaped AIDA… ids", alice.UserID, bob.UserID)
	}

	// upload returns a fresh archive in the vault (as the owner).
	upload := func() string {
		id, r := a.UploadArchive(vault, []byte("archive"))
		r.mustWant(t, "UploadArchive as the owner", 201, "")
		return aws.ToString(id.ArchiveId)
	}
	call := func(p ctxPrincipal, action string) rawResponse {
		base := "/" + acctA + "/vaults/" + vault
		switch action {
		case "DescribeVault":
			return ts.doAs(t, p, "GET", base, nil, nil)
		case "UploadArchive":
			body := []byte("from " + p.name)
			return ts.doAs(t, p, "POST", base+"/archives", map[string]string{"x-amz-sha256-tree-hash": treehash.Sum(body).String()}, body)
		case "DeleteArchive":
			return ts.doAs(t, p, "DELETE", base+"/archives/"+upload(), nil, nil)
		}
		t.Fatalf("no such action %s", action)
		return rawResponse{}
	}
	setDeny := func(action, cond string) {
		t.Helper()
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
  {"Sid":"partner","Effect":"Allow","Principal":{"AWS":"%[1]s"},"Action":%[2]s,"Resource":"%[3]s"},
  {"Sid":"under-test","Effect":"Deny","Principal":"*","Action":"glacier:%[4]s","Resource":"%[3]s","Condition":%[5]s}]}`, acctB, actions, arn, action, cond)
		a.SetAccessPolicy(vault, doc).mustWant(t, "SetVaultAccessPolicy "+cond, 204, "")
	}
	okStatus := map[string]int{"DescribeVault": 200, "UploadArchive": 201, "DeleteArchive": 204}

	for _, c := range ctxKeyCases(acctA) {
		t.Run(strings.ReplaceAll(c.key, "/", "_"), func(t *testing.T) {
			for _, p := range principals {
				deny := c.deny(p)
				setDeny(c.action, deny)
				if r := call(p, c.action); r.Status != 403 || !bytes.Contains(r.Body, []byte("AccessDeniedException")) {
					t.Errorf("%s, Deny %s on %s: got %d %s, want 403 AccessDeniedException", p.name, deny, c.action, r.Status, r.Body)
				}
				allow := c.allow(p)
				setDeny(c.action, allow)
				if r := call(p, c.action); r.Status != okStatus[c.action] {
					t.Errorf("%s, Deny %s on %s: got %d %s, want %d", p.name, allow, c.action, r.Status, r.Body, okStatus[c.action])
				}
			}
		})
	}
}
