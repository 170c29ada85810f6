// Package permafrosttest runs an in-process permafrost server for the tests
// of programs that talk to Amazon S3 Glacier.
//
// [New] starts a server on a free loopback port, with its data in
// t.TempDir(), the test clock on and retrieval jobs completing at once, and
// stops it when the test ends. Point any Glacier client at [Server.URL]
// with [Server.Region] and the key in [Server.AccessKeyID] and
// [Server.SecretAccessKey]:
//
//	srv := permafrosttest.New(t)
//	client := glacier.New(glacier.Options{
//		Region:       srv.Region,
//		BaseEndpoint: aws.String(srv.URL),
//		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
//	})
//
// [Server.Advance] moves the server's clock forward (vault-lock expiry,
// archive ages, job tiers), [Server.Reset] empties the server between
// tests, and [Server.InjectFault] makes it fail the way AWS fails
// (throttling, 5xx, latency, dropped connections) to exercise retry and
// resume code.
//
// The package depends only on the standard library and permafrost itself:
// it adds no test-only dependency to the modules that import it.
package permafrosttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/devkey"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/jobs"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/notify"
)

// Server is a running in-process permafrost server.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT: the endpoint
	// to give a Glacier client.
	URL string
	// Region is the region the server answers as (us-east-1 unless
	// [WithRegion] says otherwise); clients must sign for it.
	Region string
	// AccountID is the account of the key below.
	AccountID string
	// AccessKeyID and SecretAccessKey are a key of the account's root
	// user, allowed everything.
	AccessKeyID     string
	SecretAccessKey string

	http    *http.Client
	service *glacier.Service
	stop    func()
}

// JobDelays are how long retrieval jobs take per tier before they
// complete. The zero value completes every job at once.
type JobDelays struct {
	Expedited, Standard, Bulk, Inventory time.Duration
}

// Option configures [New].
type Option func(*options)

type options struct {
	region            string
	delays            JobDelays
	inventoryInterval time.Duration
	logger            *slog.Logger
	sns               map[string]string
}

// WithRegion makes the server answer as region (default us-east-1).
func WithRegion(region string) Option { return func(o *options) { o.region = region } }

// WithJobDelays sets how long jobs take per tier (default: all complete at
// once). Jobs complete when the server clock reaches their due time, so a
// test can use AWS-like delays and [Server.Advance] past them.
func WithJobDelays(d JobDelays) Option { return func(o *options) { o.delays = d } }

// WithInventoryInterval sets how often a written vault's inventory is
// taken (default 0: inventories and DescribeVault counts always current).
// With AWS's daily inventories, use 24*time.Hour and [Server.Advance].
func WithInventoryInterval(d time.Duration) Option {
	return func(o *options) { o.inventoryInterval = d }
}

// WithLogger sends the server's logs, one line per request, to l (default:
// discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSNSEndpoint makes job notifications for topicARN go, in SNS's
// format, as POSTs to url. Vaults use only topics of their own account:
// give an ARN in the server's account, 000000000000 (Server.AccountID),
// e.g. arn:aws:sns:us-east-1:000000000000:jobs.
func WithSNSEndpoint(topicARN, url string) Option {
	return func(o *options) {
		if o.sns == nil {
			o.sns = map[string]string{}
		}
		o.sns[topicARN] = url
	}
}

// New starts a server for the test t and stops it, removing its data, when
// t ends. It fails t if the server cannot start.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("permafrosttest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Start starts a server outside a single test, with its data in dir, for
// a TestMain that shares one server among a package's tests, or for
// examples. [Server.Close] stops it; removing dir is the caller's.
func Start(dir string, opts ...Option) (*Server, error) {
	s, stop, err := start(dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("permafrosttest: %w", err)
	}
	s.stop = sync.OnceFunc(stop)
	return s, nil
}

// Close stops the server started by [Start]: it waits for requests in
// flight and closes the store. Servers made by [New] close when their test
// ends.
func (s *Server) Close() error {
	s.stop()
	return nil
}

