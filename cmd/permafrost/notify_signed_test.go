package main

// Signed notifications: a real server signs its SNS envelopes with the
// installation's key (SignatureVersion 2, SHA256withRSA) and serves the
// certificate at SigningCertURL. Two validators check them, both trusting
// only this server's certificate URL: one written here from AWS's
// documented algorithm, and the npm package sns-validator, the one
// AWS-independent validator most Node receivers use.

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/notify"
)

// snsVerify validates a decoded SNS Notification as AWS's "Verifying the
// signatures of Amazon SNS messages" describes: the SigningCertURL must
// be one the receiver trusts (here: under trustedPrefix), the certificate
// is fetched from it, the string to sign is built from Message,
// MessageId, Subject (if present), Timestamp, TopicArn and Type as
// "name\nvalue\n", and SignatureVersion 2 is SHA256withRSA over it.
func snsVerify(m map[string]any, trustedPrefix string, client *http.Client) error {
	certURL, _ := m["SigningCertURL"].(string)
	if !strings.HasPrefix(certURL, trustedPrefix) {
		return fmt.Errorf("SigningCertURL %q is not under the trusted %q", certURL, trustedPrefix)
	}
	if m["SignatureVersion"] != "2" {
		return fmt.Errorf("SignatureVersion %v, want 2", m["SignatureVersion"])
	}
	resp, err := client.Get(certURL)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", certURL, resp.Status)
	}
	blk, _ := pem.Decode(body)
	if blk == nil {
		return fmt.Errorf("GET %s: not PEM: %q", certURL, body)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("certificate key is not RSA")
	}
	var sts strings.Builder
	for _, k := range []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"} {
		if v, ok := m[k].(string); ok {
			sts.WriteString(k + "\n" + v + "\n")
		}
	}
	sig, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["Signature"]))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(sts.String()))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// snsValidatorDir installs the npm package sns-validator (once per
// machine, in the user cache) and returns the directory holding its
// node_modules. Missing node or npm fails the test: scripts/test's
// machines have them.
func snsValidatorDir(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check notifications with the sns-validator npm package: %v (install Node.js)", tool, err)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "permafrost-test", "sns-validator-0.3.5")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "sns-validator", "index.js")); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "sns-validator@0.3.5")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install sns-validator: %v\n%s", err, out)
	}
	return dir
}

// snsValidatorScript validates the JSON message on stdin with
// sns-validator, trusting certificate hosts matching the first argument, and prints
// "valid" or the error.
const snsValidatorScript = `
const MessageValidator = require('sns-validator');
const v = new MessageValidator(new RegExp(process.argv[1]));
let input = '';
process.stdin.on('data', d => input += d).on('end', () => {
  v.validate(input, (err, msg) => {
    if (err) { console.log('invalid: ' + err.message); process.exit(1); }
    console.log('valid ' + msg.MessageId);
  });
});
`

