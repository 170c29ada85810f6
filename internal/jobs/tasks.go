package jobs

import (
	"context"
	"sync"
	"time"
)

// Clock is the service clock the scheduler judges "due" by (the real
// clock, or the test clock, whose advances make things due at once).
type Clock interface {
	Now() time.Time
}

// Settings keeps a task's last start across restarts (the metadata
// store's settings).
type Settings interface {
	// GetSetting returns the value stored under key, or "" and no error
	// when nothing is stored.
	GetSetting(ctx context.Context, key string) (string, error)
	// PutSetting stores value under key, replacing any earlier value.
	PutSetting(ctx context.Context, key, value string) error
	// SwapSetting stores value under key only if the key holds old (""
	// also matching an unset key), atomically also across nodes sharing
	// the store, and reports whether it did.
	SwapSetting(ctx context.Context, key, old, value string) (bool, error)
}

// claimRetry is how soon (service clock) a task whose claim could not be
// recorded, the store failing, is tried again.
const claimRetry = time.Minute

// Task is housekeeping the scheduler runs periodically on the service
// clock: the blob sweep, the reconciliation, upload expiry, the scrubber.
// Each task runs in a goroutine of its own, never two runs of one task at
// once, so a long pass (a scrub at a bounded rate) delays neither the jobs
// nor the other tasks. Every is measured from one run's start to the next;
// a run still going when the next is due delays it until it ends.
type Task struct {
	Name string
	// Every is the service-clock time between two runs' starts; must be
	// positive.
	Every time.Duration
	// AtStart runs the task as soon as the scheduler starts (unless its
	// kept last start says it ran less than Every ago); otherwise the
	// first run is Every after the start.
	AtStart bool
	// Retry, if positive, is how soon a failed run is repeated instead of
	// waiting Every.
	Retry time.Duration
	// StateKey, if set, is the setting the task's last start is kept
	// under (RFC 3339, service clock), so that a restart does not run it
	// early; it needs the scheduler's Settings. A run starts only once its
	// start is recorded by a compare-and-swap of the kept last start (a
	// claim): of nodes sharing the settings that find the task due at the
	// same time, exactly one runs it.
	StateKey string
	// Run does one run; its error is logged by the scheduler.
	Run func(ctx context.Context) error
}

// task is a Task with its schedule.
type task struct {
	Task
	next    time.Time // zero until the first pass places it
	running bool
}

// Add registers a task; call it before Run.
func (s *Scheduler) Add(t Task) {
	s.tasks = append(s.tasks, &task{Task: t})
}

// runTasks starts every task that is due and not running.
func (s *Scheduler) runTasks(ctx context.Context, wg *sync.WaitGroup) {
	if len(s.tasks) == 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		if t.next.IsZero() {
			t.next = s.firstRun(ctx, t, now)
		}
		if t.running || now.Before(t.next) {
			continue
		}
		kept, raw, err := s.kept(ctx, t)
		if err != nil {
			if ctx.Err() == nil {
				s.Logger.Warn("reading a housekeeping task's last start failed; will retry", "task", t.Name, "err", err)
			}
			t.next = now.Add(min(claimRetry, t.Every))
			continue
		}
		if now.Before(kept) {
			t.next = kept // another node sharing the settings ran it meanwhile
			continue
		}
		if t.StateKey != "" && s.Settings != nil {
			// Claim the run: record its start only if the kept one is
			// still the one read, so that of nodes finding it due at once
			// exactly one runs it.
			won, err := s.Settings.SwapSetting(ctx, t.StateKey, raw, now.UTC().Format(time.RFC3339Nano))
			if err != nil {
				if ctx.Err() == nil {
					s.Logger.Warn("claiming a housekeeping task's run failed; will retry", "task", t.Name, "err", err)
				}
				t.next = now.Add(min(claimRetry, t.Every))
				continue
			}
			if !won {
				// Another node claimed it meanwhile: its start is kept.
				if t.next, _, _ = s.kept(ctx, t); !now.Before(t.next) {
					t.next = now.Add(min(claimRetry, t.Every))
				}
				continue
			}
		}
		t.running = true
		t.next = now.Add(t.Every)
		wg.Add(1)
		go func(t *task) {
			defer wg.Done()
			err := t.Run(ctx)
			if err != nil && ctx.Err() == nil {
				s.Logger.Warn("housekeeping task failed; will retry", "task", t.Name, "err", err)
			}
			s.mu.Lock()
			t.running = false
			if err != nil && t.Retry > 0 {
				if retry := s.now().Add(t.Retry); retry.Before(t.next) {
					t.next = retry
				}
			}
			s.mu.Unlock()
		}(t)
	}
}

// kept is Every after the task's kept last start, or the zero time when
// none is kept, and the kept value as read (for the claim). Nodes sharing
// the settings share the schedule: each looks again before it runs the
// task.
func (s *Scheduler) kept(ctx context.Context, t *task) (time.Time, string, error) {
	if t.StateKey == "" || s.Settings == nil {
		return time.Time{}, "", nil
	}
	v, err := s.Settings.GetSetting(ctx, t.StateKey)
	if err != nil || v == "" {
		return time.Time{}, "", err
	}
	last, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, v, nil // unreadable: the next claim replaces it
	}
	return last.Add(t.Every), v, nil
}

// firstRun places a task's first run: Every after its kept last start,
// else at once (AtStart) or Every from now.
func (s *Scheduler) firstRun(ctx context.Context, t *task, now time.Time) time.Time {
	if kept, _, _ := s.kept(ctx, t); !kept.IsZero() {
		return kept
	}
	if t.AtStart {
		return now
	}
	return now.Add(t.Every)
}

func (s *Scheduler) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}
