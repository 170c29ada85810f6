package glacier

import (
	"errors"
	"sync"
)

// errJobBeingFinished: another goroutine of this process is producing the
// job; the scheduler leaves it to that one.
var errJobBeingFinished = errors.New("job being finished by this process")

// finishing holds the jobs this process is producing right now, keyed by
// service and job id. A job due at once is finished inline by
// InitiateJob (createJob) while the scheduler, woken or ticking, finds the
// same job due and in progress: without this both would produce it — an
// inventory of ten million archives scanned and written twice at once,
// the second copy thrown away when its FinishJob conflicts. Other nodes
// may still produce a job concurrently (FinishJob settles that); one
// process does it once.
var finishing sync.Map

type finishingKey struct {
	s  *Service
	id string
}

// startFinishing reports whether the caller may produce job id (no other
// goroutine of this process is); if so, done must be called afterwards.
func (s *Service) startFinishing(id string) (done func(), ok bool) {
	k := finishingKey{s, id}
	if _, busy := finishing.LoadOrStore(k, struct{}{}); busy {
		return nil, false
	}
	return func() { finishing.Delete(k) }, true
}
