package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves net/http/pprof on its own listener (--pprof-listen),
// never on the Glacier port: profiles are for operators diagnosing a
// regression, not for clients.
func (m *Main) startPprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.pprof.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.logger.Warn("pprof listener stopped", "err", err)
		}
	}()
	m.logger.Info("pprof serving", "addr", ln.Addr().String())
	return nil
}
