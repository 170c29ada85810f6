package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Outage warnings are rate-limited per message; other records are not.
func TestOutageLogsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	cfg := DefaultConfig()
	log := newLogger(cfg, &buf)
	outage := glacier.Wrap(glacier.KindUnavailable, errors.New("dial tcp: connection refused"), "the database is unavailable")
	for range 100 {
		log.Error("request failed", "err", outage)
		log.Warn("scheduler pass failed; will retry", "err", outage)
		log.Error("request failed", "err", errors.New("a bug"))
	}
	out := buf.String()
	if n := strings.Count(out, "the database is unavailable"); n != 2 {
		t.Errorf("100 outage records of 2 messages logged %d lines, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "a bug"); n != 100 {
		t.Errorf("other errors logged %d times, want 100", n)
	}
}

// Registered secrets vanish from messages, string attributes and errors.
func TestSecretsRedactedInLogs(t *testing.T) {
	registerURLSecrets("postgres://u:Pa%2Fss-w0rd-x@db/permafrost")
	registerURLSecrets("host=db user=u password=kv-Secret-9")
	var buf bytes.Buffer
	log := newLogger(DefaultConfig(), &buf)
	log.Warn("connect to postgres://u:Pa/ss-w0rd-x@db failed", "dsn", "password=kv-Secret-9", "err", errors.New("auth Pa%2Fss-w0rd-x"))
	out := buf.String()
	for _, s := range []string{"Pa/ss-w0rd-x", "Pa%2Fss-w0rd-x", "kv-Secret-9"} {
		if strings.Contains(out, s) {
			t.Errorf("log shows %q: %s", s, out)
		}
	}
	if strings.Count(out, "xxxxx") != 3 {
		t.Errorf("want 3 redactions: %s", out)
	}
	if got := redactString("postgres://u:Pa/ss-w0rd-x@db"); got != "postgres://u:xxxxx@db" {
		t.Errorf("redactString = %q", got)
	}
}
