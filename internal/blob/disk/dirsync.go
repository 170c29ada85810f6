package disk

import "sync"

// Shared directory fsyncs. Every Put ends by fsyncing the directory it
// linked its blob into, and answers only after that. An fsync of a
// directory makes durable every entry created in it before the fsync
// began, so concurrent Puts into one directory need one fsync per round,
// not one each: the first caller for a directory runs its fsync; callers
// that arrive while it runs (their link may be later than its start) queue
// for the next round, which that same caller runs as soon as the first
// ends, and so on until no one waits. Different directories are fsynced
// concurrently, each on its caller. A Put is answered only after an fsync
// of its directory that began after its link: durability is unchanged.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]*dirRound
}

// dirRound is a directory being fsynced and the callers of its next round.
type dirRound struct {
	next []chan error
}

// syncDir fsyncs dir, sharing the fsync with concurrent callers.
func (g *dirSyncer) syncDir(dir string) error {
	done := make(chan error, 1)
	g.mu.Lock()
	if g.dirs == nil {
		g.dirs = make(map[string]*dirRound)
	}
	if r, ok := g.dirs[dir]; ok { // an fsync of dir is running
		r.next = append(r.next, done)
		g.mu.Unlock()
		return <-done
	}
	r := &dirRound{}
	g.dirs[dir] = r
	waiters := []chan error{done}
	for len(waiters) > 0 {
		g.mu.Unlock()
		err := syncDir(dir)
		for _, w := range waiters {
			w <- err
		}
		g.mu.Lock()
		waiters, r.next = r.next, nil
	}
	delete(g.dirs, dir)
	g.mu.Unlock()
	return <-done
}