// start assembles and starts a server with its data in dir; stop shuts it
// down and waits for its goroutines.
func start(dir string, opts ...Option) (_ *Server, stop func(), err error) {
	o := options{region: "us-east-1"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.region == "" {
		return nil, nil, errors.New("WithRegion: the region must not be empty")
	}
	if o.inventoryInterval < 0 {
		return nil, nil, errors.New("WithInventoryInterval: the interval must not be negative")
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, nil, err
	}
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		meta.Close()
		return nil, nil, err
	}
	ctx := context.Background()
	now := time.Now().UTC()
	if err := meta.CreateAccount(ctx, glacier.Account{ID: devkey.AccountID, CreatedAt: now}); err != nil {
		meta.Close()
		return nil, nil, err
	}
	key := glacier.AccessKey{ID: devkey.AccessKeyID, Secret: devkey.SecretAccessKey, AccountID: devkey.AccountID, CreatedAt: now}
	if err := meta.CreateAccessKey(ctx, key); err != nil {
		meta.Close()
		return nil, nil, err
	}

	// The clock starts at real time each start: nothing keeps its offset.
	clk, err := clock.OpenStored(ctx, nil, false, logger)
	if err != nil {
		meta.Close()
		return nil, nil, err
	}
	svc := &glacier.Service{
		Stores: meta.Roles(), Blobs: blobs, Clock: clk, Region: o.region, Logger: logger,
		JobDelays: map[string]time.Duration{
			glacier.TierExpedited: o.delays.Expedited,
			glacier.TierStandard:  o.delays.Standard,
			glacier.TierBulk:      o.delays.Bulk,
			"inventory":           o.delays.Inventory,
		},
		JobRetention:        glacier.DefaultJobRetention,
		InventoryInterval:   o.inventoryInterval,
		ExpeditedSharedPool: -1,
	}
	scheduler := jobs.New(svc, 0, logger)
	scheduler.Clock = clk // housekeeping is due on the service clock
	scheduler.Add(jobs.Task{Name: "upload-expiry", Every: glacier.UploadExpiryEvery, AtStart: true, Run: func(ctx context.Context) error {
		_, err := svc.ExpireIdleUploads(ctx)
		return err
	}})
	signer := &notify.Signer{Store: meta}
	notifier := &notify.Deliverer{Outbox: meta, Endpoints: o.sns, Logger: logger, Now: clk.Now, Signer: signer}
	notifier.JobMessage = api.JobMessage(svc) // the wire message, rendered at delivery
	svc.Scheduler, svc.Notifier = scheduler, notifier
	clk.Notify(scheduler) // an advance completes what became due
	handler := (&api.Server{
		Service: svc, Keys: meta, Region: o.region, Logger: logger,
		TestClock: clk,
		SNS:       signer,
	}).Handler()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		meta.Close()
		return nil, nil, err
	}
	signer.BaseURL = "http://" + ln.Addr().String()
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	bg, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); hs.Serve(ln) }()
	go func() { defer wg.Done(); scheduler.Run(bg) }()
	go func() { defer wg.Done(); notifier.Run(bg) }()
	s := &Server{
		URL:             "http://" + ln.Addr().String(),
		Region:          o.region,
		AccountID:       devkey.AccountID,
		AccessKeyID:     devkey.AccessKeyID,
		SecretAccessKey: devkey.SecretAccessKey,
		http:            &http.Client{Timeout: time.Minute},
		service:         svc,
	}
	stop = func() {
		ctx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		hs.Shutdown(ctx)
		cancel()
		wg.Wait()
		meta.Close()
	}
	return s, stop, nil
}

// Now returns the server clock's time.
func (s *Server) Now() time.Time { return s.service.Clock.Now() }

// Advance moves the server clock forward by d: vault locks in progress
// expire after 24 hours, archives age (the 90-day minimum), and jobs whose
// delay has passed complete. The clock never moves back.
func (s *Server) Advance(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("permafrosttest: Advance(%v): the clock never moves back", d)
	}
	return s.post("/_permafrost/v1/clock", map[string]float64{"advance_seconds": d.Seconds()}, nil)
}

// Reset empties the server: every vault with its archives, uploads, jobs,
// policies and lock (even a completed one), provisioned capacity, retrieval
// policies, queued notifications and fault rules. The account, its key
// and the clock stay.
func (s *Server) Reset() error {
	return s.post("/_permafrost/v1/reset", struct{}{}, nil)
}

// Fault is a fault-injection rule: which requests it matches, how often
// it fires, and what it does. Set exactly one of Error,
// CutResponseAfterBytes and CutRequestAfterBytes, or only Latency, or
// Latency with one of them.
type Fault struct {
	// Operation is a Glacier operation name (UploadArchive,
	// GetJobOutput…), or "*" for all.
	Operation string `json:"operation"`
	// Vault, if set, limits the rule to requests on that vault.
	Vault string `json:"vault,omitempty"`
	// Count, if positive, makes the rule fire on the next Count matching
	// requests only; zero fires until the rules are cleared.
	Count int `json:"count,omitempty"`
	// Probability, if set (0 < p <= 1), makes the rule fire on a matching
	// request with that probability.
	Probability float64 `json:"probability,omitempty"`

	// Error answers with that Glacier error code (ThrottlingException,
	// ServiceUnavailableException, RequestTimeoutException,
	// LimitExceededException…) in AWS's status and JSON shape. Status and
	// Message override AWS's.
	Error   string `json:"error,omitempty"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Latency delays the request (millisecond precision).
	Latency time.Duration `json:"-"`
	// CutResponseAfterBytes drops the connection after that many bytes of
	// the response body (use [Bytes]).
	CutResponseAfterBytes *int64 `json:"cut_response_after_bytes,omitempty"`
	// CutRequestAfterBytes drops the connection, without an answer, after
	// reading that many bytes of the request body (use [Bytes]).
	CutRequestAfterBytes *int64 `json:"cut_request_after_bytes,omitempty"`
}

// Bytes returns a pointer to n, for the Cut fields of [Fault].
func Bytes(n int64) *int64 { return &n }

// InjectFault adds a fault rule. Rules are tried in the order they were
// added; the first that matches a request and fires applies.
func (s *Server) InjectFault(rule Fault) error {
	body := struct {
		Fault
		LatencyMS int64 `json:"latency_ms,omitempty"`
	}{rule, rule.Latency.Milliseconds()}
	return s.post("/_permafrost/v1/faults", body, nil)
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() error {
	req, err := http.NewRequest(http.MethodDelete, s.URL+"/_permafrost/v1/faults", nil)
	if err != nil {
		return err
	}
	return s.do(req, nil)
}

func (s *Server) post(path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return s.do(req, out)
}

func (s *Server) do(req *http.Request, out any) error {
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("permafrosttest: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("permafrosttest: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Code, Message string }
		json.Unmarshal(body, &e)
		return fmt.Errorf("permafrosttest: %s %s: %s: %s", req.Method, req.URL.Path, e.Code, e.Message)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}
