package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequestLogShutdown: a real `permafrost serve` with the default
// (text) log buffers its request lines, writes them within the flush
// interval while it runs, and writes every one of them, whole and in
// order, before "shutting down" on SIGTERM — also when the signal comes
// right after the last answer.
func TestRequestLogShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	p := startProc(t, dir, cleanEnv(), "serve", "--listen", addr, "--data-dir", dir, "--log-level", "info")
	p.waitLog(t, "permafrost serving")
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) {
		t.Helper()
		resp, err := hc.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest { // no API version header: MissingParameterValue
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
	}

	// While serving: a line is written within the interval, without a shutdown.
	get("/-/vaults/first")
	p.waitLog(t, "path=/-/vaults/first")

	// A burst, then SIGTERM at once: nothing is lost, nothing is torn.
	const n = 2000
	for i := range n {
		get(fmt.Sprintf("/-/vaults/v%05d", i))
	}
	p.stop(t)
	logs := p.stderr.String()
	next := 0
	shutdown := -1
	for i, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "msg=\"shutting down\"") {
			shutdown = i
			if next != n {
				t.Fatalf("\"shutting down\" logged after %d of %d request lines", next, n)
			}
		}
		j := strings.Index(l, "path=/-/vaults/v")
		if j < 0 {
			continue
		}
		if shutdown >= 0 {
			t.Fatalf("request line after \"shutting down\": %q", l)
		}
		want := fmt.Sprintf("path=/-/vaults/v%05d status=400 ", next)
		if !strings.HasPrefix(l[j:], want) || !strings.HasPrefix(l, "time=") || !strings.Contains(l, " level=INFO msg=request request_id=") ||
			!strings.Contains(l, " op=DescribeVault method=GET ") || !strings.Contains(l, " error=MissingParameterValueException") {
			t.Fatalf("request line %d: %q, want %q", next, l, want)
		}
		next++
	}
	if next != n || shutdown < 0 {
		t.Fatalf("%d of %d request lines written, \"shutting down\" at line %d:\n%s", next, n, shutdown, tailLines(logs, 20))
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
