package jobs

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/meta/postgres"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/testenv"
)

// lockstep makes two nodes' reads of the settings go in step: a node's
// n-th read returns only once the other node has made its n-th (or a
// second has passed), so both nodes look at the kept last start before
// either acts on it: the interleaving in which a check-then-act claim lets
// both nodes start a pass.
type lockstep struct {
	mu    sync.Mutex
	cond  *sync.Cond
	reads [2]int
}

type lockstepNode struct {
	Settings
	ls *lockstep
	i  int
}

func (n lockstepNode) GetSetting(ctx context.Context, key string) (string, error) {
	v, err := n.Settings.GetSetting(ctx, key)
	ls := n.ls
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.reads[n.i]++
	ls.cond.Broadcast()
	deadline := time.Now().Add(time.Second)
	for ls.reads[1-n.i] < ls.reads[n.i] && time.Now().Before(deadline) {
		go func() { time.Sleep(10 * time.Millisecond); ls.cond.Broadcast() }()
		ls.cond.Wait()
	}
	return v, err
}

// Two nodes on one store (two connections to one SQLite file, or to one
// PostgreSQL database) that find the scrub pass due at the same instant:
// exactly one starts it; the claim is a compare-and-swap of the kept last
// start, not a read then a write.
func TestTwoNodesClaimOnePass(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "meta.db")
		twoNodesClaimOnePass(t, func() Settings {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.PostgresDSN(t)
		twoNodesClaimOnePass(t, func() Settings {
			db, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func twoNodesClaimOnePass(t *testing.T, open func() Settings) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ls := &lockstep{}
	ls.cond = sync.NewCond(&ls.mu)
	var runs atomic.Int64
	var scheds []*Scheduler
	for i := range 2 {
		s := New(&countingWorker{}, 5*time.Millisecond, nil)
		s.Clock, s.Settings = clk, lockstepNode{open(), ls, i}
		s.Add(Task{Name: "scrub", Every: time.Hour, AtStart: true, StateKey: "scrub.last", Run: func(context.Context) error {
			runs.Add(1)
			return nil
		}})
		scheds = append(scheds, s)
	}
	for _, s := range scheds {
		start(t, s)
	}
	waitFor(t, "a run", func() bool { return runs.Load() >= 1 })
	time.Sleep(1500 * time.Millisecond) // the loser's re-read waits out its step
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d nodes started the pass both found due; want exactly one", n)
	}
	// An interval later: again exactly one.
	clk.advance(time.Hour)
	waitFor(t, "the next run", func() bool { return runs.Load() >= 2 })
	time.Sleep(1500 * time.Millisecond)
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs after two intervals; want two, one per interval", n)
	}
}
