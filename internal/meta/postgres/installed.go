package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Installed reports whether the database at dsn holds a permafrost
// installation (its schema_migrations table), without creating anything:
// the operator commands must not turn a mistyped database into an empty
// installation.
func Installed(ctx context.Context, dsn string) (bool, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, classify("connect", err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&ok); err != nil {
		return false, classify("check installation", err)
	}
	return ok, nil
}

// Ping checks that the database answers a trivial query (the health check).
func (db *DB) Ping(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `SELECT 1`); err != nil {
		return classify("ping", err)
	}
	return nil
}

// JobCounts returns how many jobs are in each status (InProgress,
// Succeeded, Failed), for metrics.
func (db *DB) JobCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT status, count(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, classify("job counts", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, classify("job counts", err)
		}
		out[s] = n
	}
	return out, classify("job counts", rows.Err())
}

// OutboxBacklog returns how many notifications wait for delivery.
func (db *DB) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, classify("outbox backlog", err)
	}
	return n, nil
}
