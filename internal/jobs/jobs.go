// Package jobs is the scheduler: it wakes on a short real-time tick, or
// when told that something may be due (a job was initiated, the test clock
// moved), and asks the service to do the due work — complete jobs, take
// inventory snapshots, forget expired jobs — and starts the periodic
// housekeeping tasks that are due (Task: the blob sweep and
// reconciliation, upload expiry, the scrubber). Completion is therefore
// driven by the server, not by clients polling, and "due" is always judged
// on the service's clock, so advancing the test clock completes jobs and
// runs housekeeping by itself.
//
// The tick polls the metadata store for due work instead of sleeping until
// the next due time: the test clock can jump, another node can add jobs,
// and one indexed query per tick is cheap. Several schedulers (one per
// node) may run at once; the service's steps are idempotent and finishing
// a job is a compare-and-set in the store.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Worker does the due work; glacier.Service implements it.
type Worker interface {
	RunDueWork(ctx context.Context) (int, error)
}

// Scheduler calls Worker.RunDueWork on every tick and wake-up.
type Scheduler struct {
	Worker   Worker
	Interval time.Duration // real time between passes; 0 means 500 ms
	Logger   *slog.Logger
	// Clock is the service clock tasks are scheduled on; nil: real time.
	Clock Clock
	// Settings keeps the last start of tasks with a StateKey.
	Settings Settings

	wake  chan struct{}
	mu    sync.Mutex // guards the tasks' schedules
	tasks []*task
}

// New returns a scheduler ready to Run.
func New(w Worker, interval time.Duration, log *slog.Logger) *Scheduler {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{Worker: w, Interval: interval, Logger: log, wake: make(chan struct{}, 1)}
}

// Wake asks for a pass as soon as possible; it never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run makes passes until ctx ends, then waits for the tasks it started.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	var tasks sync.WaitGroup
	defer tasks.Wait()
	for {
		s.runTasks(ctx, &tasks)
		if _, err := s.Worker.RunDueWork(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("scheduler pass failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}
