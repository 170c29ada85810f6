// Command permafrost-bench measures permafrost's throughput and request
// rates side by side with moto (the peer) and with this machine's own
// limits, in one run, and writes a Markdown report (issue #5). `make bench`
// runs it from the repository root.
//
// One run:
//
//  1. builds the server from the tree (go build ./cmd/permafrost);
//  2. measures the machine's ceilings: the one-pass tree hash + SHA-256 on
//     one core and all cores, sequential fsync'd writes (one writer and k
//     writers) and sequential and random 1 MiB reads on the data disk (the
//     reads run by run interleaved with GetJobOutput's, since a shared
//     virtual disk drifts over minutes), and a bare net/http server on
//     loopback (PUT-discard, GET from memory, tiny GET rate) — plus the SDK
//     client alone against a handler that answers instantly, the best any
//     server can score with this client;
//  3. starts permafrost (fresh data dir under bench/tmp, on the same disk as
//     the ceilings' files; --job-delays none, --inventory-interval 0) and
//     moto_server, both on loopback, and drives each workload on one then
//     the other with the same aws-sdk-go-v2 Glacier client;
//  4. seeds a vault of 1,000,000 archives directly into a stopped server's
//     meta.db and times an inventory job, sampling the server's peak RSS;
//  5. for each further configuration of -configs (pg-s3-1: one node on
//     PostgreSQL + an S3 bucket on versitygw; pg-s3-2: two nodes on one
//     database and bucket, the client alternating requests between them):
//     a new database and a new versitygw with a new bucket, the same
//     workloads (inventory seeded by one COPY, pg-s3-1 only), start-up of
//     a further node, then everything stopped, dropped and removed;
//  6. runs `go test -bench BenchmarkEvaluateLockPolicy ./internal/policy`;
//  7. measures start-up time (exec to the first answered signed request)
//     and idle RSS of both servers;
//  8. prints the report and writes it to bench/results/DATE.md (only for a
//     complete run with default sizes; partial runs go to bench/tmp).
//
// Decisions:
//
//   - Every figure is the median of -runs runs (default 3) with min and
//     max. Rates run for -duration after a short warm-up, with keep-alive
//     connections (one per concurrent client, never churned).
//   - The client must not be what is measured: upload bodies and their
//     tree hash and SHA-256 are computed before the clock starts and handed
//     to the SDK (its signer would otherwise hash every body again);
//     downloads are read through a 1 MiB buffer and discarded. Client and
//     servers share this machine's cores, so the "SDK client alone"
//     ceilings show how much of a figure the client itself costs.
//   - MB is 10⁶ bytes; memory is MiB from /proc/PID/status (VmRSS, VmHWM).
//   - Retrieval is measured cold when the page cache can be dropped (we are
//     root: sync; echo 3 > /proc/sys/vm/drop_caches) — before each
//     sequential-read ceiling run and each GetJobOutput run alike — and warm
//     otherwise; the report says which.
//   - moto keeps archives in memory and implements only some of Glacier:
//     what it lacks (multipart upload, ranged GetJobOutput) is "n/a", found
//     out by trying. Uploads larger than -moto-max-size are not sent to it.
//   - Targets are issue #5 §5 (targets.go); a gap is reported, never
//     failed, and nothing here is a test: tests never assert timings.
//   - Configurations: embedded is issue #5's, held to its targets and
//     compared with moto; the pg-s3-* ones are compared with embedded (a
//     section each, and a summary table of the main workloads). Their
//     backends are started as internal/testenv starts them for the tests
//     (servers_pg.go, servers_s3.go), the harness having no testing.TB.
//     pg-s3-2's balancer is client-side: a transport that sends every
//     request to the next node, keeping the signed Host header.
//   - Profiles: -cpuprofile/-memprofile profile the harness itself;
//     -server-profile DIR takes a CPU and a heap profile of the server for
//     each permafrost measurement, through the server's --pprof-listen flag
//     when it has one, else through a second binary built with
//     `go build -overlay` adding net/http/pprof (the tree is not touched).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

type config struct {
	runs              int
	quick             bool
	largeSize         int64
	motoMaxSize       int64
	partSize          int64
	duration          time.Duration
	mixedDuration     time.Duration
	mixedClients      int
	inventoryArchives int
	runTimeout        time.Duration
	workloads         map[string]bool
	configs           []string
	postgres          string
	motoBin           string
	serverBin         string
	serverLogLevel    string
	out               string
	tmp               string
	dropCaches        bool
	keep              bool
	cpuprofile        string
	memprofile        string
	serverProfile     string
	profileSeconds    int
}

