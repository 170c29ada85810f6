package notify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// SigningSetting is the metadata-store setting that holds the
// installation's notification signing identity: a PKCS #8 RSA private key
// and its self-signed certificate, both PEM. It lives in the metadata
// store so that every node on one PostgreSQL database signs with the same
// key, and it is made once, by whichever node signs or serves the
// certificate first.
const SigningSetting = "sns_signing_identity"

// PathPrefix is where Signer's handler is mounted on the API listener.
const PathPrefix = "/_permafrost/v1/sns/"

// SettingsStore is the part of the metadata store the Signer needs.
type SettingsStore interface {
	GetSetting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// SettingCreator is implemented by stores that can store a setting only if
// it is unset, atomically, returning the value stored afterwards. Both
// metadata stores implement it; with a store that does not, two nodes
// making the key at the same instant could each sign with their own.
type SettingCreator interface {
	CreateSetting(ctx context.Context, key, value string) (string, error)
}

// Signer signs notification envelopes the way Amazon SNS does
// (SignatureVersion 2: RSA PKCS #1 v1.5 over the SHA-256 of the string to
// sign) with a per-installation key, and serves the certificate for that
// key at the envelope's SigningCertURL, so that receivers can check
// messages with any standard SNS message validator configured to trust
// this server's certificate URL instead of AWS's.
//
// The Signer is also the http.Handler for everything under PathPrefix:
//
//	GET PathPrefix + "SimpleNotificationService-<fingerprint>.pem"   the certificate
//	GET PathPrefix + "unsubscribe?TopicArn=…"                        see UnsubscribeURL
//
// The key is loaded from, or created in, the SigningSetting on first use,
// not at start-up: RSA key generation takes a moment, and an installation
// that never sends a notification never needs one.
type Signer struct {
	Store SettingsStore
	// BaseURL is the URL receivers reach this server's API listener at,
	// without a trailing slash, e.g. "https://glacier.example.com". It
	// prefixes SigningCertURL and UnsubscribeURL. Set it before the first
	// Sign.
	BaseURL string

	mu sync.Mutex
	id *identity
}

type identity struct {
	key     *rsa.PrivateKey
	certPEM []byte
	name    string // the certificate's file name under PathPrefix
}

// Sign fills e's SignatureVersion, Signature, SigningCertURL and
// UnsubscribeURL. The signature covers StringToSign, so it must be called
// after every other field is set.
func (s *Signer) Sign(ctx context.Context, e *Envelope) error {
	id, err := s.identity(ctx)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(s.BaseURL, "/")
	e.SignatureVersion = "2"
	e.SigningCertURL = base + PathPrefix + id.name
	e.UnsubscribeURL = base + PathPrefix + "unsubscribe?TopicArn=" + url.QueryEscape(e.TopicARN)
	sum := sha256.Sum256([]byte(e.StringToSign()))
	sig, err := rsa.SignPKCS1v15(nil, id.key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("notify: signing message %s: %w", e.MessageID, err)
	}
	e.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// CertificatePEM returns the signing certificate, creating the identity if
// there is none yet.
func (s *Signer) CertificatePEM(ctx context.Context) ([]byte, error) {
	id, err := s.identity(ctx)
	if err != nil {
		return nil, err
	}
	return id.certPEM, nil
}

// ServeHTTP serves the certificate and the unsubscribe answer. It needs no
// authentication: a certificate is public, and the unsubscribe answer
// changes nothing.
func (s *Signer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, PathPrefix)
	if name == "unsubscribe" {
		// There are no SNS subscriptions to leave: which URL receives a
		// topic's messages is the operator's configuration (--sns-endpoint,
		// --sns-topics-file). A 2xx would make a receiver believe it had
		// unsubscribed, so the answer is 501 with what to do instead.
		topic := r.URL.Query().Get("TopicArn")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprintf(w, "permafrost has no SNS subscriptions to leave: the endpoints that receive topic %q are set by the "+
			"operator of this server (--sns-endpoint or --sns-topics-file). Ask them to remove yours; nothing was changed.\n", topic)
		return
	}
	id, err := s.identity(r.Context())
	if err != nil {
		http.Error(w, "signing certificate unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if name != id.name {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(id.certPEM)
}

// identity returns the signing identity, loading it from the store or
// creating it there on first use. A failure is not remembered: the next
// call tries again.
func (s *Signer) identity(ctx context.Context) (*identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != nil {
		return s.id, nil
	}
	if s.Store == nil {
		return nil, errors.New("notify: Signer has no Store")
	}
	v, err := s.Store.GetSetting(ctx, SigningSetting)
	if err != nil {
		return nil, fmt.Errorf("notify: reading the signing key: %w", err)
	}
	if v == "" {
		fresh, err := NewSigningIdentity(time.Now())
		if err != nil {
			return nil, err
		}
		if c, ok := s.Store.(SettingCreator); ok {
			v, err = c.CreateSetting(ctx, SigningSetting, fresh)
		} else {
			if err = s.Store.PutSetting(ctx, SigningSetting, fresh); err == nil {
				v, err = s.Store.GetSetting(ctx, SigningSetting)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("notify: storing the signing key: %w", err)
		}
	}
	id, err := parseIdentity(v)
	if err != nil {
		return nil, fmt.Errorf("notify: setting %s: %w", SigningSetting, err)
	}
	s.id = id
	return id, nil
}

// NewSigningIdentity makes a 2048-bit RSA key and a self-signed
// certificate for it, valid from an hour before now for 30 years, and
// returns both PEM-encoded, as stored in SigningSetting.
func NewSigningIdentity(now time.Time) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("notify: generating the signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "permafrost notification signing", Organization: []string{"permafrost"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(30, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("notify: making the signing certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return b.String(), nil
}

func parseIdentity(v string) (*identity, error) {
	var key *rsa.PrivateKey
	var cert *x509.Certificate
	var certPEM []byte
	rest := []byte(v)
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("private key is %T, want RSA", k)
			}
			key = rk
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			cert, certPEM = c, pem.EncodeToMemory(blk)
		}
	}
	if key == nil || cert == nil {
		return nil, errors.New("want a PEM private key and certificate")
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("the certificate is not for the private key")
	}
	fp := sha256.Sum256(cert.Raw)
	return &identity{key: key, certPEM: certPEM, name: "SimpleNotificationService-" + hex.EncodeToString(fp[:16]) + ".pem"}, nil
}
