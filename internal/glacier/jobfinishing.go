package glacier

import (
	"context"
	"errors"
)

// errJobBeingFinished: another goroutine of this process is producing the
// job; the scheduler leaves it to that one.
var errJobBeingFinished = errors.New("job being finished by this process")

// Service.finishing holds the jobs this process is producing right now,
// keyed by job id, each with a channel closed when its producer is done. A job due at once is finished inline by InitiateJob (createJob)
// while the scheduler, woken or ticking, finds the same job due and in
// progress: without this both would produce it — an inventory of ten
// million archives scanned and written twice at once, the second copy
// thrown away when its FinishJob conflicts. Other nodes may still produce
// a job concurrently (FinishJob settles that); one process does it once.
// startFinishing reports whether the caller may produce job id (no other
// goroutine of this process is); if so, done must be called afterwards.
func (s *Service) startFinishing(id string) (done func(), ok bool) {
	ch := make(chan struct{})
	if _, busy := s.finishing.LoadOrStore(id, ch); busy {
		return nil, false
	}
	return func() { s.finishing.Delete(id); close(ch) }, true
}

// awaitFinishing waits until no goroutine of this process is producing
// job id (or ctx ends).
func (s *Service) awaitFinishing(ctx context.Context, id string) {
	if v, ok := s.finishing.Load(id); ok {
		select {
		case <-v.(chan struct{}):
		case <-ctx.Done():
		}
	}
}
