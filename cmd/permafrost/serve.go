package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/dirlock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/health"
	"github.com/permafrost/permafrost/internal/jobs"
	"github.com/permafrost/permafrost/internal/metrics"
	"github.com/permafrost/permafrost/internal/notify"
)

// Config is everything `permafrost serve` needs. Tests build one directly.
type Config struct {
	Listen          string
	Region          string
	DataDir         string
	Meta            string // --meta: "" for SQLite in DataDir, or a postgres:// URL
	Blobs           string // --blobs: "" for files in DataDir, s3://… or file:///…
	TestClock       bool
	LogFormat       string // text or json
	LogLevel        string // debug, info, warn, error
	MaxSkew         time.Duration
	BodyIdleTimeout time.Duration
	SweepInterval   time.Duration

	// ReconcileInterval is how often the full reconciliation (every blob
	// listed and checked against the metadata) runs in the background,
	// at most ReconcileRate blobs a second; 0 turns it off.
	ReconcileInterval time.Duration
	ReconcileRate     int

	// JobDelays is --job-delays: each tier's completion delay
	// ("expedited=1m,standard=3h,bulk=5h[,inventory=3h]", or "none").
	JobDelays string
	// InventoryInterval is how often a written vault's inventory is
	// taken; 0 keeps inventories always current.
	InventoryInterval time.Duration
	// RestorePollInterval is how often jobs on an archive storage class
	// (--blobs …&storage-class=GLACIER|DEEP_ARCHIVE) check their restores.
	RestorePollInterval time.Duration
	// RestoreTimeout is how long past its tier's delay a job waits for
	// its restores before it fails.
	RestoreTimeout time.Duration
	// JobRetention is how long finished jobs and their output remain.
	JobRetention time.Duration
	// SNSEndpoints are --sns-endpoint ARN=URL settings; SNSTopicsFile a
	// file of more.
	SNSEndpoints  []string
	SNSTopicsFile string
	// FreeTierBytesPerDay is the FreeTier retrieval policy's daily
	// allowance (0: 5% of stored bytes over 30 days).
	FreeTierBytesPerDay int64
	// ExpeditedSharedPool is the shared Expedited capacity per 5 minutes
	// beyond provisioned units; negative means unlimited.
	ExpeditedSharedPool int
	// PprofListen, if set, serves net/http/pprof on that address.
	PprofListen string
	// PublicURL is the URL notification receivers reach the API listener
	// at, used in SigningCertURL and UnsubscribeURL; "" means the URL of
	// the bound listener.
	PublicURL string
	// MaxUnverifiedUploadBytes bounds the bytes of upload bodies whose
	// signature is checked only at their end (0: api's default, 4 GiB).
	MaxUnverifiedUploadBytes int64
	// MetricsListen, if set, serves Prometheus metrics at /metrics there.
	MetricsListen string
	// TLSCert and TLSKey, if set, serve HTTPS on Listen (re-read on SIGHUP).
	TLSCert, TLSKey string
	// SelectOutput is --select-output: the S3-compatible endpoint select
	// jobs write to (s3://?endpoint=URL&region=R); "" uses the blob
	// store's when it is S3, else select jobs are refused.
	SelectOutput string
	// Dev is --dev (dev.go): the well-known key instead of a generated one.
	Dev        bool
	devTempDir bool // DataDir is --dev's temporary directory
	// AuditAnchorInterval is how often the audit log's head is anchored
	// in the blob store; AuditRetention how long anchors are kept under
	// Object Lock retention (never less than the longest vault floor).
	AuditAnchorInterval time.Duration
	AuditRetention      time.Duration
	// noAudit turns the audit log off (benchmarks only: measuring its cost).
	noAudit bool
	// ScrubInterval is how often every archive is re-read and checked
	// against its stored hashes (0: never); ScrubRate bounds the read
	// rate in bytes per second (0: spread over 3/4 of the interval).
	ScrubInterval time.Duration
	ScrubRate     int64
	// UploadIdleTimeout is how long a multipart upload may go without a
	// part (service clock) before it is discarded.
	UploadIdleTimeout time.Duration
	// DiskReserve is the space kept free on a local blob directory for
	// the writes that free space on a full disk (0: none).
	DiskReserve int64
	// InlineArchiveMax is --inline-archive-max: archives uploaded in one
	// request of at most this many bytes are kept in the metadata
	// database with their row (0: none; inline.go).
	InlineArchiveMax int64
}

