// Command permafrost-scalebench measures what must not grow with the
// archive count (issue 20): for each size in -sizes it fills a new
// embedded store (SQLite + local files) with that many archives and
// reports the server's start-up time (exec to the first answered signed
// request) and RSS, the latencies of DescribeVault, ListVaults, ListJobs,
// ListMultipartUploads, InitiateJob and DeleteArchive, an inventory job
// (time and the server's peak RSS), the start-up housekeeping pass, the
// full reconciliation (`permafrost reconcile`) and scrub durations, and
// meta.db bytes per archive. `make bench-scale` runs it.
//
// How the store is filled, honestly: the archives are inserted directly
// into meta.db with SQL in large transactions (synchronous=OFF), the rows
// an upload commits (archive and one segment with its leaf), not uploaded
// through the API — uploading ten million archives through the API would
// take days on this machine. Each archive is one byte ("x"), so its tree
// hash and leaf are real and a scrub verifies it. The blob files are
// written only for sizes up to -blob-files-max (files of millions of
// one-byte blobs cost inodes and time, not what is measured); above it the
// reconciliation and scrub are not run, and DeleteArchive removes a blob
// that is not there (not an error).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	_ "modernc.org/sqlite"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

const (
	account = "123456789012"
	keyID   = "SCALEBENCHKEY0000001"
	secret  = "scale-bench-secret-0123456789abcdef"
	vault   = "scale"
	reps    = 20
)

// scrubInterval is the measured server's --scrub-interval.
var scrubInterval string

type result struct {
	N             int
	FillSeconds   float64
	BlobFiles     bool
	MetaBytes     int64
	StartupMS     []float64 // exec → first answered signed request, per start
	RSSMiB        float64
	HousekeepMS   float64
	Latency       map[string][]float64 // ms
	InventorySec  float64
	InventoryRSS  float64 // VmHWM MiB after the inventory
	InventoryN    int64
	ReconcileSec  float64
	ScrubSec      float64
	ServerVersion string
}

