package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// TestOutageAndRecovery stops PostgreSQL under a store that has open
// connections and a transaction in flight: every call fails promptly with
// KindUnavailable while the server is down, and the store works again by
// itself once it is back. It runs on a server of its own, so the shared
// one stays up for the other tests.
func TestOutageAndRecovery(t *testing.T) {
	srv := testenv.NewPostgresServer(t)
	db := mustOpen(t, srv.DSN)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	for i := range 3 {
		must(t, "CreateArchive", db.CreateArchive(ctx, archive(fmt.Sprintf("a%d", i), "v", t0, fmt.Sprintf("k%d", i))))
	}
	// Fill the pool with idle connections.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { db.VaultPolicies(ctx, acct, "v") })
	}
	wg.Wait()

	// A read in flight when the server goes.
	inScan, release := make(chan struct{}), make(chan struct{})
	scanErr := make(chan error, 1)
	go func() {
		first := true
		scanErr <- db.ScanArchives(ctx, acct, "v", func(glacier.Archive) error {
			if first {
				first = false
				close(inScan)
				<-release
			}
			return nil
		})
	}()
	<-inScan

	srv.Stop(t)
	close(release)
	err = <-scanErr
	t.Logf("ScanArchives across the outage: %v", err)
	if glacier.KindOf(err) != glacier.KindUnavailable {
		// The rows may have been read whole before the server went; the
		// commit then fails.
		t.Errorf("ScanArchives across the outage: %v (kind %v), want KindUnavailable", err, glacier.KindOf(err))
	}

	calls := map[string]func(ctx context.Context) error{
		"GetVault": func(ctx context.Context) error { _, err := db.GetVault(ctx, acct, "v"); return err },
		"AddTags":  func(ctx context.Context) error { return db.AddTags(ctx, acct, "v", map[string]string{"k": "v"}, 10) },
		"CreateArchive": func(ctx context.Context) error {
			return db.CreateArchive(ctx, archive("b", "v", t0, "kb"))
		},
		"UpdateLock": func(ctx context.Context) error {
			return db.UpdateLock(ctx, acct, "v", func(cur *glacier.Lock) (*glacier.Lock, error) { return cur, nil })
		},
		"DueNotifications": func(ctx context.Context) error { _, err := db.DueNotifications(ctx, t0, 10); return err },
	}
	for name, call := range calls {
		for range 2 { // the first may meet a dead pooled connection, the second dials
			start := time.Now()
			err := call(ctx)
			if got := glacier.KindOf(err); got != glacier.KindUnavailable {
				t.Errorf("%s while PostgreSQL is down: %v (kind %v), want KindUnavailable", name, err, got)
			}
			if d := time.Since(start); d > connectTimeout+time.Second {
				t.Errorf("%s while PostgreSQL is down took %v", name, d)
			}
		}
	}
	// A caller's short deadline is honoured too.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := calls["GetVault"](short); glacier.KindOf(err) != glacier.KindUnavailable {
		t.Errorf("GetVault with a deadline while down: %v, want KindUnavailable", err)
	}

	srv.Start(t)
	// The first calls after the restart succeed: broken connections were
	// dropped, and idle ones are pinged before use.
	for name, call := range calls {
		if err := call(ctx); err != nil {
			t.Errorf("%s after the restart: %v", name, err)
		}
	}
	v, err := db.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	if v.NumberOfArchives != 4 {
		t.Errorf("vault after the outage has %d archives, want 4 (3 before, 1 after)", v.NumberOfArchives)
	}

	// A restart between two calls, with the pool's connections idle.
	srv.Stop(t)
	srv.Start(t)
	for name, call := range calls {
		if name == "CreateArchive" {
			continue // done
		}
		if err := call(ctx); err != nil {
			t.Errorf("%s after a quiet restart: %v", name, err)
		}
	}
}
