// Command permafrost-scalebench measures what must not grow with the
// archive count (issue 20): for each size in -sizes it fills a new store
// with that many archives — the embedded store (SQLite + local files) or,
// with -store postgres+s3, a fresh PostgreSQL database and a versitygw
// bucket (pgs3.go) — and reports the server's start-up time (exec to the
// first answered signed request) and RSS, the latencies of DescribeVault,
// ListVaults, ListJobs, ListMultipartUploads, InitiateJob and
// DeleteArchive, an inventory job (time and the server's peak RSS), the
// start-up housekeeping pass, the full reconciliation (`permafrost
// reconcile`) and scrub durations, the metadata bytes per archive, and
// the load average at each phase (the machine is shared). `make
// bench-scale` runs it.
//
// How the store is filled, honestly: the archives are bulk-loaded
// directly into the metadata store (SQLite: multi-row INSERTs with the
// journal off and a 4 GB page cache for the indexes; PostgreSQL: COPY),
// the rows an upload commits (archive and one segment with its leaf), not
// uploaded through the API — uploading ten million archives through the
// API would take days on this machine. Each archive is one byte ("x"), so
// its tree hash and leaf are real and a scrub verifies it. The embedded
// blob files are written only for sizes up to -blob-files-max (files of
// millions of one-byte blobs cost inodes and time, not what is measured);
// above it, and always on S3, only the archives the latency steps sample
// get their blobs (so InitiateJob and DeleteArchive take the same path at
// every size), and the reconciliation and scrub are not run.
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

	"github.com/permafrost/permafrost/internal/blob/disk"
	s3blob "github.com/permafrost/permafrost/internal/blob/s3"
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

var (
	reuse       bool
	pprofListen string
	// storeKind is the target: "embedded" (SQLite + local files) or
	// "postgres+s3" (pgs3.go).
	storeKind    string
	pgAdmin      string
	versitygwBin string
)

// sample is an archive the latency steps use, with its one blob key.
type sample struct{ id, key string }

