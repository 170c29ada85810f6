package postgres

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/meta/metatest"
	"github.com/permafrost/permafrost/internal/testenv"
)

// mustOpen opens a store on dsn and closes it when the test ends.
func mustOpen(tb testing.TB, dsn string) *DB {
	tb.Helper()
	db, err := Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// poolSize is the pool size of the tests' stores: enough for every racer
// of a race to hold a connection at once.
const poolSize = 8

// withParam returns dsn with a connection parameter set.
func withParam(dsn, key, value string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

// newDSN returns the DSN of a fresh, empty database of the test's own,
// with a pool of poolSize connections.
func newDSN(tb testing.TB) string {
	tb.Helper()
	return withParam(testenv.PostgresDSN(tb), "pool_max_conns", strconv.Itoa(poolSize))
}

// newDB opens a store on a fresh database of its own, its pool filled so
// that racers start together rather than one dial apart.
func newDB(tb testing.TB) *DB {
	tb.Helper()
	db := mustOpen(tb, newDSN(tb))
	warm(tb, db)
	return db
}

// warm opens poolSize connections in db's pool.
func warm(tb testing.TB, db *DB) {
	tb.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for range poolSize {
		wg.Go(func() {
			c, err := db.pool.Acquire(tb.Context())
			if err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
				return
			}
			defer c.Release()
			c.Ping(tb.Context())
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		tb.Fatalf("filling the pool: %s", strings.Join(errs, "; "))
	}
}

// TestConformance runs the suite with a new, empty store for each subtest:
// a schema of its own in one database (selected with search_path in the
// DSN), which is quicker than a database each.
func TestConformance(t *testing.T) {
	base := testenv.PostgresDSN(t)
	dsn := withParam(base, "pool_max_conns", strconv.Itoa(poolSize))
	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	n := 0
	metatest.Run(t, func(t *testing.T) metatest.Store {
		n++
		schema := fmt.Sprintf("conformance_%d", n)
		if _, err := admin.Exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
			t.Fatal(err)
		}
		db := mustOpen(t, withParam(dsn, "search_path", schema))
		warm(t, db)
		return db
	})
}
