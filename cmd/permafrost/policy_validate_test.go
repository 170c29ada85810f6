package main

// End-to-end tests of policy validation (`permafrost policy validate`,
// InitiateVaultLock's checks) and of bounded policy evaluation.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestPathologicalUserAgentPolicy: a 19 KB StringLike pattern on
// aws:UserAgent against a 400 KB User-Agent is answered in milliseconds
// (the backtracking matcher took ~19 CPU-seconds), both when the pattern
// does not match (allowed) and when it does (denied).
func TestPathologicalUserAgentPolicy(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "agents"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	root := ctxPrincipal{name: "root", keyID: ts.KeyID, secret: ts.Secret}
	agent := strings.Repeat("a", 400*1024)
	for _, pc := range []struct {
		name, pattern string
		bound         time.Duration
	}{
		// The case: the backtracking matcher needed ~19 s.
		{"star then literal", "*" + strings.Repeat("a", 19*1024) + "b", time.Second},
		// The worst case of the '?' automaton, O(len × pattern/64): tens
		// of milliseconds on an idle core.
		{"question marks", "*" + strings.Repeat("a?", 19*1024/2) + "b", 5 * time.Second},
	} {
		name, pattern := pc.name, pc.pattern
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DescribeVault","Resource":"%s","Condition":{"StringLike":{"aws:UserAgent":"%s"}}}]}`, arn, pattern)
		if len(doc) > 20480 {
			t.Fatalf("%s: policy is %d bytes", name, len(doc))
		}
		c.SetAccessPolicy(vault, doc).mustWant(t, "SetVaultAccessPolicy "+name, 204, "")
		for _, tc := range []struct {
			agent  string
			status int
		}{{agent, 200}, {agent + "b", 403}} {
			root.userAgent = tc.agent
			start := time.Now()
			r := ts.doAs(t, root, "GET", "/-/vaults/"+vault, nil, nil)
			el := time.Since(start)
			t.Logf("%s, %d-byte User-Agent: %d in %v", name, len(tc.agent), r.Status, el)
			if r.Status != tc.status {
				t.Errorf("%s: got %d %.200s, want %d", name, r.Status, r.Body, tc.status)
			}
			// Generous for a loaded 2-core machine: the bound this guards
			// is "not seconds of CPU per request".
			if el > pc.bound {
				t.Errorf("%s: the request took %v", name, el)
			}
		}
	}
}

// validateRun runs `permafrost policy validate` with --json and returns
// the decoded output and whether the command failed.
func validateRun(t *testing.T, args ...string) (validateOutput, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(bg, append([]string{"policy", "validate", "--json"}, args...), &out, &errOut)
	var v validateOutput
	if jerr := json.Unmarshal(out.Bytes(), &v); jerr != nil {
		t.Fatalf("policy validate %v printed %q (stderr %q, err %v): %v", args, out.String(), errOut.String(), err, jerr)
	}
	if (err != nil) != !v.Valid {
		t.Fatalf("policy validate %v: err %v but valid=%v", args, err, v.Valid)
	}
	return v, err
}

func codes(v validateOutput) []string {
	var out []string
	for _, f := range v.Findings {
		out = append(out, f.Severity+" "+f.Code)
	}
	return out
}

