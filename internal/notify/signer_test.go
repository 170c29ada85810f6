package notify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSettings is a settings store in memory, with CreateSetting.
type memSettings struct {
	mu      sync.Mutex
	m       map[string]string
	creates int
}

func (s *memSettings) GetSetting(_ context.Context, k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k], nil
}

func (s *memSettings) PutSetting(_ context.Context, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
	return nil
}

func (s *memSettings) CreateSetting(_ context.Context, k, v string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.creates++
	if old, ok := s.m[k]; ok {
		return old, nil
	}
	s.m[k] = v
	return v, nil
}

// snsStringToSign builds the string to sign of a Notification as AWS
// documents it ("Verifying the signatures of Amazon SNS messages"): the
// keys Message, MessageId, Subject (only if present), Timestamp, TopicArn
// and Type, in that order, each as "name\nvalue\n". It works on the
// decoded JSON, independently of Envelope.StringToSign.
func snsStringToSign(m map[string]any) string {
	var b strings.Builder
	for _, k := range []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"} {
		v, ok := m[k].(string)
		if !ok {
			continue
		}
		b.WriteString(k + "\n" + v + "\n")
	}
	return b.String()
}

// verifySNS checks a decoded SNS message's signature against certPEM the
// way AWS documents: SignatureVersion 1 is SHA1withRSA and 2 is
// SHA256withRSA, over the base64-decoded Signature.
func verifySNS(m map[string]any, certPEM []byte) error {
	if m["Type"] != "Notification" {
		return fmt.Errorf("Type %v", m["Type"])
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("certificate key is %T", cert.PublicKey)
	}
	var h hash.Hash
	var alg crypto.Hash
	switch m["SignatureVersion"] {
	case "1":
		h, alg = sha1.New(), crypto.SHA1
	case "2":
		h, alg = sha256.New(), crypto.SHA256
	default:
		return fmt.Errorf("SignatureVersion %v", m["SignatureVersion"])
	}
	sig, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["Signature"]))
	if err != nil {
		return fmt.Errorf("Signature: %w", err)
	}
	h.Write([]byte(snsStringToSign(m)))
	return rsa.VerifyPKCS1v15(pub, alg, h.Sum(nil), sig)
}

func decode(t *testing.T, e Envelope) map[string]any {
	t.Helper()
	body, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignerSignsVerifiablyAndServesItsCertificate(t *testing.T) {
	store := &memSettings{}
	s := &Signer{Store: store}
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.BaseURL = srv.URL + "/"

	for _, subject := range []string{"Notification From AWS Glacier", ""} {
		n := note("n-1", t0)
		n.Subject = subject
		e := NewEnvelope(n)
		if err := s.Sign(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		m := decode(t, e)
		certURL := e.SigningCertURL
		if !strings.HasPrefix(certURL, srv.URL+PathPrefix) || !strings.HasSuffix(certURL, ".pem") {
			t.Fatalf("SigningCertURL = %q", certURL)
		}
		resp, err := http.Get(certURL)
		if err != nil {
			t.Fatal(err)
		}
		certPEM, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", certURL, resp.Status)
		}
		if err := verifySNS(m, certPEM); err != nil {
			t.Errorf("subject %q: message does not verify with the served certificate: %v", subject, err)
		}
		// Any change to a signed field breaks the signature.
		m["Message"] = m["Message"].(string) + " "
		if err := verifySNS(m, certPEM); err == nil {
			t.Errorf("a tampered message verifies")
		}
	}

	// Another certificate name is not found; the unsubscribe URL explains.
	resp, err := http.Get(srv.URL + PathPrefix + "SimpleNotificationService-0000.pem")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown certificate: %s, want 404", resp.Status)
	}
	e := NewEnvelope(note("n-2", t0))
	if err := s.Sign(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(e.UnsubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), topic) ||
		!strings.Contains(string(body), "--sns-endpoint") {
		t.Errorf("UnsubscribeURL %s: %s %s", e.UnsubscribeURL, resp.Status, body)
	}
}

// Several nodes on one store (one PostgreSQL settings table) sign with one
// key, whichever makes it first; a restart loads it.
func TestSignersShareOneStoredKey(t *testing.T) {
	store := &memSettings{}
	signers := make([]*Signer, 4)
	certs := make([][]byte, len(signers))
	var wg sync.WaitGroup
	for i := range signers {
		signers[i] = &Signer{Store: store, BaseURL: "http://x"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := signers[i].CertificatePEM(context.Background())
			if err != nil {
				t.Error(err)
			}
			certs[i] = c
		}()
	}
	wg.Wait()
	for i := range certs {
		if string(certs[i]) != string(certs[0]) {
			t.Fatalf("signer %d has another certificate", i)
		}
	}
	later := &Signer{Store: store, BaseURL: "http://x"}
	e := NewEnvelope(note("n-1", t0))
	if err := later.Sign(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	if err := verifySNS(decode(t, e), certs[0]); err != nil {
		t.Errorf("a restarted signer's message does not verify with the first certificate: %v", err)
	}
}

func TestSignerRejectsDamagedSetting(t *testing.T) {
	store := &memSettings{}
	store.PutSetting(context.Background(), SigningSetting, "not pem")
	s := &Signer{Store: store}
	e := NewEnvelope(note("n-1", t0))
	if err := s.Sign(context.Background(), &e); err == nil || !strings.Contains(err.Error(), SigningSetting) {
		t.Errorf("Sign with a damaged setting: %v", err)
	}
	other, err := NewSigningIdentity(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := NewSigningIdentity(time.Now())
	keyOf := func(s string) string { return s[:strings.Index(s, "-----BEGIN CERTIFICATE")] }
	certOf := func(s string) string { return s[strings.Index(s, "-----BEGIN CERTIFICATE"):] }
	store.PutSetting(context.Background(), SigningSetting, keyOf(mine)+certOf(other))
	if err := s.Sign(context.Background(), &e); err == nil || !strings.Contains(err.Error(), "not for the private key") {
		t.Errorf("Sign with a mismatched certificate: %v", err)
	}
}
