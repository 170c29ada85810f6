package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	_ "modernc.org/sqlite"
)

const inventoryVault = "inventory"

// inventory: an inventory-retrieval job over a vault of
// -inventory-archives archives, timed from InitiateJob to the last byte of
// GetJobOutput, with the server's peak RSS. Uploading a million archives
// through the API would take most of an hour, so they are inserted
// directly into the stopped server's store: for the embedded store into
// meta.db in one transaction (the rows an upload would commit, without
// segments, which an inventory never reads); for PostgreSQL the same rows
// with one COPY (inventoryTarget). Every run restarts the server (so VmHWM
// is that run's peak) and marks the vault written, so every job takes a
// fresh snapshot of all archives, as the first job after a write does
// with --inventory-interval 0.
func (b *bench) inventory(ctx context.Context) error {
	dir := filepath.Join(b.run, "data", "inventory")
	logs := filepath.Join(b.run, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	opts := b.permafrostOpts(dir, filepath.Join(logs, "inventory.log"), true)
	db := filepath.Join(dir, "meta.db")
	return b.inventoryOn(ctx, inventoryTarget{
		start:       func(ctx context.Context) (*proc, error) { return startPermafrost(ctx, opts) },
		seed:        func(ctx context.Context, n int) error { return seedArchives(ctx, db, inventoryVault, n) },
		markWritten: func(ctx context.Context) error { return markWritten(ctx, db, inventoryVault) },
		store:       "meta.db",
		note:        "archives inserted through the store directly (SQL into meta.db)",
		moto:        "n/a: moto has no store to seed; uploading them through its API would take hours",
	})
}

// inventoryTarget is where the inventory workload runs: how to start the
// server, and how to write its store directly while it is stopped.
type inventoryTarget struct {
	start       func(ctx context.Context) (*proc, error)
	seed        func(ctx context.Context, n int) error
	markWritten func(ctx context.Context) error
	store       string // for the log
	note        string // on the report's first row
	moto        string // the moto column
}

func (b *bench) inventoryOn(ctx context.Context, t inventoryTarget) error {
	n := b.cfg.inventoryArchives
	p, err := t.start(ctx)
	if err != nil {
		return err
	}
	_, err = newClient(p.url, 1).CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(inventoryVault)})
	p.stop()
	if err != nil {
		return fmt.Errorf("CreateVault: %w", err)
	}
	d, err := timeIt(func() error { return t.seed(ctx, n) })
	if err != nil {
		return fmt.Errorf("seeding %d archives: %w", n, err)
	}
	b.logf("  inserted %d archive rows into %s in %s", n, t.store, d.Round(time.Millisecond))

	label := fmt.Sprintf("inventory of %d archives", n)
	if b.config != "embedded" {
		label = b.config + " " + label
	}
	first := true
	res := b.measure(ctx, nil, label, 3, func(ctx context.Context) ([]float64, error) {
		if err := t.markWritten(ctx); err != nil {
			return nil, err
		}
		p, err := t.start(ctx)
		if err != nil {
			return nil, err
		}
		defer p.stop()
		var finish func(func() error)
		if first {
			finish, first = b.prof.start(p, label), false
		}
		c := newClient(p.url, 1)
		var count int64
		d, err := timeIt(func() (err error) { count, err = inventoryJob(ctx, c); return err })
		if err != nil {
			return nil, err
		}
		if count != int64(n) {
			return nil, fmt.Errorf("inventory lists %d archives, want %d", count, n)
		}
		_, peak, err := p.memory()
		if finish != nil {
			finish(nil)
		}
		return []float64{d.Seconds(), peak, millisOf(p.startup)}, err
	})
	count := thousands(int64(n))
	rows := []Row{
		{ID: "inventory/time", Unit: "s", Name: fmt.Sprintf("inventory job, vault of %s archives: InitiateJob → last byte of GetJobOutput (JSON)", count)},
		{ID: "inventory/rss", Unit: "MiB", Memory: true, Name: "… server peak RSS (VmHWM; restarted before each run)"},
		{ID: "startup/inventory", Unit: "ms", Name: fmt.Sprintf("… server start-up with %s archives", count)},
	}
	for i, row := range rows {
		row.Section = "Inventory"
		row.PF = res[min(i, len(res)-1)]
		row.Moto = missing(t.moto)
		if i == 0 {
			row.Note = t.note
		}
		b.addRow(row)
	}
	return ctx.Err()
}