// TestPolicyValidateCorpus: good and broken documents through the command.
func TestPolicyValidateCorpus(t *testing.T) {
	const acct = "111122223333"
	arn := vaultARN(acct, "records")
	vaultFlags := []string{"--vault-arn", arn}
	lockDoc := func(stmt string) string { return `{"Version":"2012-10-17","Statement":[` + stmt + `]}` }
	rows := []struct {
		name  string
		doc   string
		flags []string
		want  []string
	}{
		{"retention lock", lockDoc(`{"Sid":"deny-young-deletes","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + arn + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`),
			append([]string{"--lock"}, vaultFlags...), nil},
		{"MFA Deny never applies", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + arn + `","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`),
			append([]string{"--lock"}, vaultFlags...), []string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"session key never present", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:Delete*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T00:00:00Z"}}}`),
			[]string{"--lock"}, []string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"broken JSON", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny",}]}`, nil, []string{"ERROR INVALID_POLICY"}},
		{"unknown operator", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:*","Resource":"*","Condition":{"NumericLessThen":{"glacier:ArchiveAgeInDays":"1"}}}`), nil, []string{"ERROR INVALID_POLICY"}},
		{"missing Principal", lockDoc(`{"Effect":"Deny","Action":"glacier:*","Resource":"*"}`), []string{"--lock"}, []string{"ERROR INVALID_POLICY"}},
		{"S3 action", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}`), nil, []string{"ERROR ACTION_NOT_GLACIER"}},
		{"other account", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:us-east-1:444455556666:vaults/records"}`), vaultFlags, []string{"ERROR RESOURCE_OTHER_ACCOUNT"}},
		{"other region", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:eu-west-1:111122223333:vaults/records"}`),
			[]string{"--account-id", acct, "--region", "us-east-1", "--vault", "records"}, []string{"ERROR RESOURCE_OTHER_REGION"}},
		{"service principal", lockDoc(`{"Effect":"Deny","Principal":{"Service":"glacier.amazonaws.com"},"Action":"glacier:DeleteArchive","Resource":"*"}`), nil, []string{"SECURITY_WARNING PRINCIPAL_NEVER_MATCHES"}},
		{"key case and redundant statement", lockDoc(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*","Condition":{"NumericLessThan":{"glacier:archiveageindays":"365"}}},{"Sid":"again","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*","Condition":{"NumericLessThan":{"glacier:archiveageindays":"365"}}}`),
			nil, []string{"SUGGESTION KEY_CASE", "SUGGESTION KEY_CASE", "SUGGESTION REDUNDANT_STATEMENT"}},
		{"identity policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:DescribeVault","Resource":"*"}]}`, []string{"--identity"}, nil},
	}
	for _, r := range rows {
		f := writePolicyFile(t, "corpus", r.doc)
		v, err := validateRun(t, append(r.flags, f)...)
		got := codes(v)
		if strings.Join(got, ",") != strings.Join(r.want, ",") {
			t.Errorf("%s: findings %v, want %v (%+v)", r.name, got, r.want, v.Findings)
		}
		wantErr := len(r.want) > 0 && strings.HasPrefix(r.want[0], "ERROR")
		if (err != nil) != wantErr {
			t.Errorf("%s: command error %v, want error %v", r.name, err, wantErr)
		}
	}

	// Human output names the finding and the counts; - reads standard
	// input is covered by the same code path as FILE.
	var out bytes.Buffer
	f := writePolicyFile(t, "human", rows[1].doc)
	if err := run(bg, []string{"policy", "validate", "--lock", f}, &out, &out); err != nil {
		t.Fatalf("policy validate (warnings only) failed: %v", err)
	}
	for _, want := range []string{"SECURITY_WARNING KEY_NEVER_PRESENT at Statement[0].Condition.Bool.aws:MultiFactorAuthPresent", "0 errors, 1 security warning"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("human output %q lacks %q", out.String(), want)
		}
	}
	if err := run(bg, []string{"policy", "validate", "--lock", "--identity", f}, &out, &out); err == nil {
		t.Errorf("--lock with --identity was accepted")
	}
}

// examplePolicies extracts every policy document from Markdown text: JSON
// objects with a Statement (heredocs and code blocks; $ACCOUNT stands for
// an account id) and the documents inside the aws CLI's --policy
// '{"Policy": "…"}' wrapper.
func examplePolicies(t *testing.T, text string) []string {
	t.Helper()
	text = strings.ReplaceAll(text, "$ACCOUNT", "111122223333")
	// ```text blocks show the grammar of a document, not a policy.
	text = regexp.MustCompile("(?s)```text\n.*?```").ReplaceAllString(text, "")
	var docs []string
	for _, m := range regexp.MustCompile(`'(\{"Policy": ".*?"\})'`).FindAllStringSubmatch(text, -1) {
		var w struct{ Policy string }
		if err := json.Unmarshal([]byte(m[1]), &w); err != nil {
			t.Fatalf("--policy wrapper %s: %v", m[1], err)
		}
		docs = append(docs, w.Policy)
	}
	for i := 0; i < len(text); i++ {
		j := strings.Index(text[i:], `"Statement"`)
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		if at > 0 && text[at-1] == '\\' {
			continue // inside a --policy wrapper
		}
		// The innermost enclosing object that decodes as a document.
		found := false
		for k := at; k >= 0 && !found; k-- {
			if text[k] != '{' {
				continue
			}
			dec := json.NewDecoder(strings.NewReader(text[k:]))
			var m map[string]json.RawMessage
			if dec.Decode(&m) == nil && m["Statement"] != nil {
				docs = append(docs, text[k:k+int(dec.InputOffset())])
				i = k + int(dec.InputOffset())
				found = true
			}
		}
		if !found {
			t.Fatalf("a \"Statement\" at byte %d is in no JSON document: %.80q", at, text[at:])
		}
	}
	return docs
}