func main() {
	sizes := flag.String("sizes", "10000,1000000,10000000", "archive counts, comma-separated")
	root := flag.String("dir", "bench/tmp/scale", "where the stores are built (removed after each size)")
	out := flag.String("out", "", "write the Markdown report here too")
	blobMax := flag.Int("blob-files-max", 1000000, "write blob files only up to this many archives")
	keep := flag.Bool("keep", false, "keep the stores")
	flag.StringVar(&scrubInterval, "server-scrub-interval", "0", "the server's --scrub-interval (0: the background scrubber off, so that it does not compete with what is measured; its memory is what -server-scrub-interval 720h shows)")
	flag.Parse()
	ctx := context.Background()

	if err := os.MkdirAll(*root, 0o755); err != nil {
		fatal(err)
	}
	bin, _ := filepath.Abs(filepath.Join(*root, "permafrost"))
	if b, err := exec.Command("go", "build", "-o", bin, "./cmd/permafrost").CombinedOutput(); err != nil {
		fatal(fmt.Errorf("go build: %v\n%s", err, b))
	}
	var results []result
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fatal(err)
		}
		dir, _ := filepath.Abs(filepath.Join(*root, fmt.Sprintf("n%d", n)))
		os.RemoveAll(dir)
		r, err := runSize(ctx, bin, dir, n, n <= *blobMax)
		if err != nil {
			fatal(fmt.Errorf("%d archives: %w", n, err))
		}
		results = append(results, r)
		if !*keep {
			os.RemoveAll(dir)
		}
		fmt.Fprintln(os.Stderr, report(results))
	}
	rep := report(results)
	fmt.Println(rep)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(rep), 0o644); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "permafrost-scalebench:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func runSize(ctx context.Context, bin, dir string, n int, files bool) (result, error) {
	r := result{N: n, BlobFiles: files, Latency: map[string][]float64{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	// The schema, through the store itself.
	st, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return r, err
	}
	if _, _, err := st.CreateVault(ctx, pf.Vault{AccountID: account, Name: vault, CreatedAt: time.Now()}, 1000); err != nil {
		return r, err
	}
	st.Close()
	logf("filling %d archives (blob files: %v)", n, files)
	start := time.Now()
	if err := fill(ctx, dir, n, files); err != nil {
		return r, err
	}
	r.FillSeconds = time.Since(start).Seconds()
	r.MetaBytes = fileSize(filepath.Join(dir, "meta.db")) + fileSize(filepath.Join(dir, "meta.db-wal"))
	logf("filled in %.0fs, meta.db %d bytes", r.FillSeconds, r.MetaBytes)

	// Start-up: three starts, each timed from exec to the first answered
	// signed request.
	var p *proc
	for i := range 3 {
		p, err = start1(ctx, bin, dir)
		if err != nil {
			return r, err
		}
		r.StartupMS = append(r.StartupMS, p.startup.Seconds()*1000)
		if i < 2 {
			p.stop()
		}
	}
	defer p.stop()
	r.HousekeepMS = p.waitHousekeeping()
	r.RSSMiB, _ = p.memory()
	c := client(p.url)

	ids, err := sampleIDs(dir, 2*reps)
	if err != nil {
		return r, err
	}
	timeOp := func(name string, fn func(i int) error) error {
		for i := range reps {
			t := time.Now()
			if err := fn(i); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			r.Latency[name] = append(r.Latency[name], float64(time.Since(t).Microseconds())/1000)
		}
		return nil
	}
	v := aws.String(vault)
	steps := []struct {
		name string
		fn   func(i int) error
	}{
		{"DescribeVault", func(int) error { _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: v}); return err }},
		{"ListVaults", func(int) error { _, err := c.ListVaults(ctx, &glacier.ListVaultsInput{}); return err }},
		{"InitiateJob (archive-retrieval)", func(i int) error {
			_, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: v, JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(ids[i])}})
			return err
		}},
		{"ListJobs", func(int) error { _, err := c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: v}); return err }},
		{"InitiateMultipartUpload", func(int) error {
			_, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: v, PartSize: aws.String("1048576")})
			return err
		}},
		{"ListMultipartUploads", func(int) error {
			_, err := c.ListMultipartUploads(ctx, &glacier.ListMultipartUploadsInput{VaultName: v})
			return err
		}},
		{"DeleteArchive", func(i int) error {
			_, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: v, ArchiveId: aws.String(ids[reps+i])})
			return err
		}},
	}
	for _, s := range steps {
		if err := timeOp(s.name, s.fn); err != nil {
			return r, err
		}
	}
	logf("latencies done; inventory")
	t := time.Now()
	r.InventoryN, err = inventory(ctx, c)
	if err != nil {
		return r, err
	}
	r.InventorySec = time.Since(t).Seconds()
	_, r.InventoryRSS = p.memory()
	if want := int64(n - reps); r.InventoryN != want {
		return r, fmt.Errorf("inventory lists %d archives, want %d", r.InventoryN, want)
	}
	p.stop()

	if files {
		logf("reconcile")
		t = time.Now()
		if b, err := exec.Command(bin, "reconcile", "--data-dir", dir).CombinedOutput(); err != nil {
			return r, fmt.Errorf("reconcile: %v: %s", err, b)
		}
		r.ReconcileSec = time.Since(t).Seconds()
		logf("scrub")
		t = time.Now()
		if b, err := exec.Command(bin, "scrub", "--data-dir", dir).CombinedOutput(); err != nil {
			return r, fmt.Errorf("scrub: %v: %s", err, b)
		}
		r.ScrubSec = time.Since(t).Seconds()
	}
	return r, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// fill inserts n one-byte archives, each with one segment, in
