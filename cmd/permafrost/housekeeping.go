package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/jobs"
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

// scheduleHousekeeping hands the periodic housekeeping to the scheduler,
// which runs it on the service clock (so a test-clock advance runs what
// became due):
//   - the blob intents: first those an earlier process left (on a store
//     this process owns, every intent recorded before it started; on
//     stores shared with other nodes, only intents older than
//     glacier.SweepGrace, since another node may be uploading), retried
//     soon if that fails, then every --sweep-interval those older than the
//     grace;
//   - every --reconcile-interval a full reconciliation at a bounded rate;
//   - every glacier.UploadExpiryEvery the discarding of idle uploads;
//   - at start and every --sweep-interval (1h when 0) the retention
//     floors an interrupted process left half applied;
//   - every --scrub-interval a scrub pass (its last start kept in the
//     settings, so a restart does not start one early, and claimed by a
//     compare-and-swap of it, so one node of several starts each pass).
//
// The server listens at once whatever it stores: all of it runs in the
// background. Blob ages (intents, modification times) stay on real time,
// the time uploads take: only when the passes run follows the service
// clock.
func (m *Main) scheduleHousekeeping() {
	s := m.scheduler
	s.Clock, s.Settings = m.service.Clock, m.stores.meta
	every := m.Config.SweepInterval
	if every <= 0 {
		every = time.Hour // the start-up pass (and its retries) only
	}
	s.Add(jobs.Task{Name: "blob-intents", Every: every, AtStart: true, Retry: 10 * time.Second, Run: m.intentPass})
	if m.Config.ReconcileInterval > 0 {
		s.Add(jobs.Task{Name: "reconcile", Every: m.Config.ReconcileInterval, Run: m.reconcilePass})
	}
	s.Add(jobs.Task{Name: "upload-expiry", Every: glacier.UploadExpiryEvery, AtStart: true, Run: func(ctx context.Context) error {
		_, err := m.service.ExpireIdleUploads(ctx)
		return err
	}})
	// Retention floors whose applying an earlier process (of this node or
	// another) left unfinished: at start, then every sweep interval.
	s.Add(jobs.Task{Name: "retention", Every: every, AtStart: true, Run: m.service.ResumeRetention})
	if m.Config.ScrubInterval > 0 && m.service.CanScrub() {
		s.Add(jobs.Task{Name: "scrub", Every: m.Config.ScrubInterval, AtStart: true, StateKey: glacier.ScrubPassSetting, Run: func(ctx context.Context) error {
			return m.service.ScrubPass(ctx, m.Config.ScrubInterval, m.Config.ScrubRate, m.scrubHooks())
		}})
	}
}

// intentPass examines the blob intents: until the start-up pass has
// succeeded, those an earlier process left; then those older than the
// grace (none with --sweep-interval 0).
func (m *Main) intentPass(ctx context.Context) error {
	m.hk.mu.Lock()
	startup := !m.hk.startupDone
	m.hk.mu.Unlock()
	if !startup && m.Config.SweepInterval <= 0 {
		return nil
	}
	// The start-up pass removes what earlier processes left (all of it
	// when this process owns the stores); later passes what is older
	// than the grace (glacier.LeftoverCutoff).
	var ownedSince time.Time
	if startup {
		ownedSince = m.startedAt
	}
	olderThan := glacier.LeftoverCutoff(time.Now(), ownedSince, m.stores.shared)
	start := time.Now()
	n, err := m.service.ProcessIntents(ctx, olderThan)
	if ctx.Err() != nil {
		return nil
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
		return fmt.Errorf("housekeeping of blob intents: %w", err)
	case n > 0:
		m.logger.Info("removed blobs left by interrupted uploads or deletes", "count", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// reconcilePass lists every blob at the configured rate.
func (m *Main) reconcilePass(ctx context.Context) error {
	m.hk.mu.Lock()
	m.hk.reconciling = true
	m.hk.mu.Unlock()
	start := time.Now()
	n, err := m.service.Reconcile(ctx, glacier.LeftoverCutoff(time.Now(), time.Time{}, m.stores.shared), m.Config.ReconcileRate)
	m.hk.mu.Lock()
	m.hk.reconciling = false
	if err == nil {
		m.hk.lastReconcile = time.Now()
	}
	m.hk.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("reconciliation of blobs against metadata: %w", err)
	case err == nil:
		m.logger.Info("reconciled blobs against metadata", "removed", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
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
