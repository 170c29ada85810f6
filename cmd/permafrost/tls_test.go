package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCA is a certificate authority made by the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "permafrost test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a server certificate for 127.0.0.1 and localhost with the
// serial to certFile and its key to keyFile.
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedSerial connects to addr trusting only ca and returns the serial
// of the certificate the server presents.
func servedSerial(t *testing.T, ca *testCA, addr string) int64 {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSWithAWSCLI serves HTTPS with a certificate from a CA the test
// makes, drives it with the aws CLI (--ca-bundle), checks that
// aws:SecureTransport is true there (and false on plain HTTP), and that
// SIGHUP loads a renewed certificate.
func TestTLSWithAWSCLI(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	ca.issue(t, 100, certFile, keyFile)

	data := filepath.Join(dir, "data")
	cfg := testConfig(t, data)
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	m := &Main{Config: cfg, Stderr: testLogWriter{t}}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("URL %s is not https", m.URL())
	}
	ts := &testServer{Main: m}
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "")

	cli := newAWSCLI(t, ts, dir)
	var created struct{ Location string }
	cli.json(&created, "create-vault", "--vault-name", "secure", "--ca-bundle", caFile)
	var list struct{ VaultList []struct{ VaultName string } }
	cli.json(&list, "list-vaults", "--ca-bundle", caFile)
	if len(list.VaultList) != 1 || list.VaultList[0].VaultName != "secure" {
		t.Fatalf("list-vaults over TLS: %+v", list)
	}
	// Without the CA the CLI refuses the certificate: it really is TLS.
	if _, errb, err := cli.run("list-vaults"); err == nil || !bytes.Contains(bytes.ToLower(errb), []byte("certificate")) {
		t.Fatalf("list-vaults without --ca-bundle: %v %s", err, errb)
	}

	// A user whose identity policy allows ListVaults only over TLS.
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:ListVaults","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	policyFile := filepath.Join(dir, "tls-only.json")
	os.WriteFile(policyFile, []byte(policy), 0o600)
	user := func(ts *testServer, name string) (string, string) {
		var out, errOut bytes.Buffer
		args := append([]string{"users", "create", "--account-id", ts.AccountID, "--name", name, "--policy-file", policyFile, "--json"}, storeArgs(t, ts.Config.DataDir)...)
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("users create: %v (%s)", err, errOut.String())
		}
		var u userOutput
		json.Unmarshal(out.Bytes(), &u)
		return u.AccessKeyID, u.SecretAccessKey
	}
	id, secret := user(ts, "tls-only")
	userCLI := newAWSCLI(t, &testServer{Main: m, KeyID: id, Secret: secret}, filepath.Join(dir))
	userCLI.json(&list, "list-vaults", "--ca-bundle", caFile)
	plain := mustServe(t)
	id, secret = user(plain, "tls-only")
	plainCLI := newAWSCLI(t, &testServer{Main: plain.Main, KeyID: id, Secret: secret}, t.TempDir())
	plainCLI.wantError("AccessDeniedException", "list-vaults")

	// SIGHUP re-reads the renewed certificate.
	if got := servedSerial(t, ca, m.Addr()); got != 100 {
		t.Fatalf("served serial %d, want 100", got)
	}
	ca.issue(t, 200, certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the renewed certificate", func() bool { return servedSerial(t, ca, m.Addr()) == 200 })
	cli.json(&list, "list-vaults", "--ca-bundle", caFile)
}

// TestTLSSettingsErrors: half a TLS setting, or files that do not load,
// stop the start naming the setting.
func TestTLSSettingsErrors(t *testing.T) {
	cwd := t.TempDir()
	for _, args := range [][]string{
		{"--tls-cert", filepath.Join(cwd, "c.pem")},
		{"--tls-key", filepath.Join(cwd, "k.pem")},
		{"--tls-cert", filepath.Join(cwd, "c.pem"), "--tls-key", filepath.Join(cwd, "k.pem")},
	} {
		code, out, errOut := runProc(t, cwd, cleanEnv(), append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(cwd, "data")}, args...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, "--tls-") {
			t.Errorf("serve %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Fatalf("a failed start created %v", entries)
	}
}
