package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// certReloader holds the TLS certificate of --tls-cert/--tls-key and
// re-reads both files on SIGHUP, so a renewed certificate (certbot, an
// internal CA) takes effect without a restart. A reload that fails keeps
// the previous certificate and logs why.
type certReloader struct {
	certFile, keyFile string

	mu   sync.RWMutex
	cert *tls.Certificate
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert = &c
	r.mu.Unlock()
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// tlsConfig is the server side of --tls-cert: TLS 1.2 or later, HTTP/1.1
// (what Glacier clients speak).
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"http/1.1"},
	}
}

// listen binds --listen, wrapped in TLS when --tls-cert is set. Binding
// comes first in Open: a port in use fails the start before anything is
// created.
func (m *Main) listen() (net.Listener, error) {
	if m.Config.TLSCert != "" {
		certs, err := newCertReloader(m.Config.TLSCert, m.Config.TLSKey)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		m.certs = certs
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", m.Config.Listen, err)
	}
	if m.certs != nil {
		ln = tls.NewListener(ln, m.certs.tlsConfig())
	}
	return ln, nil
}

// watchSIGHUP re-reads the certificate on each SIGHUP until stop is
// closed.
func (m *Main) watchSIGHUP(stop <-chan struct{}) {
	if m.certs == nil {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-stop:
				return
			case <-ch:
				if err := m.certs.reload(); err != nil {
					m.logger.Error("TLS certificate reload failed; keeping the previous certificate", "err", err)
				} else {
					m.logger.Info("TLS certificate reloaded", "cert", m.certs.certFile)
				}
			}
		}
	}()
}