// target is where the measured server keeps its data.
type target struct {
	dir       string   // the server's --data-dir
	serveArgs []string // store flags besides --data-dir
	env       []string
	samples   []sample
	pg        *pgs3 // nil for the embedded store
}

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
	Load          map[string]string // /proc/loadavg (1, 5, 15 min) at each phase
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func main() {
	sizes := flag.String("sizes", "10000,1000000,10000000", "archive counts, comma-separated")
	root := flag.String("dir", "bench/tmp/scale", "where the stores are built (removed after each size)")
	out := flag.String("out", "", "write the Markdown report here too")
	blobMax := flag.Int("blob-files-max", 1000000, "write blob files only up to this many archives")
	keep := flag.Bool("keep", false, "keep the stores")
	flag.StringVar(&storeKind, "store", "embedded", "the stores measured: embedded (SQLite + local files) or postgres+s3 (a fresh database on -pg-admin's server and a versitygw bucket)")
	flag.StringVar(&pgAdmin, "pg-admin", "postgres://permafrost_test:permafrost-test@127.0.0.1:5432/postgres?sslmode=disable", "postgres+s3: DSN of a role that may create databases (the default is the role internal/testenv creates in the local cluster)")
	flag.StringVar(&versitygwBin, "versitygw", "", "postgres+s3: the versitygw binary (default: on PATH or in $GOPATH/bin)")
	flag.BoolVar(&reuse, "reuse", false, "reuse a store kept (-keep) by an earlier run of the same size instead of filling it again")
	flag.StringVar(&pprofListen, "server-pprof-listen", "", "the measured server's --pprof-listen (profiles while it runs)")
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
		if !reuse {
			os.RemoveAll(dir)
		}
		if storeKind != "embedded" && storeKind != "postgres+s3" {
			fatal(fmt.Errorf("-store %q: embedded or postgres+s3", storeKind))
		}
		r, err := runSize(ctx, bin, dir, n, n <= *blobMax && storeKind == "embedded", *keep)
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

func runSize(ctx context.Context, bin, dir string, n int, files, keep bool) (result, error) {
	r := result{N: n, BlobFiles: files, Latency: map[string][]float64{}, Load: map[string]string{}}
	tg := &target{dir: dir}
	if storeKind == "postgres+s3" {
		return runPGS3(ctx, bin, tg, n, r, keep)
	}
	if reuse && fileSize(filepath.Join(dir, "meta.db")) > 0 {
		logf("reusing %s", dir)
		r.FillSeconds = -1
		// r.BlobFiles as for a fill of this size: the sampled archives'
		// and inventories' blobs do not make a store with blob files.
		return measure(ctx, bin, tg, n, r)
	}
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
	r.Load["fill"] = loadavg()
	start := time.Now()
	if err := fill(ctx, dir, n, files); err != nil {
		return r, err
	}
	r.FillSeconds = time.Since(start).Seconds()
	r.MetaBytes = fileSize(filepath.Join(dir, "meta.db")) + fileSize(filepath.Join(dir, "meta.db-wal"))
	logf("filled in %.0fs, meta.db %d bytes", r.FillSeconds, r.MetaBytes)
	r.Load["fill end"] = loadavg()
	return measure(ctx, bin, tg, n, r)
}

// runPGS3 fills and measures the PostgreSQL + S3 target.
func runPGS3(ctx context.Context, bin string, tg *target, n int, r result, keep bool) (result, error) {
	if err := os.MkdirAll(tg.dir, 0o700); err != nil {
		return r, err
	}
	pg, err := startPGS3(ctx, tg.dir, n)
	if err != nil {
		return r, err
	}
	defer pg.close()
	if !keep {
		defer pg.dropDB(ctx)
	}
	tg.pg = pg
	tg.serveArgs = []string{"--meta", pg.dsn, "--blobs", pg.s3url}
	tg.env = awsEnv()
	logf("filling %d archives into PostgreSQL (%s) with COPY", n, pg.db)
	r.Load["fill"] = loadavg()
	start := time.Now()
	if tg.samples, err = pg.fill(ctx, n, 2*reps); err != nil {
		return r, err
	}
	r.FillSeconds = time.Since(start).Seconds()
	r.Load["fill end"] = loadavg()
	logf("filled in %.0fs", r.FillSeconds)
	return measure(ctx, bin, tg, n, r)
}

func measure(ctx context.Context, bin string, tg *target, n int, r result) (result, error) {
	files := r.BlobFiles
	dir := tg.dir
	if tg.pg != nil {
		r.MetaBytes = tg.pg.metaBytes(ctx)
	} else {
		r.MetaBytes = fileSize(filepath.Join(dir, "meta.db")) + fileSize(filepath.Join(dir, "meta.db-wal"))
	}
	var err error
	if tg.samples == nil {
		if tg.samples, err = sampleArchives(dir, 2*reps); err != nil {
			return r, err
		}
	}
	// The sampled archives get their blobs when the store has none, so
	// that InitiateJob and DeleteArchive take the same path at every size.
	if !files {
		if err := putSampleBlobs(ctx, tg); err != nil {
			return r, err
		}
	}
	// The archives the vault holds now (a reused store lost some to an
	// earlier run's DeleteArchive steps).
	live := n
	if tg.pg == nil {
		if live, err = liveArchives(dir); err != nil {
			return r, err
		}
	}
	r.Load["start-up"] = loadavg()

	// Start-up: three starts, each timed from exec to the first answered
	// signed request.
	var p *proc
	for i := range 3 {
		p, err = start1(ctx, bin, tg)
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

	var ids []string
	for _, s := range tg.samples {
		ids = append(ids, s.id)
	}
	timeOp := func(name string, fn func(i int) error) error {
		for i := range reps {
			if strings.HasPrefix(name, "health") {
				// The health answer is reused for a second: wait it
				// out, so that each request computes it.
				time.Sleep(1100 * time.Millisecond)
			}
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
		{"health (with space and housekeeping)", func(int) error {
			resp, err := http.Get(p.url + "/_permafrost/v1/health")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var h struct {
				Info struct {
					Space struct {
						Live int64 `json:"live_archive_bytes"`
					} `json:"space"`
				} `json:"info"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
				return err
			}
			if h.Info.Space.Live <= 0 {
				return fmt.Errorf("health reports %d live archive bytes", h.Info.Space.Live)
			}
			return nil
		}},
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
	r.Load["inventory"] = loadavg()
	t := time.Now()
	r.InventoryN, err = inventory(ctx, c)
	if err != nil {
		return r, err
	}
	r.InventorySec = time.Since(t).Seconds()
	r.Load["inventory end"] = loadavg()
	_, r.InventoryRSS = p.memory()
	if want := int64(live - reps); r.InventoryN != want {
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

// fill inserts n one-byte archives, each with one segment, and (when
// files) writes their blobs. It is a bulk load, measured as one: the
// journal is off and writes unsynced for its duration (a crash during the
// fill loses the store, which is rebuilt), the page cache is large enough
// to hold the random-keyed indexes (archive ids are random, so their
// primary key and the segments' are written all over the file), the rows
// are sorted by archive id within a transaction of up to 1,000,000 (and
// created in that order), and
// each statement inserts fillRows rows. The server later opens the file
// in WAL mode as always.
func fill(ctx context.Context, dir string, n int, files bool) error {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=journal_mode(OFF)&_pragma=cache_size(-4000000)&_pragma=temp_store(MEMORY)&_pragma=locking_mode(EXCLUSIVE)")
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
	const batch = 1_000_000
	const fillRows = 500
	blobs := filepath.Join(dir, "archives", "blobs")
	multi := func(head, tuple string, k int) string {
		var b strings.Builder
		b.WriteString(head)
		for i := range k {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tuple)
		}
		return b.String()
	}
	type row struct {
		id, key string
		i       int
	}
	rows := make([]row, 0, min(n, batch))
	for done := 0; done < n; {
		end := min(n, done+batch)
		rows = rows[:0]
		for i := done; i < end; i++ {
			for k := range raw {
				raw[k] = byte(rng.Uint32())
			}
			rows = append(rows, row{
				id:  base64.RawURLEncoding.EncodeToString(raw),
				key: fmt.Sprintf("a/%02x/%032x", i&0xff, uint64(i)*0x9E3779B97F4A7C15^rng.Uint64()),
				i:   i,
			})
		}
		slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })
		// Creation order follows the insertion order, as it does when
		// archives are uploaded: the rows of the table are then in the
		// order of the (vault, created_at, id) index that an inventory
		// walks. (The ids are random; within a batch they are handed out
		// in sorted order, which keeps the primary key's inserts local.)
		for j := range rows {
			rows[j].i = done + j
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var ia, is *sql.Stmt
		var ik int
		aargs := make([]any, 0, 5*fillRows)
		sargs := make([]any, 0, 4*fillRows)
		for j := 0; j < len(rows); j += fillRows {
			chunk := rows[j:min(len(rows), j+fillRows)]
			if ia == nil || ik != len(chunk) {
				if ia != nil {
					ia.Close()
					is.Close()
				}
				ik = len(chunk)
				if ia, err = tx.PrepareContext(ctx, multi(`INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description) VALUES `, `(?, ?, ?, 1, ?, ?)`, ik)); err != nil {
					return err
				}
				if is, err = tx.PrepareContext(ctx, multi(`INSERT INTO archive_segments (archive_id, seq, blob_key, size, tree_hash, leaves) VALUES `, `(?, 0, ?, 1, ?, ?)`, ik)); err != nil {
					return err
				}
			}
			aargs, sargs = aargs[:0], sargs[:0]
			for _, r := range chunk {
				aargs = append(aargs, r.id, vaultID, now-int64(n-r.i)*10, sum[:], fmt.Sprintf("backup %08d", r.i))
				sargs = append(sargs, r.id, r.key, sum[:], sum[:])
			}
			if _, err := ia.ExecContext(ctx, aargs...); err != nil {
				return err
			}
			if _, err := is.ExecContext(ctx, sargs...); err != nil {
				return err
			}
			if files {
				for _, r := range chunk {
					path := filepath.Join(blobs, filepath.FromSlash(r.key))
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
		}
		ia.Close()
		is.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		done = end
		logf("  %d archives", done)
	}
	_, err = db.ExecContext(ctx, `UPDATE vaults SET number_of_archives = ?, size_in_bytes = ?, last_write_at = ? WHERE id = ?`, n, n, now, vaultID)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA journal_mode = WAL`)
	return err
}

// sampleArchives returns k archives spread over the vault, with their
// blob keys.
func sampleArchives(dir string, k int) ([]sample, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT max(rowid) FROM archives`).Scan(&n); err != nil {
		return nil, err
	}
	var out []sample
	for i := range k {
		var s sample
		rowid := 1 + int64(i)*(n-1)/int64(k)
		if err := db.QueryRow(`SELECT a.id, s.blob_key FROM archives a JOIN archive_segments s ON s.archive_id = a.id AND s.seq = 0 WHERE a.rowid >= ? ORDER BY a.rowid LIMIT 1`, rowid).Scan(&s.id, &s.key); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// liveArchives reads the vault's archive count (kept incrementally).
func liveArchives(dir string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT number_of_archives FROM vaults WHERE name = ?`, vault).Scan(&n)
	return n, err
}

// putSampleBlobs writes the one-byte blob of each sampled archive through
// the server's own blob store code.
func putSampleBlobs(ctx context.Context, tg *target) error {
	var bs pf.BlobStore
	if tg.pg != nil {
		s, err := s3blob.Open(ctx, tg.pg.s3url)
		if err != nil {
			return err
		}
		bs = s
	} else {
		s, err := disk.OpenShared(filepath.Join(tg.dir, "archives"))
		if err != nil {
			return err
		}
		bs = s
	}
	for _, s := range tg.samples {
		if _, err := bs.Put(ctx, s.key, strings.NewReader("x")); err != nil && pf.KindOf(err) != pf.KindConflict {
			return fmt.Errorf("blob of sampled archive %s: %w", s.id, err)
		}
	}
	return nil
}

type proc struct {
	cmd     *exec.Cmd
	url     string
	startup time.Duration
	exited  chan struct{}
}

func start1(ctx context.Context, bin string, tg *target) (*proc, error) {
	dir := tg.dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--job-delays", "none", "--inventory-interval", "0", "--log-level", "warn", "--scrub-interval", scrubInterval)
	if pprofListen != "" {
		cmd.Args = append(cmd.Args, "--pprof-listen", pprofListen)
	}
	cmd.Args = append(cmd.Args, tg.serveArgs...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERMAFROST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, tg.env...)
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
	fill := "Archives inserted directly into meta.db (SQL bulk load: journal off, 4 GB page cache, rows sorted by id, 500-row statements, transactions of 1,000,000; see cmd/permafrost-scalebench)."
	what := "embedded store (SQLite + local files)"
	if storeKind == "postgres+s3" {
		what = "PostgreSQL + S3 (versitygw posix)"
		fill = "Archives loaded directly into PostgreSQL with COPY (transactions of 100,000, every index, foreign key and trigger in place, then VACUUM ANALYZE; see cmd/permafrost-scalebench/pgs3.go); blob objects only for the sampled archives."
	}
	fmt.Fprintf(&b, "# Scale report (issue 20): %s, %s\n\n", what, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (shared with other work), Go %s. %s Latencies: median / max of %d requests over loopback, one client. Server: --job-delays none --inventory-interval 0 --scrub-interval %s.\n\n", host, runtime.NumCPU(), runtime.Version(), fill, reps, scrubInterval)
	b.WriteString("| | " + join(rs, func(r result) string { return thousands(r.N) + " archives" }) + " |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(rs)) + "\n")
	row := func(name string, f func(r result) string) {
		b.WriteString("| " + name + " | " + join(rs, f) + " |\n")
	}
	row("fill time (s)", func(r result) string {
		if r.FillSeconds < 0 {
			return "(store reused)"
		}
		return fmt.Sprintf("%.0f", r.FillSeconds)
	})
	for _, ph := range []string{"fill", "fill end", "start-up", "inventory", "inventory end"} {
		row("load average at "+ph+" (1/5/15 min)", func(r result) string { return r.Load[ph] })
	}
	row("metadata bytes / archive (meta.db; PostgreSQL: pg_database_size)", func(r result) string { return fmt.Sprintf("%.0f", float64(r.MetaBytes)/float64(r.N)) })
	row("metadata size (MiB)", func(r result) string { return fmt.Sprintf("%.0f", float64(r.MetaBytes)/(1<<20)) })
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
		for _, k := range []string{"DescribeVault", "ListVaults", "health (with space and housekeeping)", "ListJobs", "ListMultipartUploads", "InitiateJob (archive-retrieval)", "InitiateMultipartUpload", "DeleteArchive"} {
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
			return "not run (blobs only for the sampled archives)"
		}
		return fmt.Sprintf("%.1f", r.ReconcileSec)
	})
	row("`permafrost scrub` (s)", func(r result) string {
		if !r.BlobFiles {
			return "not run (blobs only for the sampled archives)"
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
