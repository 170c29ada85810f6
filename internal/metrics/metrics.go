// Package metrics holds permafrost's Prometheus metrics (served on
// --metrics-listen at /metrics). It is fed from outside: the API
// middleware reports each request (ObserveRequest), the blob store wrapper
// reports store errors, a collector asks the metadata store for job and
// outbox counts at scrape time, and the scrubber reports its progress
// (ScrubProgress, SetDamagedArchives). Nothing here knows the Glacier
// domain beyond operation names.
//
// All metric names start with permafrost_; docs/metrics.md lists them with
// a dashboard.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// StoreStats is what the metadata store tells the scrape-time collector.
// Both the SQLite and the PostgreSQL store implement it.
type StoreStats interface {
	// JobCounts returns the number of jobs in each status.
	JobCounts(ctx context.Context) (map[string]int64, error)
	// OutboxBacklog returns the number of undelivered notifications.
	OutboxBacklog(ctx context.Context) (int64, error)
}

// Metrics is one process's registry and metrics.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	bytesIn         *prometheus.CounterVec
	bytesOut        *prometheus.CounterVec
	storeErrors     *prometheus.CounterVec
	healthFailures  *prometheus.CounterVec
	lockTransitions *prometheus.CounterVec

	scrubChecked    prometheus.Counter
	scrubBytes      prometheus.Counter
	scrubPasses     prometheus.Counter
	scrubLastPass   prometheus.Gauge
	scrubProgress   prometheus.Gauge
	damagedArchives prometheus.GaugeFunc
	damagedSet      atomic.Int64                 // SetDamagedArchives
	damagedSource   atomic.Pointer[func() int64] // SetDamagedArchivesSource
}

// New returns the metrics, registered with a fresh registry together with
// the Go runtime and process collectors. stats, if not nil, is asked for
// job and notification counts at each scrape (with a short timeout).
func New(stats StoreStats) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_requests_total",
			Help: "Glacier API requests by operation, HTTP status and error code (empty when it succeeded).",
		}, []string{"operation", "status", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "permafrost_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its response, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"operation"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_request_bytes_total",
			Help: "Request body bytes read, by operation (archive and part uploads dominate).",
		}, []string{"operation"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_response_bytes_total",
			Help: "Response body bytes written, by operation (job output dominates).",
		}, []string{"operation"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_store_errors_total",
			Help: "Failures of the metadata or blob store (store=metadata|blobs) seen by requests and blob operations.",
		}, []string{"store"}),
		healthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_health_check_failures_total",
			Help: "Health checks of a store that failed or timed out.",
		}, []string{"check"}),
		lockTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "permafrost_vault_lock_transitions_total",
			Help: "Successful Vault Lock transitions: initiate (to InProgress), complete (to Locked), abort.",
		}, []string{"transition"}),
		scrubChecked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "permafrost_scrub_archives_checked_total",
			Help: "Archives whose bytes the scrubber re-read and verified.",
		}),
		scrubBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "permafrost_scrub_bytes_checked_total",
			Help: "Archive bytes the scrubber re-read and verified.",
		}),
		scrubPasses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "permafrost_scrub_passes_total",
			Help: "Completed scrub passes over all archives.",
		}),
		scrubLastPass: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "permafrost_scrub_last_pass_completed_timestamp_seconds",
			Help: "Unix time the last complete scrub pass ended (0: none yet).",
		}),
		scrubProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "permafrost_scrub_pass_progress_ratio",
			Help: "Fraction (0 to 1) of the current scrub pass done.",
		}),
	}
	m.damagedArchives = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "permafrost_damaged_archives",
		Help: "Archives recorded as damaged or missing (by the scrubber, a retrieval job or a download) that still exist.",
	}, func() float64 {
		if fn := m.damagedSource.Load(); fn != nil {
			return float64((*fn)())
		}
		return 0
	})
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.bytesIn, m.bytesOut, m.storeErrors, m.healthFailures, m.lockTransitions,
		m.scrubChecked, m.scrubBytes, m.scrubPasses, m.scrubLastPass, m.scrubProgress, m.damagedArchives,
	)
	if stats != nil {
		m.Registry.MustRegister(&storeCollector{stats: stats, m: m})
	}
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, Timeout: 10 * time.Second})
}

