package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// The server configurations (-configs). embedded is the one of issue #5:
// SQLite and files in --data-dir, measured beside moto and held to the
// targets. The pg-s3-* ones run the same workloads against permafrost on
// PostgreSQL (--meta) and an S3 bucket on versitygw (--blobs), with one
// node or two on the same database and bucket; they are compared with
// embedded (and pg-s3-2 with pg-s3-1), not with moto or the targets.
var allConfigs = []string{"embedded", "pg-s3-1", "pg-s3-2"}

// configNodes is how many permafrost nodes a configuration runs.
func configNodes(name string) int {
	if name == "pg-s3-2" {
		return 2
	}
	return 1
}

func configInfo(name string) ConfigInfo {
	switch name {
	case "pg-s3-1":
		return ConfigInfo{Name: name, Title: "one node, metadata in PostgreSQL, archives in an S3 bucket (versitygw)",
			Compare: []string{"embedded"}}
	case "pg-s3-2":
		return ConfigInfo{Name: name, Title: "two nodes on one PostgreSQL database and one bucket, the client alternating requests between them",
			Compare: []string{"embedded", "pg-s3-1"}}
	}
	return ConfigInfo{Name: name, Title: "one node, SQLite and archive files in its data dir"}
}

// pgS3Backends are what the pg-s3-* configurations run on, found or
// started once per run.
type pgS3Backends struct {
	pg     *pgServer
	vgwBin string
	vgwVer string
	err    error // why the configurations cannot run
}

func (b *bench) wantPGS3() bool {
	for _, c := range b.cfg.configs {
		if c != "embedded" {
			return true
		}
	}
	return false
}

// ensureBackends starts PostgreSQL and finds versitygw, once.
func (b *bench) ensureBackends(ctx context.Context) *pgS3Backends {
	if b.backends != nil {
		return b.backends
	}
	be := &pgS3Backends{}
	b.backends = be
	var names []string
	for _, c := range b.cfg.configs {
		if c != "embedded" {
			names = append(names, c)
		}
	}
	b.logf("PostgreSQL and versitygw for %s", strings.Join(names, ", "))
	if be.pg, be.err = startPostgres(ctx, b.cfg.postgres); be.err != nil {
		return be
	}
	if be.vgwBin, be.err = versitygwBinary(ctx, b.logf); be.err != nil {
		return be
	}
	be.vgwVer = versitygwModVersion(be.vgwBin)
	return be
}

// backendSettings is the report's line on the pg-s3-* configurations.
func (b *bench) backendSettings(ctx context.Context) string {
	if !b.wantPGS3() {
		return ""
	}
	be := b.ensureBackends(ctx)
	if be.err != nil {
		return "pg-s3-*: not run: " + oneLine(be.err)
	}
	where := "the local cluster"
	if b.cfg.postgres != "" {
		where = "-postgres"
	}
	return fmt.Sprintf("pg-s3-*: the same binary, `serve --meta postgres://…/NEW_DATABASE --blobs 's3://%s/pf?endpoint=http://127.0.0.1:PORT&path-style=true&region=%s'` "+
		"(keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), with the same --job-delays and --inventory-interval; %s (%s; permafrost's default pool of max(4, CPUs) connections per node); "+
		"versitygw %s, posix backend in a new directory under bench/tmp (the data disk); every configuration gets a new database and a new gateway and bucket, "+
		"dropped and removed when it ends; pg-s3-2's client sends each request to the next node in turn (round robin per request, keeping the signed Host header, as a load balancer would)",
		benchBucket, s3Region, be.pg.settings, where, be.vgwVer)
}