// DefaultConfig returns the defaults of every serve flag.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:9400",
		Region:          glacier.DefaultRegion,
		DataDir:         defaultDataDir,
		LogFormat:       "text",
		LogLevel:        "info",
		MaxSkew:         15 * time.Minute,
		BodyIdleTimeout: 60 * time.Second,
		SweepInterval:   time.Hour,

		ReconcileInterval:   glacier.DefaultReconcileInterval,
		ReconcileRate:       glacier.DefaultReconcileRate,
		JobDelays:           "expedited=1m,standard=3h,bulk=5h",
		InventoryInterval:   24 * time.Hour,
		RestorePollInterval: glacier.DefaultRestorePollInterval,
		RestoreTimeout:      glacier.DefaultRestoreTimeout,
		JobRetention:        glacier.DefaultJobRetention,
		ExpeditedSharedPool: -1,
		AuditAnchorInterval: defaultAuditAnchorInterval,
		AuditRetention:      defaultAuditRetention,
		ScrubInterval:       glacier.DefaultScrubInterval,
		UploadIdleTimeout:   glacier.DefaultUploadIdleTimeout,
		DiskReserve:         DefaultDiskReserve,
		InlineArchiveMax:    glacier.DefaultInlineArchiveMax,
	}
}

// Validate checks the configuration before anything is opened.
func (c Config) Validate() error {
	switch {
	case c.Listen == "":
		return usageError{"--listen must not be empty"}
	case c.Region == "":
		return usageError{"--region must not be empty"}
	case c.DataDir == "":
		return usageError{"--data-dir must not be empty"}
	case c.LogFormat != "text" && c.LogFormat != "json":
		return usageError{fmt.Sprintf("--log-format must be text or json, not %q", c.LogFormat)}
	case c.MaxSkew <= 0:
		return usageError{"--max-clock-skew must be positive"}
	case c.BodyIdleTimeout <= 0:
		return usageError{"--body-idle-timeout must be positive"}
	case c.InventoryInterval < 0:
		return usageError{"--inventory-interval must not be negative"}
	case c.JobRetention <= 0:
		return usageError{"--job-retention must be positive"}
	case c.FreeTierBytesPerDay < 0:
		return usageError{"--free-tier-bytes-per-day must not be negative"}
	case c.MaxUnverifiedUploadBytes < 0:
		return usageError{"--max-unverified-upload-bytes must not be negative"}
	case c.AuditAnchorInterval <= 0:
		return usageError{"--audit-anchor-interval must be positive"}
	case c.AuditRetention < 0:
		return usageError{"--audit-retention must not be negative"}
	case c.DiskReserve < 0:
		return usageError{"--disk-reserve must not be negative"}
	case c.UploadIdleTimeout <= 0:
		return usageError{"--upload-idle-timeout must be positive"}
	case c.ScrubInterval < 0 || c.ScrubRate < 0:
		return usageError{"--scrub-interval and --scrub-rate must not be negative"}
	case c.ReconcileInterval < 0 || c.ReconcileRate <= 0:
		return usageError{"--reconcile-interval must not be negative and --reconcile-rate must be positive"}
	case c.SweepInterval != 0 && c.SweepInterval < glacier.MinSweepInterval:
		return usageError{fmt.Sprintf("--sweep-interval %v is below the minimum of %v (0 turns the periodic sweep off; the sweep's grace period is a fixed %v whatever the interval)", c.SweepInterval, glacier.MinSweepInterval, glacier.SweepGrace)}
	}
	if _, err := parseJobDelays(c.JobDelays); err != nil {
		return err
	}
	if err := checkInlineArchiveMax(c.InlineArchiveMax); err != nil {
		return err
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usageError{"--tls-cert and --tls-key (PERMAFROST_TLS_CERT, PERMAFROST_TLS_KEY) go together: set both or neither"}
	}
	if err := checkStoreSettings(c.storeFlags()); err != nil {
		return err
	}
	if err := validateSelectOutput(c.SelectOutput); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level: %v", err)}
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flagSet("serve", "serve [flags]")
	fs.SetOutput(stderr)
	stringFlag(fs, &cfg.Listen, "listen", cfg.Listen, "address to listen on")
	stringFlag(fs, &cfg.Region, "region", cfg.Region, "AWS region this server answers as")
	stringFlag(fs, &cfg.DataDir, "data-dir", cfg.DataDir, "directory holding the embedded metadata and archive bytes")
	stringFlag(fs, &cfg.Meta, "meta", "", "metadata store: a postgres:// URL; empty for SQLite in --data-dir")
	stringFlag(fs, &cfg.Blobs, "blobs", "", "archive byte store: s3://bucket/prefix?endpoint=URL&region=R&storage-class=C&path-style=true, or file:///path; empty for files in --data-dir")
	boolFlag(fs, &cfg.TestClock, "test-clock", false, "expose POST /_permafrost/v1/clock to move the server clock forward, and the reset and fault-injection endpoints (testing only)")
	stringFlag(fs, &cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json")
	stringFlag(fs, &cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn or error")
	durationFlag(fs, &cfg.MaxSkew, "max-clock-skew", cfg.MaxSkew, "allowed difference between a request's signing time and the server clock")
	durationFlag(fs, &cfg.BodyIdleTimeout, "body-idle-timeout", cfg.BodyIdleTimeout, "how long an upload body may stall before RequestTimeoutException")
	durationFlag(fs, &cfg.SweepInterval, "sweep-interval", cfg.SweepInterval, "how often to remove blobs left by interrupted uploads and deletes (from the recorded intents)")
	durationFlag(fs, &cfg.ReconcileInterval, "reconcile-interval", cfg.ReconcileInterval, "how often to list every blob and remove those no metadata references, in the background; 0 turns it off")
	intFlag(fs, &cfg.ReconcileRate, "reconcile-rate", cfg.ReconcileRate, "blobs a second the background reconciliation checks at most")
	stringFlag(fs, &cfg.JobDelays, "job-delays", cfg.JobDelays, "job completion delay per tier, e.g. expedited=1m,standard=3h,bulk=5h,inventory=3h; \"none\" completes jobs at once")
	durationFlag(fs, &cfg.InventoryInterval, "inventory-interval", cfg.InventoryInterval, "how often a written vault's inventory is taken; 0 keeps it always current")
	durationFlag(fs, &cfg.RestorePollInterval, "restore-poll-interval", cfg.RestorePollInterval, "how often retrievals on an archive storage class (storage-class=GLACIER or DEEP_ARCHIVE) check their S3 restores")
	durationFlag(fs, &cfg.RestoreTimeout, "restore-timeout", cfg.RestoreTimeout, "how long past its tier's delay a retrieval waits for its S3 restores before it fails")
	durationFlag(fs, &cfg.JobRetention, "job-retention", cfg.JobRetention, "how long finished jobs and their output remain available")
	listFlag(fs, &cfg.SNSEndpoints, "sns-endpoint", "where to POST job notifications for an SNS topic: ARN=URL (repeatable)")
	stringFlag(fs, &cfg.SNSTopicsFile, "sns-topics-file", "", "file of topic endpoints, one \"ARN URL\" per line")
	int64Flag(fs, &cfg.FreeTierBytesPerDay, "free-tier-bytes-per-day", 0, "daily allowance of the FreeTier retrieval policy; 0 means 5% of stored bytes over 30 days")
	stringFlag(fs, &cfg.PprofListen, "pprof-listen", "", "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off when empty")
	stringFlag(fs, &cfg.PublicURL, "public-url", "", "URL notification receivers reach this server at, for SigningCertURL and UnsubscribeURL; default: the listener's URL")
	intFlag(fs, &cfg.ExpeditedSharedPool, "expedited-shared-pool", cfg.ExpeditedSharedPool, "Expedited jobs per 5 minutes an account gets beyond 3 per provisioned unit; negative means unlimited")
	int64Flag(fs, &cfg.MaxUnverifiedUploadBytes, "max-unverified-upload-bytes", 0, "bytes of uploads sent without x-amz-content-sha256 (signature checked after the body) held at once, server-wide; 0 means 4 GiB")
	stringFlag(fs, &cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9401; off when empty")
	stringFlag(fs, &cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS on --listen; re-read on SIGHUP")
	stringFlag(fs, &cfg.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	stringFlag(fs, &cfg.SelectOutput, "select-output", "", "S3-compatible endpoint for select job results: s3://?endpoint=URL&region=R&path-style=B, credentials from PERMAFROST_SELECT_ACCESS_KEY_ID and PERMAFROST_SELECT_SECRET_ACCESS_KEY; empty uses the --blobs endpoint when it is s3://, else select jobs are refused")
	var dev bool
	boolFlag(fs, &dev, "dev", false, devHelp)
	bindComplianceFlags(fs, &cfg)
	durationFlag(fs, &cfg.ScrubInterval, "scrub-interval", cfg.ScrubInterval, "how often every archive is re-read in the background and checked against the hashes stored at upload; 0 turns the scrubber off")
	int64Flag(fs, &cfg.ScrubRate, "scrub-rate", 0, "the scrubber's read rate in bytes per second; 0 spreads a pass over three quarters of --scrub-interval (at least 1 MiB/s)")
	int64Flag(fs, &cfg.DiskReserve, "disk-reserve", cfg.DiskReserve, "bytes kept in reserve on the local archive disk and released when it fills, so deletes can still free space; 0 for none")
	bindInlineFlag(fs, &cfg)
	durationFlag(fs, &cfg.UploadIdleTimeout, "upload-idle-timeout", cfg.UploadIdleTimeout, "discard a multipart upload, parts and all, after this long without activity (server clock)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if dev {
		cleanup, err := applyDev(fs, &cfg)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	if dev {
		if err := m.printDev(ctx, stdout); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		m.logger.Info("shutting down")
		return nil
	case err := <-m.serveErr:
		return err
	}
}

// Main is a running server: Open starts it, Close stops it.
type Main struct {
	Config Config
	Stdout io.Writer // where a generated first key is printed
	Stderr io.Writer // logs

	logger   *slog.Logger
	logOut   *logWriter // the text log's buffered output (nil for JSON); Close flushes it
	stores   *stores
	service  *glacier.Service
	ln       net.Listener
	http     *http.Server
	serveErr chan error
	stop     context.CancelFunc
	done     chan struct{}

	// housekeeping state (housekeeping.go)
	startedAt time.Time
	hk        housekeepingState

	compliance compliance // audit anchors and retention (compliance.go)

	pprof      *http.Server
	owned      []*dirlock.Lock // data directories this server owns
	metrics    *metrics.Metrics
	metricsLn  net.Listener
	metricsSrv *http.Server
	health     *health.Checker // GET /_permafrost/v1/health; AddInfo extends it
	certs      *certReloader   // --tls-cert, nil without TLS
	hupStop    chan struct{}
	scheduler  *jobs.Scheduler
	signer     *notify.Signer
	notifier   *notify.Deliverer
	workers    sync.WaitGroup
}

// Open validates the configuration, binds the listeners, opens the
// stores, recovers from any interrupted work, starts serving and then says
// so (announce), printing a first-start key only at that point.
func (m *Main) Open(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	m.logger, m.logOut = newServerLogger(m.Config, m.Stderr)
	// The listeners are bound before anything is opened or created: a port
	// in use fails the start before a first key is made (and lost).
	ln, err := m.listen()
	if err != nil {
		return err
	}
	m.ln = ln
	defer func() {
		if err != nil {
			releaseLocks(m.owned) // a failed Open leaves the directory free
			ln.Close()
			if m.metricsLn != nil {
				m.metricsLn.Close()
			}
			if m.pprof != nil {
				m.pprof.Close()
			}
		}
	}()
	if m.Config.MetricsListen != "" {
		if m.metricsLn, err = net.Listen("tcp", m.Config.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %s: %w", m.Config.MetricsListen, err)
		}
	}
	if m.Config.PprofListen != "" {
		if err := m.startPprof(m.Config.PprofListen); err != nil {
			return fmt.Errorf("--pprof-listen: %w", err)
		}
	}
	if m.owned, err = lockOwnedDirs(m.Config); err != nil {
		return err
	}
	st, err := openStores(ctx, m.Config.storeFlags())
	if err != nil {
		return err
	}
	m.stores = st
	if err := checkRegion(ctx, st.meta, m.Config.Region); err != nil {
		st.Close()
		return err
	}
	if m.metricsLn != nil {
		m.metrics = m.newMetrics() // wraps st.blobs: before the service takes it
	}

	var clk glacier.Clock = clock.Real{}
	var testClock *clock.Stored
	if m.Config.TestClock {
		// Kept in the settings, so a restart resumes it; nodes on one
		// database share it.
		if testClock, err = clock.OpenStored(ctx, st.meta, st.shared, m.logger); err != nil {
			st.Close()
			return err
		}
		clk = testClock
	}
	delays, _ := parseJobDelays(m.Config.JobDelays) // checked by Validate
	endpoints, err := m.Config.snsEndpoints()
	if err != nil {
		st.Close()
		return err
	}
	for _, u := range endpoints.Endpoints {
		registerURLSecrets(u) // a webhook URL may carry a password
	}
	// Authorization reads (keys, users, vaults with their policies) are
	// kept in memory, checked against the store's stamp on every use.
	m.service = &glacier.Service{
		Stores: st.serviceStores(true), Blobs: st.serviceBlobs(), Clock: clk, Region: m.Config.Region, Logger: m.logger,
		InlineArchiveMax:    m.Config.InlineArchiveMax,
		JobDelays:           delays,
		JobRetention:        m.Config.JobRetention,
		InventoryInterval:   m.Config.InventoryInterval,
		RestorePollInterval: m.Config.RestorePollInterval,
		RestoreTimeout:      m.Config.RestoreTimeout,
		FreeTierBytesPerDay: m.Config.FreeTierBytesPerDay,
		ExpeditedSharedPool: m.Config.ExpeditedSharedPool,
		TopicAccounts:       endpoints.Accounts,
		UploadIdleTimeout:   m.Config.UploadIdleTimeout,
	}
	if m.service.SelectOutput, err = m.openSelectOutput(ctx); err != nil {
		st.Close()
		return err
	}
	m.scheduler = jobs.New(m.service, 0, m.logger)
	// The outbox is scheduled on the service clock, like everything else:
	// a notification is due at its job's completion time.
	m.signer = &notify.Signer{Store: st.meta}
	m.notifier = &notify.Deliverer{Outbox: st.meta, Endpoints: endpoints.Endpoints, Logger: m.logger, Now: clk.Now, Signer: m.signer}
	// The domain queues finished jobs; the wire message (the DescribeJob
	// JSON) is rendered at the edge.
	m.notifier.JobMessage = api.JobMessage(m.service)
	m.service.Scheduler, m.service.Notifier = m.scheduler, m.notifier
	if testClock != nil {
		testClock.Notify(m.scheduler) // an advance completes what became due
	}

	// Anything an interrupted process left behind is removed in the
	// background once the server listens (scheduleHousekeeping): only the
	// recorded blob intents are examined, never the whole store.
	m.startedAt = time.Now()

	srv := &api.Server{
		Service:         m.service,
		Keys:            m.service.Identity,
		Region:          m.Config.Region,
		Logger:          m.logger,
		MaxSkew:         m.Config.MaxSkew,
		BodyIdleTimeout: m.Config.BodyIdleTimeout,

		SNS:                      m.signer,
		MaxUnverifiedUploadBytes: m.Config.MaxUnverifiedUploadBytes,
	}
	if testClock != nil {
		srv.TestClock = testClock
	}
	if !m.Config.noAudit {
		srv.Audit, _ = st.meta.(api.AuditLog)
	}
	// The first key is made last, when nothing can fail the start any more,
	// and printed once the server is serving (announce).
	bootstrap := bootstrapCredentials
	if m.Config.Dev {
		bootstrap = ensureDevKey // dev.go: the well-known key, printed by runServe
	}
	firstKey, err := bootstrap(ctx, m.service, m.logger)
	if err != nil {
		st.Close()
		return err
	}
	m.signer.BaseURL = m.Config.PublicURL
	if m.signer.BaseURL == "" {
		m.signer.BaseURL = m.URL()
	}
	m.health = m.newHealth()
	m.metrics.SetDamagedArchivesSource(m.damagedArchiveCount)
	m.addHousekeeping()
	srv.Health = m.health
	if m.metrics != nil {
		srv.Observe = m.observeRequest
	}
	m.http = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	m.serveErr = make(chan error, 1)
	go func() {
		if err := m.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- err
		}
	}()
	bg, stop := context.WithCancel(context.Background())
	m.stop = stop
	m.done = make(chan struct{})
	m.scheduleHousekeeping() // housekeeping.go: on the scheduler, service clock
	m.workers.Add(2)
	go func() { defer m.workers.Done(); defer close(m.done); m.scheduler.Run(bg) }()
	go func() { defer m.workers.Done(); m.notifier.Run(bg) }()
	m.startCompliance(bg)
	m.startDiskReserve(bg)
	if m.metrics != nil {
		m.startMetrics(m.metricsLn)
	}
	m.hupStop = make(chan struct{})
	m.watchSIGHUP(m.hupStop)
	m.announce(ctx, firstKey)
	return nil
}

// Addr returns the address the server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// URL returns the server's base URL.
func (m *Main) URL() string {
	if m.certs != nil {
		return "https://" + m.Addr()
	}
	return "http://" + m.Addr()
}

// Close stops serving, waits for requests in flight (up to 30 s) and
// closes the stores.
func (m *Main) Close() error {
	if m.stop != nil {
		m.stop()
		<-m.done
		m.workers.Wait()
	}
	var err error
	if m.pprof != nil {
		m.pprof.Close()
	}
	if m.metricsSrv != nil {
		m.metricsSrv.Close()
	}
	if m.hupStop != nil {
		close(m.hupStop)
		m.hupStop = nil
	}
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = m.http.Shutdown(ctx)
	}
	m.closeCompliance()
	if m.stores != nil {
		err = errors.Join(err, m.stores.Close())
	}
	releaseLocks(m.owned)
	// The request lines of the last moments, after every request finished.
	m.logOut.Close()
	return err
}