var allWorkloads = []string{"ceilings", "upload", "multipart", "retrieval", "metadata", "mixed", "inventory", "policy", "startup", "replay"}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("permafrost-bench", flag.ContinueOnError)
	fs.IntVar(&c.runs, "runs", 3, "runs per figure (the median is reported, with min and max)")
	fs.BoolVar(&c.quick, "quick", false, "a fast smoke run: 64 MiB instead of 1 GiB, 1 s rates, 100,000-archive inventory")
	large := fs.Int64("large-mib", 1024, "size of the \"1 GiB\" workloads and ceilings, in MiB")
	motoMax := fs.Int64("moto-max-mib", 1024, "largest upload sent to moto, in MiB (it keeps archives in memory)")
	part := fs.Int64("part-mib", 16, "multipart part size in MiB (a power of two)")
	fs.DurationVar(&c.duration, "duration", 1500*time.Millisecond, "measured time of each request-rate run")
	fs.DurationVar(&c.mixedDuration, "mixed-duration", 3*time.Second, "measured time of each mixed-workload run")
	fs.IntVar(&c.mixedClients, "mixed-clients", 16, "concurrent clients of the mixed workload")
	fs.IntVar(&c.inventoryArchives, "inventory-archives", 1_000_000, "archives in the inventory vault")
	fs.DurationVar(&c.runTimeout, "run-timeout", 5*time.Minute, "limit of one run")
	wl := fs.String("workloads", "all", "comma-separated subset of: "+strings.Join(allWorkloads, ","))
	cf := fs.String("configs", strings.Join(allConfigs, ","), "server configurations, comma-separated: embedded (SQLite + files), "+
		"pg-s3-1 (one node on PostgreSQL + versitygw), pg-s3-2 (two nodes on one database and bucket, requests alternated)")
	fs.StringVar(&c.postgres, "postgres", "", "DSN of a PostgreSQL role that may create databases, for the pg-s3-* configurations "+
		"(default: the local cluster, started if need be, with a role of the harness's own)")
	fs.StringVar(&c.motoBin, "moto", "moto_server", "moto_server executable; \"\" to run without moto")
	fs.StringVar(&c.serverBin, "server-bin", "", "use this permafrost binary instead of building ./cmd/permafrost")
	fs.StringVar(&c.serverLogLevel, "server-log-level", "", "--log-level for permafrost (default: the server's own default)")
	fs.StringVar(&c.out, "out", "", "report file (default bench/results/DATE.md for a complete default run, else bench/tmp/results/DATE-partial.md)")
	fs.StringVar(&c.tmp, "tmp", "bench/tmp", "scratch directory on the data disk (data dirs, ceiling files, logs, profiles)")
	fs.BoolVar(&c.dropCaches, "drop-caches", true, "drop the page cache before each sequential-read and GetJobOutput run (needs root)")
	fs.BoolVar(&c.keep, "keep", false, "keep the run's data directories and logs")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write the harness's CPU profile to this file")
	fs.StringVar(&c.memprofile, "memprofile", "", "write the harness's heap profile to this file")
	fs.StringVar(&c.serverProfile, "server-profile", "", "write CPU and heap profiles of permafrost for each workload into this directory")
	fs.IntVar(&c.profileSeconds, "profile-seconds", 10, "length of each server CPU profile (-server-profile)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.quick {
		if !set["large-mib"] {
			*large = 64
		}
		if !set["duration"] {
			c.duration = time.Second
		}
		if !set["mixed-duration"] {
			c.mixedDuration = 1500 * time.Millisecond
		}
		if !set["inventory-archives"] {
			c.inventoryArchives = 100_000
		}
	}
	c.largeSize, c.motoMaxSize, c.partSize = *large*mib, *motoMax*mib, *part*mib
	switch {
	case c.runs < 1:
		return c, fmt.Errorf("-runs must be at least 1")
	case c.largeSize < mib:
		return c, fmt.Errorf("-large-mib must be at least 1")
	case c.partSize < mib || c.partSize&(c.partSize-1) != 0:
		return c, fmt.Errorf("-part-mib must be a power of two")
	}
	c.workloads = map[string]bool{}
	for _, w := range strings.Split(*wl, ",") {
		w = strings.TrimSpace(w)
		if w == "all" {
			for _, a := range allWorkloads {
				c.workloads[a] = true
			}
			continue
		}
		if !contains(allWorkloads, w) {
			return c, fmt.Errorf("unknown workload %q (have %s)", w, strings.Join(allWorkloads, ","))
		}
		c.workloads[w] = true
	}
	for _, name := range strings.Split(*cf, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !contains(allConfigs, name) {
			return c, fmt.Errorf("unknown configuration %q (have %s)", name, strings.Join(allConfigs, ","))
		}
		if !contains(c.configs, name) {
			c.configs = append(c.configs, name)
		}
	}
	if len(c.configs) == 0 {
		return c, fmt.Errorf("-configs names no configuration")
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// complete reports whether this run measures everything at the issue's
// sizes, so that its report may go to bench/results.
func (c config) complete() bool {
	return len(c.workloads) == len(allWorkloads) && c.largeSize == gib && c.motoBin != "" &&
		c.inventoryArchives == 1_000_000 && !c.quick && len(c.configs) == len(allConfigs)
}

// bench is one run of the harness.
type bench struct {
	cfg        config
	root       string // repository root
	run        string // this run's scratch directory
	bin        string // the permafrost binary
	pprofMode  string // how server profiles are taken: "", "flag" or "overlay"
	pprofBin   string // the binary to use when profiling
	motoPath   string
	motoAbsent string // why moto is not measured, when it is not

	data     []byte // random bytes; every upload body is a prefix or slice of it
	payloads map[int64]payload

	pf, moto *server
	config   string // the configuration being measured ("embedded", "pg-s3-1", …)
	backends *pgS3Backends
	motoRan  bool   // moto was measured
	cold     bool   // the page cache can be dropped
	readFile string // the read ceilings' file, once the ceilings have written it
	prof     *profiler
	report   *Report
	started  time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] "+format+"\n", append([]any{time.Since(b.started).Seconds()}, args...)...)
}

