// Package health answers GET /_permafrost/v1/health: whether the stores a
// node depends on answer, for load balancers and monitoring.
//
// The answer is cheap and bounded: every check runs concurrently under a
// short timeout, and a result is reused for CacheFor, so a load balancer
// probing every node each second costs each store at most one trivial
// request a second. The body is a small JSON object designed to grow:
//
//	{
//	  "status": "ok" | "unavailable",
//	  "failing": ["metadata"],                       // only when unavailable
//	  "checks": {
//	    "metadata": {"status": "ok", "latency_ms": 0.4},
//	    "blobs":    {"status": "error", "latency_ms": 2000, "error": "…"}
//	  },
//	  "info": { … }                                  // optional, see AddInfo
//	}
//
// Checks decide the status (200 when all pass, 503 naming the failing ones
// otherwise); infos add data without deciding it (counts a monitoring
// system may alert on, such as damaged archives found by a scrubber).
// Clients must ignore keys they do not know.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Default bounds.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultCacheFor = time.Second
)

// Checker runs the registered checks; checks and infos may be added at any
// time. The zero value is ready to use.
type Checker struct {
	// Timeout bounds each check; DefaultTimeout when zero.
	Timeout time.Duration
	// CacheFor is how long a report is reused; DefaultCacheFor when zero,
	// negative to never reuse.
	CacheFor time.Duration
	// Redact, if set, cleans error messages before they are shown.
	Redact func(string) string
	// OnFailure, if set, is called with the name of each failing check
	// (for a metric).
	OnFailure func(name string)

	checks []named[func(context.Context) error]
	infos  []named[func(context.Context) (any, error)]

	mu     sync.Mutex
	cached *Report
	at     time.Time
}

type named[F any] struct {
	name string
	fn   F
}

// AddCheck registers a check that decides the status: the store or
// component called name answers when fn returns nil within the timeout.
func (c *Checker) AddCheck(name string, fn func(ctx context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cached = nil
	c.checks = append(c.checks, named[func(context.Context) error]{name, fn})
}

// AddInfo registers data reported under "info" → name; it never makes the
// node unhealthy. An error is reported as {"error": "…"} in its place.
func (c *Checker) AddInfo(name string, fn func(ctx context.Context) (any, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cached = nil
	c.infos = append(c.infos, named[func(context.Context) (any, error)]{name, fn})
}

// Report is the JSON body.
type Report struct {
	Status  string                 `json:"status"`
	Failing []string               `json:"failing,omitempty"`
	Checks  map[string]CheckResult `json:"checks"`
	Info    map[string]any         `json:"info,omitempty"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Status    string  `json:"status"` // ok or error
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Status == "ok" }

// Check runs every check (or reuses a fresh report) and returns the report.
func (c *Checker) Check(ctx context.Context) *Report {
	c.mu.Lock()
	defer c.mu.Unlock() // one run at a time: concurrent probes share it
	cacheFor := c.CacheFor
	if cacheFor == 0 {
		cacheFor = DefaultCacheFor
	}
	if c.cached != nil && cacheFor > 0 && time.Since(c.at) < cacheFor {
		return c.cached
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()

	rep := &Report{Status: "ok", Checks: map[string]CheckResult{}}
	var wg sync.WaitGroup
	var rmu sync.Mutex
	for _, ch := range c.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := c.run(ctx, ch.fn)
			rmu.Lock()
			rep.Checks[ch.name] = res
			rmu.Unlock()
		}()
	}
	if len(c.infos) > 0 {
		rep.Info = map[string]any{}
	}
	for _, in := range c.infos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := in.fn(ctx)
			if err != nil {
				v = map[string]string{"error": c.redact(err.Error())}
			}
			rmu.Lock()
			rep.Info[in.name] = v
			rmu.Unlock()
		}()
	}
	wg.Wait()
	for name, res := range rep.Checks {
		if res.Status != "ok" {
			rep.Failing = append(rep.Failing, name)
			if c.OnFailure != nil {
				c.OnFailure(name)
			}
		}
	}
	if len(rep.Failing) > 0 {
		sort.Strings(rep.Failing)
		rep.Status = "unavailable"
	}
	c.cached, c.at = rep, time.Now()
	return rep
}

// run runs one check, giving up at the deadline even if fn does not.
func (c *Checker) run(ctx context.Context, fn func(context.Context) error) CheckResult {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	res := CheckResult{Status: "ok", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
			res.Error = "no answer within " + c.timeoutString()
		} else {
			res.Error = c.redact(err.Error())
		}
		res.Status = "error"
	}
	return res
}

func (c *Checker) timeoutString() string {
	if c.Timeout <= 0 {
		return DefaultTimeout.String()
	}
	return c.Timeout.String()
}

func (c *Checker) redact(s string) string {
	if c.Redact != nil {
		return c.Redact(s)
	}
	return s
}

// ServeHTTP answers GET and HEAD with the report: 200 when every check
// passed, 503 otherwise. It needs no authentication.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rep := c.Check(r.Context())
	body, _ := json.Marshal(rep)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if !rep.OK() {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(append(body, '\n'))
	}
}
