package main

import (
	"context"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// housekeepingState is what the health output reports about the removal
// of leftovers.
type housekeepingState struct {
	mu            sync.Mutex
	startupDone   bool
	lastPass      time.Time
	lastRemoved   int
	lastErr       string
	lastReconcile time.Time
	reconciling   bool
}

// housekeepingLoop removes what interrupted uploads and deletes left, in
// the background so that the server listens at once whatever it stores:
// first the blob intents an earlier process left (on a store this process
// owns, every intent recorded before it started; on stores shared with
// other nodes, only intents older than glacier.SweepGrace, since another
// node may be uploading), then every --sweep-interval the intents older
// than the grace, and every --reconcile-interval a full reconciliation at
// a bounded rate.
func (m *Main) housekeepingLoop(ctx context.Context) {
	defer close(m.done)
	first := m.startedAt
	if m.stores.shared || first.IsZero() {
		first = time.Now().Add(-glacier.SweepGrace)
	}
	m.intentPass(ctx, first, true)

	var sweep, reconcile <-chan time.Time
	if m.Config.SweepInterval > 0 {
		t := time.NewTicker(m.Config.SweepInterval)
		defer t.Stop()
		sweep = t.C
	}
	if m.Config.ReconcileInterval > 0 {
		t := time.NewTicker(m.Config.ReconcileInterval)
		defer t.Stop()
		reconcile = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep:
			m.intentPass(ctx, time.Now().Add(-glacier.SweepGrace), false)
		case <-reconcile:
			m.reconcilePass(ctx)
		}
	}
}

// intentPass examines the intents recorded before olderThan.
func (m *Main) intentPass(ctx context.Context, olderThan time.Time, startup bool) {
	start := time.Now()
	n, err := m.service.ProcessIntents(ctx, olderThan)
	if ctx.Err() != nil {
		return
	}
	m.hk.mu.Lock()
	m.hk.lastPass, m.hk.lastRemoved, m.hk.lastErr = time.Now(), n, ""
	if err != nil {
		m.hk.lastErr = err.Error()
	} else if startup {
		m.hk.startupDone = true
	}
	m.hk.mu.Unlock()
	switch {
	case err != nil:
		m.logger.Warn("housekeeping of blob intents failed; will retry", "err", err)
	case n > 0:
		m.logger.Info("removed blobs left by interrupted uploads or deletes", "count", n, "took", time.Since(start).Round(time.Millisecond))
	}
	if err != nil && startup {
		// Retry the start-up pass soon rather than at the next interval.
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			m.intentPass(ctx, olderThan, true)
		}
	}
}

// reconcilePass lists every blob at the configured rate.
func (m *Main) reconcilePass(ctx context.Context) {
	m.hk.mu.Lock()
	m.hk.reconciling = true
	m.hk.mu.Unlock()
	start := time.Now()
	n, err := m.service.Reconcile(ctx, time.Now().Add(-glacier.SweepGrace), m.Config.ReconcileRate)
	m.hk.mu.Lock()
	m.hk.reconciling = false
	if err == nil {
		m.hk.lastReconcile = time.Now()
	}
	m.hk.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		m.logger.Warn("reconciliation of blobs against metadata failed", "err", err)
	case err == nil:
		m.logger.Info("reconciled blobs against metadata", "removed", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// housekeepingInfo is the health output's "housekeeping".
func (m *Main) housekeepingInfo(ctx context.Context) (any, error) {
	m.hk.mu.Lock()
	defer m.hk.mu.Unlock()
	out := struct {
		StartupPassDone bool       `json:"startup_pass_done"`
		LastPass        *time.Time `json:"last_pass_at,omitempty"`
		LastRemoved     int        `json:"last_pass_removed"`
		LastError       string     `json:"last_error,omitempty"`
		LastReconcile   *time.Time `json:"last_reconcile_at,omitempty"`
		Reconciling     bool       `json:"reconciling"`
	}{StartupPassDone: m.hk.startupDone, LastRemoved: m.hk.lastRemoved, LastError: m.hk.lastErr, Reconciling: m.hk.reconciling}
	if !m.hk.lastPass.IsZero() {
		t := m.hk.lastPass.UTC()
		out.LastPass = &t
	}
	if !m.hk.lastReconcile.IsZero() {
		t := m.hk.lastReconcile.UTC()
		out.LastReconcile = &t
	}
	return out, nil
}

// spaceInfo is the health output's "space": what the stored bytes are
// held for.
func (m *Main) spaceInfo(ctx context.Context) (any, error) {
	u, err := m.service.SpaceUsage(ctx)
	if err != nil {
		return nil, err
	}
	out := struct {
		glacier.SpaceUsage
		JobRetention string `json:"job_retention"`
		Intents      int64  `json:"pending_blob_intents"`
	}{SpaceUsage: u, JobRetention: m.Config.JobRetention.String()}
	if is := m.service.Intents; is != nil {
		out.Intents, _ = is.CountBlobIntents(ctx)
	}
	return out, nil
}

// failpointEnv names a test failpoint: "kill-after-blob-write" makes the
// server SIGKILL itself right after it has written an upload's blob and
// before the metadata commit (the crash window the blob intents cover).
const failpointEnv = "PERMAFROST_TEST_FAILPOINT"

// addHousekeeping adds the health infos, the scrape-time gauges and the
// test failpoint.
func (m *Main) addHousekeeping() {
	if os.Getenv(failpointEnv) == "kill-after-blob-write" {
		m.logger.Warn("test failpoint set: the server kills itself after its first blob write", "env", failpointEnv)
		m.service.AfterBlobPut = func(string) { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	m.health.AddInfo("housekeeping", m.housekeepingInfo)
	m.health.AddInfo("space", m.spaceInfo)
	if m.metrics == nil {
		return
	}
	m.metrics.SetSpaceSource(func() (map[string]int64, int64, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		u, err := m.service.SpaceUsage(ctx)
		if err != nil {
			return nil, 0, false
		}
		var intents int64
		if is := m.service.Intents; is != nil {
			intents, _ = is.CountBlobIntents(ctx)
		}
		return map[string]int64{
			"live_archives":        u.LiveArchives,
			"in_flight_uploads":    u.InFlightUploads,
			"retained_job_outputs": u.RetainedJobOutputs,
			"expired_unpurged":     u.ExpiredUnpurged,
		}, intents, true
	})
}