func (b *bench) want(w string) bool { return b.cfg.workloads[w] }

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "permafrost-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "permafrost-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.memprofile != "" {
		defer func() {
			f, ferr := os.Create(cfg.memprofile)
			if ferr != nil {
				err = ferr
				return
			}
			defer f.Close()
			runtime.GC()
			err = pprof.WriteHeapProfile(f)
		}()
	}

	root, err := repoRoot()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, root: root, started: time.Now(), payloads: map[int64]payload{}}
	tmp := cfg.tmp
	if !filepath.IsAbs(tmp) {
		tmp = filepath.Join(root, tmp)
	}
	b.run = filepath.Join(tmp, "run-"+time.Now().Format("20060102-150405"))
	if err := os.MkdirAll(b.run, 0o755); err != nil {
		return err
	}
	defer func() {
		// Data dirs always go (they are large); logs stay when the run failed.
		switch {
		case cfg.keep:
		case err != nil:
			os.RemoveAll(filepath.Join(b.run, "data"))
			fmt.Fprintf(os.Stderr, "permafrost-bench: logs kept in %s\n", b.run)
		default:
			os.RemoveAll(b.run)
		}
	}()
	b.report = &Report{Title: "permafrost benchmark", Date: time.Now().Format("2006-01-02")}
	b.report.Machine = machineInfo(root, b.run)
	b.cold = cfg.dropCaches && dropCaches()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	b.report.Settings = b.settings()
	if s := b.backendSettings(ctx); s != "" {
		b.report.Settings = append(b.report.Settings, s)
	}

	if b.want("ceilings") {
		b.logf("ceilings")
		if err := b.ceilings(ctx); err != nil {
			return err
		}
	}
	for _, name := range cfg.configs {
		b.config = name
		if name != "embedded" {
			if err := b.pgS3(ctx, name); err != nil {
				return err
			}
			continue
		}
		b.report.Configs = append(b.report.Configs, configInfo(name))
		if err := b.serverWorkloads(ctx); err != nil {
			return err
		}
		if b.want("inventory") {
			b.logf("inventory of %d archives", cfg.inventoryArchives)
			if err := b.inventory(ctx); err != nil {
				return err
			}
		}
	}
	b.config = "embedded"
	if b.want("policy") {
		b.logf("policy evaluation")
		b.policy(ctx)
	}
	if b.want("startup") && contains(cfg.configs, "embedded") {
		b.logf("start-up")
		if err := b.startup(ctx); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return b.finish()
}

