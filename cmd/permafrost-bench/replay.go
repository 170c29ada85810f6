package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

// replay (issue #13): server-bound rates. One signed request is replayed
// by wrk over replayConns keep-alive connections, so the client costs
// little (wrk is C, and signs nothing: the signature stays valid within
// the server's 15-minute clock-skew window) and the figure is the
// server's. The references are measured in the same run: a bare net/http
// handler answering the same paths with a canned body (the do-nothing
// server), and replayConns plain writers each doing create + 4 KiB write +
// fsync + link + directory fsync on the data disk.
const (
	replayConns = 16
	replaySmall = 4 * kib
)

// wrkPath finds wrk, installing Debian's package when it is missing. It
// fails loudly: the replay workload cannot be measured without it.
func wrkPath(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "wrk")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wrk is not installed and `apt-get install -y wrk` failed (%v): %s", err, lastLines(string(out), 3))
	}
	return exec.LookPath("wrk")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// signedRequest is one request signed for replay.
type signedRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

// signReplay signs method path (with body) for the server at base, with
// the bench's key, as aws-sdk-go-v2 would.
func signReplay(ctx context.Context, base, method, path string, body []byte, extra map[string]string) (signedRequest, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return signedRequest{}, err
	}
	req.Header.Set("x-amz-glacier-version", "2012-06-01")
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	ph := hex.EncodeToString(sum[:])
	if len(body) > 0 {
		req.Header.Set("x-amz-content-sha256", ph)
		req.ContentLength = int64(len(body))
	}
	s := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: benchKeyID, SecretAccessKey: benchSecret}
	if err := s.SignHTTP(ctx, creds, req, ph, "glacier", "us-east-1", time.Now()); err != nil {
		return signedRequest{}, err
	}
	h := req.Header.Clone()
	h.Set("Host", req.Host)
	return signedRequest{method: method, path: path, header: h, body: body}, nil
}

// luaScript is the wrk script replaying r; with several addresses, wrk's
// threads are spread over them (a client-side balancer keeping the signed
// Host header).
func (r signedRequest) luaScript(addrs []string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "wrk.method = %q\n", r.method)
	for k, vs := range r.header {
		fmt.Fprintf(&sb, "wrk.headers[%q] = %q\n", k, vs[0])
	}
	if len(r.body) > 0 {
		fmt.Fprintf(&sb, "wrk.body = %q\n", string(r.body))
	}
	if len(addrs) > 1 {
		sb.WriteString("local addrs = {}\nlocal n = 0\n")
		for _, a := range addrs {
			host, port, _ := net.SplitHostPort(a)
			fmt.Fprintf(&sb, "table.insert(addrs, wrk.lookup(%q, %q)[1])\n", host, port)
		}
		sb.WriteString("function setup(thread)\n  n = n + 1\n  thread.addr = addrs[(n - 1) % #addrs + 1]\nend\n")
	}
	return sb.String()
}

var (
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
	wrkSocket = regexp.MustCompile(`Socket errors:[^\n]*`)
)