// TestDocumentedPoliciesValidateClean: every example policy in README.md
// and docs/ validates with no finding at all, so the examples cannot drift
// into policies that do not mean what they say.
func TestDocumentedPoliciesValidateClean(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	total := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range examplePolicies(t, string(b)) {
			total++
			args := []string{"--account-id", "111122223333", "--region", "us-east-1"}
			switch {
			case !strings.Contains(doc, `"Principal"`) && !strings.Contains(doc, `"NotPrincipal"`):
				args = append(args, "--identity")
			case strings.Contains(doc, `"Deny"`):
				args = append(args, "--lock")
			}
			v, _ := validateRun(t, append(args, writePolicyFile(t, "example", doc))...)
			if len(v.Findings) > 0 {
				t.Errorf("%s, example %d: %s\nfindings: %+v", file, i, doc, v.Findings)
			}
		}
	}
	t.Logf("%d example policies validated", total)
	if total < 6 { // README: 3, docs/policy-context.md: 3
		t.Fatalf("found only %d example policies in README.md and docs/; the extraction is broken", total)
	}
}

// TestInitiateVaultLockValidation: InitiateVaultLock refuses a lock policy
// with validation errors (nothing stored), accepts one with warnings, and
// `permafrost policy validate --vault` shows those warnings afterwards.
func TestInitiateVaultLockValidation(t *testing.T) {
	ts := mustServe(t)
	c := ts.rootClient()
	const vault = "records"
	arn := vaultARN(ts.AccountID, vault)
	c.mustCreate(t, vault)
	deny := func(resource, cond string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"%s"%s}]}`, resource, cond)
	}
	for name, doc := range map[string]string{
		"other account": deny("arn:aws:glacier:us-east-1:444455556666:vaults/"+vault, ""),
		"other region":  deny("arn:aws:glacier:eu-west-1:"+ts.AccountID+":vaults/"+vault, ""),
		"s3 resource":   deny("arn:aws:s3:::bucket/*", ""),
		"s3 action":     strings.Replace(deny(arn, ""), "glacier:DeleteArchive", "s3:DeleteObject", 1),
		"bad grammar":   strings.Replace(deny(arn, ""), `"Effect":"Deny"`, `"Effect":"deny"`, 1),
	} {
		_, r := c.InitiateLock(vault, doc)
		r.want(t, "InitiateVaultLock with "+name, 400, "InvalidParameterValueException")
		if !strings.Contains(r.Message(), "Statement[0]") {
			t.Errorf("InitiateVaultLock with %s: message %q does not name the element", name, r.Message())
		}
		_, r = c.GetLock(vault)
		r.want(t, "GetVaultLock after a refused "+name, 404, "ResourceNotFoundException")
	}

	// Warnings do not refuse; the operator sees them afterwards.
	warned := deny(arn, `,"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`)
	c.mustInitiate(t, vault, warned)
	v, err := validateRun(t, append([]string{"--account-id", ts.AccountID, "--vault", vault}, storeArgs(t, ts.Config.DataDir)...)...)
	if err != nil || strings.Join(codes(v), ",") != "SECURITY_WARNING KEY_NEVER_PRESENT" {
		t.Errorf("policy validate of the stored lock: %v, %v", codes(v), err)
	}
	if !strings.Contains(v.Source, arn) || !strings.Contains(v.Source, "InProgress") {
		t.Errorf("source %q does not name the vault and the lock state", v.Source)
	}
	// Without --region the vault is in the installation's recorded region:
	// recorded as eu-west-1, the stored policy's us-east-1 ARN is reported.
	if err := ts.stores.meta.PutSetting(bg, regionSetting, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	v, _ = validateRun(t, append([]string{"--account-id", ts.AccountID, "--vault", vault}, storeArgs(t, ts.Config.DataDir)...)...)
	if !strings.Contains(strings.Join(codes(v), ","), "RESOURCE_OTHER_REGION") || !strings.Contains(v.Source, "arn:aws:glacier:eu-west-1:") {
		t.Errorf("policy validate of the stored lock in an eu-west-1 installation: %v, source %q", codes(v), v.Source)
	}
	if err := ts.stores.meta.PutSetting(bg, regionSetting, "us-east-1"); err != nil {
		t.Fatal(err)
	}
	// A vault without a lock policy, and a missing vault.
	c.mustCreate(t, "unlocked")
	var out bytes.Buffer
	if err := run(bg, append([]string{"policy", "validate", "--account-id", ts.AccountID, "--vault", "unlocked"}, storeArgs(t, ts.Config.DataDir)...), &out, &out); err == nil || !strings.Contains(err.Error(), "no lock policy") {
		t.Errorf("policy validate of a vault without a lock: %v", err)
	}
	want := "vault missing of account " + ts.AccountID + " does not exist"
	if err := run(bg, append([]string{"policy", "validate", "--account-id", ts.AccountID, "--vault", "missing"}, storeArgs(t, ts.Config.DataDir)...), &out, &out); err == nil || err.Error() != want {
		t.Errorf("policy validate of a missing vault: %v; want %q", err, want)
	}
}

