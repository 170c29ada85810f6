package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Ping checks that the database answers a read (the health check). It
// uses the read pool, so a long write never makes a node look down.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// JobCounts returns how many jobs are in each status (InProgress,
// Succeeded, Failed), for metrics.
func (db *DB) JobCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT status, count(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// OutboxBacklog returns how many notifications wait for delivery.
func (db *DB) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: outbox backlog: %w", err)
	}
	return n, nil
}

// Backup writes a consistent copy of the database file at path to out
// while other processes (a running server) keep using it: VACUUM INTO
// reads one snapshot (WAL readers never block the writer, nor it them)
// and writes a compact, self-contained database without a WAL. out must
// not exist. The copy is checked with PRAGMA integrity_check before
// Backup returns.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	params := "_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10)
	src, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		os.Remove(out)
		return fmt.Errorf("sqlite: backup %s into %s: %w", path, out, err)
	}
	dst, err := sql.Open("sqlite", out+"?_query_only=1")
	if err != nil {
		return fmt.Errorf("sqlite: backup check: %w", err)
	}
	defer dst.Close()
	var res string
	if err := dst.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite: backup check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: backup %s fails its integrity check: %s", out, res)
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