// prepare builds the server, finds moto and makes the random data.
func (b *bench) prepare(ctx context.Context) error {
	b.prof = newProfiler(b.cfg.serverProfile, b.cfg.profileSeconds)
	b.config = "embedded"
	b.bin = b.cfg.serverBin
	if b.bin == "" {
		b.bin = filepath.Join(b.run, "bin", "permafrost")
		b.logf("building permafrost from the tree")
		if err := buildPermafrost(ctx, b.root, b.bin, false); err != nil {
			return fmt.Errorf("building permafrost: %w", err)
		}
	}
	if b.cfg.serverProfile != "" {
		b.pprofBin = b.bin
		switch {
		case hasServeFlag(b.bin, "pprof-listen"):
			b.pprofMode = "flag"
		case b.cfg.serverBin != "":
			b.logf("%s has no --pprof-listen and is prebuilt: no server profiles", b.bin)
		default:
			b.pprofMode = "overlay"
			b.pprofBin = filepath.Join(b.run, "bin", "permafrost-pprof")
			b.logf("the server has no --pprof-listen: building a profiling binary with go build -overlay")
			if err := buildPermafrost(ctx, b.root, b.pprofBin, true); err != nil {
				return fmt.Errorf("building the profiling binary: %w", err)
			}
		}
		b.prof.enabled = b.pprofMode != ""
	}
	if b.cfg.motoBin == "" {
		b.motoAbsent = "not run (-moto \"\")"
	} else if p, err := resolveMoto(b.cfg.motoBin); err != nil {
		b.motoAbsent = "not run (moto_server not found)"
		b.logf("moto: %v; continuing without the peer", err)
	} else {
		b.motoPath = p
	}
	n := b.cfg.largeSize
	b.logf("generating %d MiB of random data", n>>20)
	b.data = make([]byte, n)
	rand.NewChaCha8([32]byte{'p', 'e', 'r', 'm', 'a', 'f', 'r', 'o', 's', 't'}).Read(b.data)
	return nil
}

// payload returns the upload body of the first size bytes, hashed once.
func (b *bench) payload(size int64) payload {
	p, ok := b.payloads[size]
	if !ok {
		p = newPayload(b.data[:size])
		b.payloads[size] = p
	}
	return p
}

func (b *bench) settings() []string {
	s := []string{
		fmt.Sprintf("runs per figure: %d; rate runs: %v each (mixed: %v, %d clients); \"1 GiB\" workloads: %s; multipart parts: %s",
			b.cfg.runs, b.cfg.duration, b.cfg.mixedDuration, b.cfg.mixedClients, sizeLabel(b.cfg.largeSize), sizeLabel(b.cfg.partSize)),
		"permafrost: built from the tree, `serve --job-delays none --inventory-interval 0` on a fresh data dir under bench/tmp (same disk as the ceiling files), default log level unless -server-log-level",
	}
	if b.motoPath != "" {
		s = append(s, fmt.Sprintf("moto: `%s -H 127.0.0.1 -p PORT` (%s); uploads above %s not sent to it",
			filepath.Base(b.motoPath), motoVersion(b.motoPath), sizeLabel(b.cfg.motoMaxSize)))
	} else {
		s = append(s, "moto: "+b.motoAbsent)
	}
	if b.cold {
		s = append(s, "retrieval and sequential read: cold (page cache dropped before each run)")
	} else {
		s = append(s, "retrieval and sequential read: warm (the page cache could not be dropped)")
	}
	if b.prof.enabled {
		s = append(s, fmt.Sprintf("server profiles taken (%s): figures of profiled runs carry the profiler's overhead", b.pprofMode))
	}
	return s
}

// finish applies the targets, prints the report and writes it.
func (b *bench) finish() error {
	applyTargets(b.report)
	if b.motoRan {
		b.report.Notes = append(b.report.Notes, "moto keeps every archive in memory and never fsyncs: on uploads and retrieval it does "+
			"not do permafrost's work (a durable write, a read from disk), so × moto there compares a disk with memory.")
	}
	b.report.Notes = append(b.report.Notes, fmt.Sprintf("whole run took %s; load average at the end (1/5/15 min): %s",
		time.Since(b.started).Round(time.Second), loadAverage()))
	md := b.report.Markdown()
	fmt.Print(md)
	out := b.cfg.out
	if out == "" {
		if b.cfg.complete() {
			out = filepath.Join(b.root, "bench", "results", b.report.Date+".md")
		} else {
			out = filepath.Join(b.root, "bench", "tmp", "results", b.report.Date+"-partial.md")
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	b.logf("report written to %s", out)
	return nil
}

// repoRoot finds the module root above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(data), "module github.com/permafrost/permafrost\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run from inside the permafrost repository")
		}
		dir = parent
	}
}

// sizeLabel is "1 MiB", "64 MiB", "1 GiB", "512 KiB", …
func sizeLabel(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	}
	return fmt.Sprintf("%d B", n)
}
