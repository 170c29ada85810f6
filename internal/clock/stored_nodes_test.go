package clock_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/meta/postgres"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/testenv"
)

// Two nodes on one database advancing the shared test clock at the same
// time lose no advance: each is applied to the offset the other stored.
func TestStoredAdvancesFromTwoNodesAllCount(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "meta.db")
		open := func() clock.Settings {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		advanceFromTwoNodes(t, open(), open())
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.PostgresDSN(t)
		open := func() clock.Settings {
			db, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		advanceFromTwoNodes(t, open(), open())
	})
}

func advanceFromTwoNodes(t *testing.T, a, b clock.Settings) {
	ctx := context.Background()
	const each = 25
	var wg sync.WaitGroup
	for _, st := range []clock.Settings{a, b} {
		c, err := clock.OpenStored(ctx, st, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range each {
				if _, _, err := c.Advance(ctx, time.Hour); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	v, err := a.GetSetting(ctx, clock.OffsetSetting)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatInt(int64(2*each*time.Hour), 10); v != want {
		n, _ := strconv.ParseInt(v, 10, 64)
		t.Fatalf("stored offset %v after %d advances of an hour on two nodes, want %v: advances were lost", time.Duration(n), 2*each, 2*each*time.Hour)
	}
	// A node opened now reads the sum.
	c, err := clock.OpenStored(ctx, b, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, off := c.Read(ctx); off != 2*each*time.Hour {
		t.Fatalf("a new node reads offset %v, want %v", off, 2*each*time.Hour)
	}
}
