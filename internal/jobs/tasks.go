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
}

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
	// early; it needs the scheduler's Settings.
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
		if kept := s.keptNext(ctx, t); now.Before(kept) {
			t.next = kept // another node sharing the settings ran it meanwhile
			continue
		}
		t.running = true
		t.next = now.Add(t.Every)
		if t.StateKey != "" && s.Settings != nil {
			if err := s.Settings.PutSetting(ctx, t.StateKey, now.UTC().Format(time.RFC3339Nano)); err != nil && ctx.Err() == nil {
				s.Logger.Warn("recording a housekeeping task's start failed", "task", t.Name, "err", err)
			}
		}
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

// keptNext is Every after the task's kept last start, or the zero time
// when none is kept. Nodes sharing the settings share the schedule: each
// looks again before it runs the task.
func (s *Scheduler) keptNext(ctx context.Context, t *task) time.Time {
	if t.StateKey != "" && s.Settings != nil {
		if v, err := s.Settings.GetSetting(ctx, t.StateKey); err == nil && v != "" {
			if last, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return last.Add(t.Every)
			}
		}
	}
	return time.Time{}
}

// firstRun places a task's first run: Every after its kept last start,
// else at once (AtStart) or Every from now.
func (s *Scheduler) firstRun(ctx context.Context, t *task, now time.Time) time.Time {
	if kept := s.keptNext(ctx, t); !kept.IsZero() {
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