// Request is what the API middleware knows at the end of a request.
type Request struct {
	Operation string // Glacier operation name; "Unknown" when no route matched
	Status    int
	Code      string // Glacier error code, "" on success
	Duration  time.Duration
	BytesIn   int64
	BytesOut  int64
	// StoreError names the store whose failure the request reported
	// ("metadata" or "blobs"), "" when none.
	StoreError string
}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(r Request) {
	op := r.Operation
	if op == "" {
		op = "Unknown"
	}
	m.requests.WithLabelValues(op, strconv.Itoa(r.Status), r.Code).Inc()
	m.latency.WithLabelValues(op).Observe(r.Duration.Seconds())
	if r.BytesIn > 0 {
		m.bytesIn.WithLabelValues(op).Add(float64(r.BytesIn))
	}
	if r.BytesOut > 0 {
		m.bytesOut.WithLabelValues(op).Add(float64(r.BytesOut))
	}
	if r.StoreError != "" {
		m.storeErrors.WithLabelValues(r.StoreError).Inc()
	}
	if r.Status >= 200 && r.Status < 300 {
		switch op {
		case "InitiateVaultLock":
			m.lockTransitions.WithLabelValues("initiate").Inc()
		case "CompleteVaultLock":
			m.lockTransitions.WithLabelValues("complete").Inc()
		case "AbortVaultLock":
			m.lockTransitions.WithLabelValues("abort").Inc()
		}
	}
}

// StoreError counts one failure of a store outside a request (a blob
// operation of a background task, say).
func (m *Metrics) StoreError(store string) { m.storeErrors.WithLabelValues(store).Inc() }

// HealthCheckFailed counts one failed health check.
func (m *Metrics) HealthCheckFailed(check string) { m.healthFailures.WithLabelValues(check).Inc() }

// Scrubber hooks. The scrubber calls ArchiveScrubbed for each archive it
// verified, ScrubProgress as a pass advances, ScrubPassDone at the end of
// a pass; SetDamagedArchivesSource names where the number of damaged
// archives is read at scrape time. A nil *Metrics ignores every call, so the scrubber can hold
// one unconditionally.

// ArchiveScrubbed counts one verified archive of size bytes.
func (m *Metrics) ArchiveScrubbed(size int64) {
	if m == nil {
		return
	}
	m.scrubChecked.Inc()
	m.scrubBytes.Add(float64(size))
}

// ScrubProgress sets the current pass's progress: done of total archives
// (or bytes).
func (m *Metrics) ScrubProgress(done, total int64) {
	if m == nil {
		return
	}
	if total <= 0 {
		m.scrubProgress.Set(0)
		return
	}
	m.scrubProgress.Set(min(1, float64(done)/float64(total)))
}

// ScrubPassDone records the end of a complete pass.
func (m *Metrics) ScrubPassDone(at time.Time) {
	if m == nil {
		return
	}
	m.scrubPasses.Inc()
	m.scrubLastPass.Set(float64(at.Unix()))
	m.scrubProgress.Set(1)
}

// SetDamagedArchivesSource makes every scrape ask fn for the number of
// damaged archives (the installation's record, read at scrape time).
func (m *Metrics) SetDamagedArchivesSource(fn func() int64) {
	if m == nil {
		return
	}
	m.damagedSource.Store(&fn)
}

// storeCollector asks the metadata store at scrape time, so the numbers
// are the installation's (all nodes), not this process's.
type storeCollector struct {
	stats StoreStats
	m     *Metrics
}

var (
	jobsDesc = prometheus.NewDesc("permafrost_jobs",
		"Jobs in the metadata store by status (InProgress, Succeeded, Failed); finished jobs stay until --job-retention ends.",
		[]string{"status"}, nil)
	backlogDesc = prometheus.NewDesc("permafrost_notification_backlog",
		"SNS notifications waiting in the outbox for delivery.", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("permafrost_metadata_scrape_error",
		"1 when the metadata store did not answer this scrape's job and outbox queries.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- backlogDesc
	ch <- scrapeErrDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	failed := 0.0
	counts, err := c.stats.JobCounts(ctx)
	if err == nil {
		for _, s := range []string{"InProgress", "Succeeded", "Failed"} {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(counts[s]), s)
		}
	} else {
		failed = 1
	}
	if n, err := c.stats.OutboxBacklog(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
	} else {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}