// runWrk replays r against the servers at urls for d over conns
// connections and returns the rate of answered requests; any non-2xx
// answer or socket error fails the run.
func (b *bench) runWrk(ctx context.Context, wrk string, urls []string, r signedRequest, conns int, d time.Duration) (float64, error) {
	var addrs []string
	for _, u := range urls {
		addrs = append(addrs, strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"))
	}
	script := filepath.Join(b.run, fmt.Sprintf("replay-%d.lua", time.Now().UnixNano()))
	if err := os.WriteFile(script, []byte(r.luaScript(addrs)), 0o600); err != nil {
		return 0, err
	}
	defer os.Remove(script)
	threads := "2"
	secs := fmt.Sprintf("%ds", max(1, int((d+time.Second-1)/time.Second))) // wrk counts whole seconds
	cmd := exec.CommandContext(ctx, wrk, "-t"+threads, "-c"+strconv.Itoa(conns), "-d"+secs, "-s", script, urls[0]+r.path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, lastLines(string(out), 3))
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		return 0, fmt.Errorf("wrk: %s non-2xx answers to %s %s", m[1], r.method, r.path)
	}
	if m := wrkSocket.Find(out); m != nil {
		return 0, fmt.Errorf("wrk: %s", m)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no rate: %s", lastLines(string(out), 3))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// replayRequests are the requests replayed on a server at base.
func replayRequests(ctx context.Context, base string) (describe, list, upload signedRequest, err error) {
	if describe, err = signReplay(ctx, base, "GET", "/-/vaults/"+benchVault, nil, nil); err != nil {
		return
	}
	if list, err = signReplay(ctx, base, "GET", "/-/vaults", nil, nil); err != nil {
		return
	}
	body := make([]byte, replaySmall)
	for i := range body {
		body[i] = 'a' + byte(i%26) // printable: it travels inside a Lua string
	}
	tree := treehash.Sum(body)
	upload, err = signReplay(ctx, base, "POST", "/-/vaults/"+replayVault+"/archives", body, map[string]string{
		"x-amz-sha256-tree-hash":    hex.EncodeToString(tree[:]),
		"x-amz-archive-description": "replay",
	})
	return
}

// replayVault receives the replayed small uploads.
const replayVault = "replay"

// replay measures the server-bound rates on b.pf (and moto), with the
// do-nothing server and the plain fsync writers measured once per run as
// references.
func (b *bench) replay(ctx context.Context) error {
	wrk, err := wrkPath(ctx)
	if err != nil {
		return err
	}
	if err := b.replayCeilings(ctx, wrk); err != nil {
		return err
	}
	const section = "Server-bound rates (issue #13: one signed request replayed by wrk, 16 connections)"
	rows := []struct {
		id, name, ceil string
		pick           func(d, l, u signedRequest) signedRequest
	}{
		{"replay-describe/16", "DescribeVault, replayed", "wrk-bare/16", func(d, l, u signedRequest) signedRequest { return d }},
		{"replay-list/16", "ListVaults, replayed", "wrk-bare/16", func(d, l, u signedRequest) signedRequest { return l }},
		{"replay-upload4k/16", "UploadArchive 4 KiB, replayed (each answered once durable)", "fsync-writers/16", func(d, l, u signedRequest) signedRequest { return u }},
	}
	for _, s := range b.servers() {
		if _, err := s.c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(replayVault)}); err != nil {
			return fmt.Errorf("%s: CreateVault: %w", s.name, err)
		}
	}
	for _, r := range rows {
		row := Row{ID: r.id, Section: section, Unit: "req/s", Higher: true, Name: r.name + ", 16 connections", Ceil: []string{r.ceil}}
		if r.id == "replay-upload4k/16" && b.s3CeilingIDs("") != nil {
			// 4 KiB archives are inline: kept in PostgreSQL, not the bucket.
			row.Ceil = append(row.Ceil, "pg-insert/small16")
		}
		b.both(ctx, row, func(ctx context.Context, s *server) (float64, error) {
			var urls []string
			for _, p := range s.procs {
				urls = append(urls, p.url)
			}
			if len(urls) == 0 && s.proc != nil {
				urls = []string{s.proc.url}
			}
			d, l, u, err := replayRequests(ctx, urls[0])
			if err != nil {
				return 0, err
			}
			return b.runWrk(ctx, wrk, urls, r.pick(d, l, u), replayConns, b.cfg.duration)
		})
	}
	return nil
}

// replayCeilings measures, once per run, the do-nothing server under the
// same replay and the plain fsync writers.
func (b *bench) replayCeilings(ctx context.Context, wrk string) error {
	for _, c := range b.report.Ceilings {
		if c.ID == "wrk-bare/16" {
			return nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-RequestId", "bench")
		w.Write([]byte(cannedVault))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	d, _, _, err := replayRequests(ctx, base)
	if err != nil {
		return err
	}
	b.ceiling(ctx, Row{ID: "wrk-bare/16", Name: "do-nothing net/http server, one signed DescribeVault replayed by wrk, 16 connections",
		Unit: "req/s", Higher: true, Note: "canned answer; the reference of the replayed metadata rates"}, func(ctx context.Context) (float64, error) {
		return b.runWrk(ctx, wrk, []string{base}, d, replayConns, b.cfg.duration)
	})
	dir := filepath.Join(b.run, "fsync-writers")
	b.ceiling(ctx, Row{ID: "fsync-writers/16", Name: "16 plain writers: create + 4 KiB write + fsync + link + directory fsync",
		Unit: "ops/s", Higher: true, Note: "on the data disk; the reference of the replayed small uploads"}, func(ctx context.Context) (float64, error) {
		return fsyncWriters(ctx, dir, replayConns, b.cfg.duration)
	})
	return nil
}

// fsyncWriters runs n goroutines that each, in a loop, create a temporary
// file, write 4 KiB, fsync it, link it under a new name in a shared
// directory and fsync that directory: what a store that makes every small
// upload durable on its own must do.
func fsyncWriters(ctx context.Context, dir string, n int, d time.Duration) (float64, error) {
	os.RemoveAll(dir)
	tmp, final := filepath.Join(dir, "tmp"), filepath.Join(dir, "blobs")
	for _, p := range []string{tmp, final} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return 0, err
		}
	}
	defer os.RemoveAll(dir)
	buf := make([]byte, replaySmall)
	var done atomic.Int64
	var seq atomic.Int64
	var wg sync.WaitGroup
	var first error
	var mu sync.Mutex
	end := time.Now().Add(d)
	start := time.Now()
	for range n {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				id := strconv.FormatInt(seq.Add(1), 10)
				err := func() error {
					t := filepath.Join(tmp, id)
					f, err := os.OpenFile(t, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
					if err != nil {
						return err
					}
					if _, err := f.Write(buf); err != nil {
						f.Close()
						return err
					}
					if err := f.Sync(); err != nil {
						f.Close()
						return err
					}
					if err := f.Close(); err != nil {
						return err
					}
					if err := os.Link(t, filepath.Join(final, id)); err != nil {
						return err
					}
					if err := syncDir(final); err != nil {
						return err
					}
					return os.Remove(t)
				}()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}