// transactions of 100,000, and (when files) writes their blobs.
func fill(ctx context.Context, dir string, n int, files bool) error {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var vaultID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM vaults WHERE name = ?`, vault).Scan(&vaultID); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("x"))
	rng := rand.New(rand.NewPCG(20, 20))
	raw := make([]byte, 103) // 138 characters of base64url, as Glacier's ids
	now := time.Now().UnixMilli()
	const batch = 100_000
	blobs := filepath.Join(dir, "archives", "blobs")
	for done := 0; done < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		ia, err := tx.PrepareContext(ctx, `INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description) VALUES (?, ?, ?, 1, ?, ?)`)
		if err != nil {
			return err
		}
		is, err := tx.PrepareContext(ctx, `INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves) VALUES (?, 0, ?, 1, ?, ?)`)
		if err != nil {
			return err
		}
		end := min(n, done+batch)
		for i := done; i < end; i++ {
			for k := range raw {
				raw[k] = byte(rng.Uint32())
			}
			id := base64.RawURLEncoding.EncodeToString(raw)
			key := fmt.Sprintf("a/%02x/%032x", i&0xff, uint64(i)*0x9E3779B97F4A7C15^rng.Uint64())
			if _, err := ia.ExecContext(ctx, id, vaultID, now-int64(n-i)*10, sum[:], fmt.Sprintf("backup %08d", i)); err != nil {
				return err
			}
			if _, err := is.ExecContext(ctx, id, key, sum[:], sum[:]); err != nil {
				return err
			}
			if files {
				path := filepath.Join(blobs, filepath.FromSlash(key))
				if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
					if !errors.Is(err, os.ErrNotExist) {
						return err
					}
					if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
						return err
					}
					if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
						return err
					}
				}
			}
		}
		ia.Close()
		is.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		done = end
		if done%1_000_000 == 0 || done == n {
			logf("  %d archives", done)
		}
	}
	_, err = db.ExecContext(ctx, `UPDATE vaults SET number_of_archives = ?, size_in_bytes = ?, last_write_at = ? WHERE id = ?`, n, n, now, vaultID)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// sampleIDs returns k archive ids spread over the vault.
func sampleIDs(dir string, k int) ([]string, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT max(rowid) FROM archives`).Scan(&n); err != nil {
		return nil, err
	}
	var ids []string
	for i := range k {
		var id string
		rowid := 1 + int64(i)*(n-1)/int64(k)
		if err := db.QueryRow(`SELECT id FROM archives WHERE rowid >= ? ORDER BY rowid LIMIT 1`, rowid).Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

type proc struct {
	cmd     *exec.Cmd
	url     string
	startup time.Duration
	exited  chan struct{}
}

func start1(ctx context.Context, bin, dir string) (*proc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--job-delays", "none", "--inventory-interval", "0", "--log-level", "warn", "--scrub-interval", scrubInterval)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERMAFROST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PERMAFROST_ACCESS_KEY_ID="+keyID, "PERMAFROST_SECRET_ACCESS_KEY="+secret, "PERMAFROST_ACCOUNT_ID="+account)
	logf, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &proc{cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	c := client(p.url)
	t := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	logf.Close()
	go func() { cmd.Wait(); close(p.exited) }()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := c.ListVaults(cctx, &glacier.ListVaultsInput{})
		cancel()
		if err == nil {
			p.startup = time.Since(t)
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("server exited during start-up (see %s/server.log)", dir)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(t) > 10*time.Minute {
			p.stop()
			return nil, errors.New("server did not answer within 10 minutes")
		}
	}
}

func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitHousekeeping returns the ms until the start-up housekeeping pass
// reports done (from the first answer).
func (p *proc) waitHousekeeping() float64 {
	t := time.Now()
	for time.Since(t) < 10*time.Minute {
		var h struct {
			Info struct {
				HK struct {
					Done bool `json:"startup_pass_done"`
				} `json:"housekeeping"`
			}
		}
		if resp, err := http.Get(p.url + "/_permafrost/v1/health"); err == nil {
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Info.HK.Done {
				return float64(time.Since(t).Microseconds()) / 1000
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return -1
}

// memory returns VmRSS and VmHWM in MiB.
func (p *proc) memory() (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			peak = kb / 1024
		}
	}
	return rss, peak
}

func client(url string) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// inventory runs a JSON inventory job and counts the archives its output
// lists, streaming.
func inventory(ctx context.Context, c *glacier.Client) (int64, error) {
	out, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String(vault),
		JobParameters: &types.JobParameters{Type: aws.String("inventory-retrieval"), Format: aws.String("JSON")}})
	if err != nil {
		return 0, err
	}
	for {
		d, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: out.JobId})
		if err != nil {
			return 0, err
		}
		if d.Completed {
			if d.StatusCode != types.StatusCodeSucceeded {
				return 0, fmt.Errorf("inventory job %s: %s", d.StatusCode, aws.ToString(d.StatusMessage))
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	o, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String(vault), JobId: out.JobId})
	if err != nil {
		return 0, err
	}
	defer o.Body.Close()
	token := []byte(`"ArchiveId"`)
	var n int64
	var tail []byte
	buf := make([]byte, 1<<20)
	for {
		k, err := o.Body.Read(buf)
		chunk := append(tail, buf[:k]...)
		n += int64(bytes.Count(chunk, token))
		if len(chunk) >= len(token)-1 {
			tail = append([]byte(nil), chunk[len(chunk)-len(token)+1:]...)
			// an occurrence fully inside the kept tail was counted already;
			// the tail is shorter than the token, so none is.
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func stats(v []float64) (med, max float64) {
	if len(v) == 0 {
		return 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

func report(rs []result) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# Scale report (issue 20): embedded store, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (shared with other work), Go %s. Archives inserted directly into meta.db (SQL, transactions of 100,000; see cmd/permafrost-scalebench). Latencies: median / max of %d requests over loopback, one client. Server: --job-delays none --inventory-interval 0 --scrub-interval %s.\n\n", host, runtime.NumCPU(), runtime.Version(), reps, scrubInterval)
	b.WriteString("| | " + join(rs, func(r result) string { return thousands(r.N) + " archives" }) + " |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(rs)) + "\n")
	row := func(name string, f func(r result) string) {
		b.WriteString("| " + name + " | " + join(rs, f) + " |\n")
	}
	row("fill time (s)", func(r result) string { return fmt.Sprintf("%.0f", r.FillSeconds) })
	row("meta.db bytes / archive", func(r result) string { return fmt.Sprintf("%.0f", float64(r.MetaBytes)/float64(r.N)) })
	row("meta.db size (MiB)", func(r result) string { return fmt.Sprintf("%.0f", float64(r.MetaBytes)/(1<<20)) })
	row("start-up: exec → first answered signed request (ms, 3 starts)", func(r result) string {
		var s []string
		for _, v := range r.StartupMS {
			s = append(s, fmt.Sprintf("%.0f", v))
		}
		return strings.Join(s, " / ")
	})
	row("RSS after start (MiB)", func(r result) string { return fmt.Sprintf("%.0f", r.RSSMiB) })
	row("start-up housekeeping pass done after first answer (ms)", func(r result) string { return fmt.Sprintf("%.0f", r.HousekeepMS) })
	var names []string
	if len(rs) > 0 {
		for _, k := range []string{"DescribeVault", "ListVaults", "ListJobs", "ListMultipartUploads", "InitiateJob (archive-retrieval)", "InitiateMultipartUpload", "DeleteArchive"} {
			if _, ok := rs[0].Latency[k]; ok {
				names = append(names, k)
			}
		}
	}
	for _, k := range names {
		row(k+" (ms, median / max)", func(r result) string {
			m, x := stats(r.Latency[k])
			return fmt.Sprintf("%.1f / %.1f", m, x)
		})
	}
	row("inventory job, InitiateJob → last byte (s)", func(r result) string { return fmt.Sprintf("%.1f", r.InventorySec) })
	row("server peak RSS after the inventory (VmHWM, MiB)", func(r result) string { return fmt.Sprintf("%.0f", r.InventoryRSS) })
	row("`permafrost reconcile` (lists every blob) (s)", func(r result) string {
		if !r.BlobFiles {
			return "not run (no blob files)"
		}
		return fmt.Sprintf("%.1f", r.ReconcileSec)
	})
	row("`permafrost scrub` (s)", func(r result) string {
		if !r.BlobFiles {
			return "not run (no blob files)"
		}
		return fmt.Sprintf("%.1f", r.ScrubSec)
	})
	return b.String()
}

func join(rs []result, f func(result) string) string {
	var s []string
	for _, r := range rs {
		s = append(s, f(r))
	}
	return strings.Join(s, " | ")
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