// inventoryJob initiates a JSON inventory job, waits for it and reads its
// output, counting the archives listed.
func inventoryJob(ctx context.Context, c *glacier.Client) (int64, error) {
	out, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{
		VaultName:     aws.String(inventoryVault),
		JobParameters: &types.JobParameters{Type: aws.String("inventory-retrieval"), Format: aws.String("JSON")},
	})
	if err != nil {
		return 0, fmt.Errorf("InitiateJob: %w", err)
	}
	if err := waitJob(ctx, c, inventoryVault, aws.ToString(out.JobId)); err != nil {
		return 0, err
	}
	o, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String(inventoryVault), JobId: out.JobId})
	if err != nil {
		return 0, fmt.Errorf("GetJobOutput: %w", err)
	}
	defer o.Body.Close()
	tc := &tokenCounter{token: []byte(`"ArchiveId"`)}
	buf := make([]byte, mib)
	for {
		k, err := o.Body.Read(buf)
		tc.write(buf[:k])
		if errors.Is(err, io.EOF) {
			return tc.n, nil
		}
		if err != nil {
			return tc.n, err
		}
	}
}

// tokenCounter counts occurrences of a token in a stream, across chunk
// boundaries.
type tokenCounter struct {
	token []byte
	tail  []byte
	n     int64
}

func (t *tokenCounter) write(p []byte) {
	l := len(t.token) - 1
	if len(t.tail) > 0 {
		// Only an occurrence straddling the boundary fits in here.
		edge := append(t.tail[:len(t.tail):len(t.tail)], p[:min(len(p), l)]...)
		t.n += int64(bytes.Count(edge, t.token))
	}
	t.n += int64(bytes.Count(p, t.token))
	if len(p) >= l {
		t.tail = append(t.tail[:0], p[len(p)-l:]...)
	} else {
		joined := append(t.tail, p...)
		t.tail = append([]byte(nil), joined[max(0, len(joined)-l):]...)
	}
}

// openMeta opens a stopped server's meta.db for the harness's own writes.
func openMeta(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
}

// seedArchives inserts n archives into the vault in one transaction, as
// uploads would have left them (ids of Glacier's 138 characters, creation
// times one second apart ending now, sizes of 1 KiB to 4 GiB, a
// description each), and updates the vault's counters.
func seedArchives(ctx context.Context, path, vault string, n int) error {
	db, err := openMeta(path)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var vaultID int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM vaults WHERE account_id = ? AND name = ?`, benchAccount, vault).Scan(&vaultID); err != nil {
		return fmt.Errorf("finding the vault: %w", err)
	}
	const batch = 200
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", batch), ", "))
	if err != nil {
		return err
	}
	defer stmt.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	now := time.Now().UnixMilli()
	var total int64
	args := make([]any, 0, 6*batch)
	raw := make([]byte, 103) // base64url of 103 bytes is 138 characters
	for i := 0; i < n; i++ {
		for k := range raw {
			raw[k] = byte(rng.Uint32())
		}
		var tree [32]byte
		for k := range tree {
			tree[k] = byte(rng.Uint32())
		}
		size := 1024 + rng.Int64N(4*gib)
		total += size
		args = append(args, base64.RawURLEncoding.EncodeToString(raw), vaultID, now-int64(n-i)*1000, size, tree[:],
			fmt.Sprintf("backup %07d of /srv/data", i))
		if len(args) == cap(args) {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			args = args[:0]
		}
	}
	for len(args) > 0 { // the remainder, one row at a time
		if _, err := tx.ExecContext(ctx, `INSERT INTO archives (id, vault_id, created_at, size, tree_hash, description) VALUES (?, ?, ?, ?, ?, ?)`, args[:6]...); err != nil {
			return err
		}
		args = args[6:]
	}
	if _, err := tx.ExecContext(ctx, `UPDATE vaults SET number_of_archives = number_of_archives + ?,
		size_in_bytes = size_in_bytes + ?, last_write_at = ? WHERE id = ?`, n, total, now, vaultID); err != nil {
		return err
	}
	return tx.Commit()
}

// markWritten sets the vault's last write to now, so that the next
// inventory job takes a fresh snapshot.
func markWritten(ctx context.Context, path, vault string) error {
	db, err := openMeta(path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `UPDATE vaults SET last_write_at = ? WHERE account_id = ? AND name = ?`,
		time.Now().UnixMilli(), benchAccount, vault)
	return err
}

// thousands formats n with comma separators: 1,000,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