// logLines collects a server's log lines.
type logLines struct {
	tb testing.TB
	ch chan string
}

func (w logLines) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		select {
		case w.ch <- l:
		default:
		}
	}
	return len(p), nil
}

// TestEvaluationStopsWhenClientHangsUp: a policy whose evaluation against
// an 800 KB User-Agent needs seconds of CPU (2,000 StringLike values, each
// scanning the whole header) stops when the client hangs up: the server
// finishes the request moments after the hang-up instead of evaluating on.
func TestEvaluationStopsWhenClientHangsUp(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.LogLevel, cfg.LogFormat = "info", "json"
	logs := logLines{t, make(chan string, 1024)}
	m := &Main{Config: cfg, Stderr: logs}
	if err := m.Open(bg); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")
	c := ts.rootClient()
	const vault = "slow"
	c.mustCreate(t, vault)

	values := make([]string, 0, 2200)
	for len(values) < cap(values) {
		values = append(values, `"*a?b*"`)
	}
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DescribeVault","Resource":"%s","Condition":{"StringLike":{"aws:UserAgent":[%s]}}}]}`,
		vaultARN(ts.AccountID, vault), strings.Join(values, ","))
	if len(doc) > 20480 {
		t.Fatalf("policy is %d bytes", len(doc))
	}
	c.SetAccessPolicy(vault, doc).mustWant(t, "SetVaultAccessPolicy", 204, "")
	for len(logs.ch) > 0 {
		<-logs.ch
	}

	root := ctxPrincipal{name: "root", keyID: ts.KeyID, secret: ts.Secret, userAgent: strings.Repeat("a", 800*1024)}
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL()+"/-/vaults/"+vault, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	req.Header.Set("User-Agent", root.userAgent)
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: root.keyID, SecretAccessKey: root.secret}
	if err := v4.NewSigner().SignHTTP(bg, creds, req, hex.EncodeToString(empty[:]), "glacier", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the request finished (%d) before the client hung up; the evaluation is not slow enough to test", resp.StatusCode)
	}
	hungUp := time.Now()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-logs.ch:
			if !strings.Contains(l, `"msg":"request"`) || !strings.Contains(l, `"op":"DescribeVault"`) {
				continue
			}
			if el := time.Since(hungUp); el > time.Second {
				t.Fatalf("the server finished the request %v after the client hung up: %s", el, l)
			} else {
				t.Logf("the server finished the request %v after the client hung up", el)
			}
			return
		case <-timeout:
			t.Fatal("the server never finished the request")
		}
	}
}