// pgS3 measures one pg-s3-* configuration: a new database and bucket, its
// nodes, the selected workloads, and everything stopped and dropped again.
func (b *bench) pgS3(ctx context.Context, name string) (err error) {
	info := configInfo(name)
	var compare []string
	for _, c := range info.Compare {
		if contains(b.cfg.configs, c) {
			compare = append(compare, c)
		}
	}
	info.Compare = compare
	be := b.ensureBackends(ctx)
	if be.err != nil {
		info.NotRun = oneLine(be.err)
		b.report.Configs = append(b.report.Configs, info)
		b.logf("%s: not run: %v", name, be.err)
		return nil
	}
	b.report.Configs = append(b.report.Configs, info)
	if !b.wantServerWorkloads() && !b.want("inventory") && !b.want("startup") {
		return nil
	}
	nodes := configNodes(name)
	b.logf("%s: %s", name, info.Title)
	dir := filepath.Join(b.run, "data", name)
	logs := filepath.Join(b.run, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}

	db, dsn, err := be.pg.createDatabase(ctx, name)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if derr := be.pg.dropDatabase(dctx, db); derr != nil {
			b.logf("%s: dropping database %s: %v", name, db, derr)
		}
	}()
	gw, err := startGateway(ctx, be.vgwBin, filepath.Join(dir, "versitygw"), filepath.Join(logs, name+"-versitygw.log"))
	if err != nil {
		return err
	}
	defer gw.stop()
	if b.wantServerWorkloads() {
		b.s3Ceilings(ctx, gw)
		b.pgCeilings(ctx, dsn)
	}

	opts := func(node string, profiled bool) permafrostOpts {
		o := b.permafrostOpts(filepath.Join(dir, node), filepath.Join(logs, name+"-"+node+".log"), profiled)
		o.meta, o.blobs, o.env = dsn, gw.bucketURL, s3Env()
		return o
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := range nodes {
		p, err := startPermafrost(ctx, opts(fmt.Sprint("node-", i+1), i == 0))
		if err != nil {
			return fmt.Errorf("%s, node %d: %w", name, i+1, err)
		}
		procs = append(procs, p)
	}
	b.logf("  %s: node 1 started on the new database and bucket in %s", name, procs[0].startup.Round(time.Millisecond))
	var existing []Result
	if b.want("startup") {
		// A further node on the database and bucket the first one set up.
		existing = b.measure(ctx, nil, name+" start-up, existing database and bucket", 2, func(ctx context.Context) ([]float64, error) {
			return startOnce(ctx, func() (*proc, error) { return startPermafrost(ctx, opts("node-extra", false)) })
		})
	}

	var urls []string
	for _, p := range procs {
		urls = append(urls, p.url)
	}
	b.pf = &server{name: name, proc: procs[0], procs: procs, c: newBalancedClient(urls, 64), maxSize: math.MaxInt64, kept: map[int64]string{}}
	defer func() { b.pf = nil }()
	if b.wantServerWorkloads() {
		if err := b.runWorkloads(ctx); err != nil {
			return err
		}
		row := Row{ID: "rss/workloads", Section: "Memory", Name: "peak RSS over the workloads above", Unit: "MiB", Memory: true}
		if nodes > 1 {
			row.Name += ", largest node"
		}
		row.PF = peakOf(b.pf)
		if _, peak, err := gw.proc.memory(); err == nil {
			row.Note = fmt.Sprintf("versitygw peaked at %.0f MiB", peak)
		}
		b.addRow(row)
	}

	if b.want("inventory") {
		n := b.cfg.inventoryArchives
		if nodes == 1 {
			b.logf("%s: inventory of %d archives", name, n)
			for _, p := range procs {
				p.stop()
			}
			procs = nil
			// A store of its own, as embedded's inventory has a data dir of
			// its own: a new database, and a new prefix of the bucket (an
			// empty blob store), so that start-up does not sweep the
			// workloads' blobs.
			invDB, invDSN, err := be.pg.createDatabase(ctx, name+"-inv")
			if err != nil {
				return err
			}
			defer func() {
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if derr := be.pg.dropDatabase(dctx, invDB); derr != nil {
					b.logf("%s: dropping database %s: %v", name, invDB, derr)
				}
			}()
			invOpts := opts("node-inventory", true)
			invOpts.meta, invOpts.blobs = invDSN, strings.Replace(gw.bucketURL, "/pf?", "/inv?", 1)
			err = b.inventoryOn(ctx, inventoryTarget{
				start:       func(ctx context.Context) (*proc, error) { return startPermafrost(ctx, invOpts) },
				seed:        func(ctx context.Context, n int) error { return pgSeedArchives(ctx, invDSN, inventoryVault, n) },
				markWritten: func(ctx context.Context) error { return pgMarkWritten(ctx, invDSN, inventoryVault) },
				store:       "PostgreSQL with one COPY",
				note:        "archives inserted into PostgreSQL directly (one COPY into the archives table)",
			})
			if err != nil {
				return err
			}
		} else {
			b.addRow(Row{ID: "inventory/time", Section: "Inventory", Unit: "s",
				Name: fmt.Sprintf("inventory job, vault of %s archives", thousands(int64(n))),
				PF:   missing("not run: one node takes an inventory whatever the number of nodes; see pg-s3-1")})
		}
	}

	if b.want("startup") {
		const sec = "Start-up and memory"
		fresh := have(summarize([]float64{millisOf(b.pf.proc.startup)}))
		for _, row := range []Row{
			{ID: "startup/fresh", Section: sec, Unit: "ms", PF: fresh,
				Name: "start-up: exec → first answered signed ListVaults, new database and bucket (first node: schema, S3 probe)"},
			{ID: "startup/existing", Section: sec, Unit: "ms", PF: existing[0],
				Name: "start-up, existing database and bucket (a further node)"},
			{ID: "rss/idle", Section: sec, Unit: "MiB", Memory: true, PF: existing[1],
				Name: fmt.Sprintf("idle RSS, %v after start-up", idleSettle)},
		} {
			b.addRow(row)
		}
	}
	return ctx.Err()
}

// newBalancedClient is newClient for a service of several nodes: every
// request goes to the next node in turn.
func newBalancedClient(urls []string, conns int) *glacier.Client {
	if len(urls) == 1 {
		return newClient(urls[0], conns)
	}
	var hosts []string
	for _, u := range urls {
		hosts = append(hosts, strings.TrimPrefix(u, "http://"))
	}
	return glacier.New(glacier.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(urls[0]),
		Credentials:  credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, ""),
		HTTPClient:   &http.Client{Transport: &roundRobin{base: newTransport(conns), hosts: hosts}},
		Retryer:      aws.NopRetryer{},
	})
}

// roundRobin is a client-side load balancer: it sends each request to the
// next host in turn, keeping the Host header the request was signed with
// (as a load balancer in front of the nodes would). Connections are kept
// per node by the transport.
type roundRobin struct {
	base  http.RoundTripper
	hosts []string
	next  atomic.Uint64
}

func (r *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	host := r.hosts[(r.next.Add(1)-1)%uint64(len(r.hosts))]
	out := req.Clone(req.Context())
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	out.URL.Host = host
	return r.base.RoundTrip(out)
}
