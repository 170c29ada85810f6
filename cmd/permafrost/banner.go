package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/permafrost/permafrost/internal/glacier"
)

// switches lists the testing and development settings that are on, so
// that a server started with them by mistake says so at once.
func (c Config) switches() []string {
	var on []string
	if c.Dev {
		on = append(on, "dev")
	}
	if c.TestClock {
		on = append(on, "test-clock")
	}
	if c.JobDelays != DefaultConfig().JobDelays {
		on = append(on, "job-delays="+c.JobDelays)
	}
	if c.PprofListen != "" {
		on = append(on, "pprof-listen="+c.PprofListen)
	}
	return on
}

// storeFlags are the store settings of the configuration.
func (c Config) storeFlags() storeFlags {
	return storeFlags{DataDir: c.DataDir, Meta: c.Meta, Blobs: c.Blobs}
}

// announce says what this server is, once it is serving: one structured
// log line, a short human banner when stderr is a terminal, and then the
// first-start key on stdout (or, when none was made now, how to make one).
func (m *Main) announce(ctx context.Context, firstKey *glacier.AccessKey) {
	c := m.Config
	sw := c.switches()
	vcs := revisionString()
	attrs := []any{
		"endpoint", m.URL(),
		"region", c.Region,
		"meta", describeMeta(c.storeFlags()),
		"blobs", describeBlobs(c.storeFlags()),
		"version", versionString(),
		"revision", vcs,
		"tls", m.certs != nil,
		"switches", strings.Join(sw, ","),
	}
	if c.MetricsListen != "" && m.metricsLn != nil {
		attrs = append(attrs, "metrics", "http://"+m.metricsLn.Addr().String()+"/metrics")
	}
	m.logger.Info("permafrost serving", attrs...)
	if c.TestClock {
		m.logger.Warn("--test-clock is on: anyone who can reach the listener can move this server's clock forward (POST /_permafrost/v1/clock), so this installation carries no retention guarantee; never use it for real data")
	}

	if isTerminal(m.Stderr) {
		var b strings.Builder
		fmt.Fprintf(&b, "\npermafrost %s (revision %s)\n", versionString(), vcs)
		fmt.Fprintf(&b, "  endpoint  %s  (region %s)\n", m.URL(), c.Region)
		fmt.Fprintf(&b, "  metadata  %s\n", describeMeta(c.storeFlags()))
		fmt.Fprintf(&b, "  archives  %s\n", describeBlobs(c.storeFlags()))
		fmt.Fprintf(&b, "  health    %s/_permafrost/v1/health\n", m.URL())
		if m.metricsLn != nil {
			fmt.Fprintf(&b, "  metrics   http://%s/metrics\n", m.metricsLn.Addr())
		}
		if len(sw) > 0 {
			fmt.Fprintf(&b, "  TESTING   %s (not for production)\n", strings.Join(sw, ", "))
		}
		fmt.Fprintln(&b)
		io.WriteString(m.Stderr, b.String())
	}

	if firstKey != nil {
		printFirstKey(m.Stdout, firstKey)
		return
	}
	if os.Getenv("PERMAFROST_ACCESS_KEY_ID") != "" || c.Dev { // --dev prints its key (dev.go)
		return
	}
	keys, err := m.service.ListAccessKeys(ctx, "")
	if err != nil {
		return
	}
	m.logger.Info("no key is printed at this start (a first-start key is shown only once); to make a new one, run: "+createKeyCommand(c.storeFlags()), "access_keys", len(keys))
}

// createKeyCommand is the command that makes an account and key in the
// installation of f.
func createKeyCommand(f storeFlags) string {
	if f.Meta != "" {
		return "permafrost accounts create --meta '" + redactString(redact(f.Meta)) + "' (with the real password)"
	}
	return "permafrost accounts create --data-dir " + shellQuote(absPath(f.DataDir))
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