func runSNSValidator(t *testing.T, dir, caFile, hostPattern string, body []byte) (string, error) {
	t.Helper()
	cmd := exec.Command("node", "-e", snsValidatorScript, "--", hostPattern)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"), "NODE_EXTRA_CA_CERTS="+caFile)
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestSignedNotificationsVerify(t *testing.T) {
	nodeDir := snsValidatorDir(t)
	recv := newNotifReceiver(t, 200)

	// sns-validator fetches certificates over HTTPS only, so receivers
	// reach the server through a TLS front (as behind a load balancer),
	// and --public-url names it.
	var front *httptest.Server
	var ts *testServer
	front = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := url.Parse(ts.URL())
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer front.Close()
	ts = jobServeDir(t, t.TempDir(), func(c *Config) {
		c.JobDelays = "none"
		c.PublicURL = front.URL
		c.SNSEndpoints = []string{notifVaultTopic + "=" + recv.URL + "/vault"}
	})
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, notifAccount) // the topic's own account
	caFile := filepath.Join(t.TempDir(), "front.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	c := ts.client()
	mustCreateVault(t, c, "v")
	notifSetVault(t, c, "v", notifVaultTopic, "ArchiveRetrievalCompleted")
	archiveID := jobUpload(t, c, "v", "signed", randomBytes(3000))
	id := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "", ""))
	post := recv.wait(t, id, "want the job's notification", notifDelivered("/vault"))[0]

	var m map[string]any
	if err := json.Unmarshal(post.Body, &m); err != nil {
		t.Fatal(err)
	}
	trusted := front.URL + notify.PathPrefix
	if err := snsVerify(m, trusted, front.Client()); err != nil {
		t.Fatalf("the notification does not verify by AWS's algorithm: %v\n%s", err, post.Body)
	}
	if u, _ := m["UnsubscribeURL"].(string); u != trusted+"unsubscribe?TopicArn="+url.QueryEscape(notifVaultTopic) {
		t.Errorf("UnsubscribeURL = %q", u)
	}

	host := strings.TrimPrefix(front.URL, "https://")
	pattern := "^" + regexp.QuoteMeta(host) + "$"
	if out, err := runSNSValidator(t, nodeDir, caFile, pattern, post.Body); err != nil || !strings.HasPrefix(out, "valid ") {
		t.Fatalf("sns-validator rejects the notification: %v: %s\n%s", err, out, post.Body)
	}
	// The same validator rejects a tampered message, and a message whose
	// certificate host it was not told to trust.
	m["Message"] = strings.Replace(m["Message"].(string), "Succeeded", "Failed", 1)
	tampered, _ := json.Marshal(m)
	if out, err := runSNSValidator(t, nodeDir, caFile, pattern, tampered); err == nil || !strings.Contains(out, "signature is invalid") {
		t.Errorf("sns-validator on a tampered message: %v: %s", err, out)
	}
	if out, err := runSNSValidator(t, nodeDir, caFile, `^sns\.example\.com$`, post.Body); err == nil || !strings.Contains(out, "invalid domain") {
		t.Errorf("sns-validator trusting another host: %v: %s", err, out)
	}

	// The key survives a restart: a message signed after it verifies
	// against the same certificate URL.
	ts = ts.jobRestart(t, func(c *Config) {
		c.JobDelays = "none"
		c.PublicURL = front.URL
		c.SNSEndpoints = []string{notifVaultTopic + "=" + recv.URL + "/vault"}
	})
	id2 := ts.jobInitiate(t, ts.client(), "v", jobArchiveParams(archiveID, "", ""))
	post2 := recv.wait(t, id2, "want the second job's notification", notifDelivered("/vault"))[0]
	var m2 map[string]any
	json.Unmarshal(post2.Body, &m2)
	if m2["SigningCertURL"] != m["SigningCertURL"] {
		t.Errorf("SigningCertURL changed across a restart: %v, was %v", m2["SigningCertURL"], m["SigningCertURL"])
	}
	if err := snsVerify(m2, trusted, front.Client()); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

// TestSignedNotificationsMultiNode: nodes on one PostgreSQL database make
// and use one signing key, whichever gets there first, so a receiver
// trusts one certificate for the whole service.
func TestSignedNotificationsMultiNode(t *testing.T) {
	nodes := startNodes(t, 3, nil)
	ctx := context.Background()
	certs := make(chan string, len(nodes))
	for _, n := range nodes {
		go func() {
			c, err := n.signer.CertificatePEM(ctx)
			if err != nil {
				t.Error(err)
			}
			certs <- string(c)
		}()
	}
	first := <-certs
	for range len(nodes) - 1 {
		if c := <-certs; c != first {
			t.Fatalf("two nodes made different signing certificates:\n%s\n%s", first, c)
		}
	}
	// A message signed by a signer that loads the key from node 2's store
	// verifies with the certificate fetched from node 0.
	e := notify.NewEnvelope(pf.Notification{ID: "n-1", TopicARN: notifVaultTopic, Message: "{}", CreatedAt: time.Now()})
	signer := &notify.Signer{Store: nodes[2].stores.meta, BaseURL: nodes[0].URL()}
	if err := signer.Sign(ctx, &e); err != nil {
		t.Fatal(err)
	}
	body, _ := e.Marshal()
	var m map[string]any
	json.Unmarshal(body, &m)
	if err := snsVerify(m, nodes[0].URL()+notify.PathPrefix, http.DefaultClient); err != nil {
		t.Errorf("node 2's message with node 0's certificate: %v", err)
	}
}
