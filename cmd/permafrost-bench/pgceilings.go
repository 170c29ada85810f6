package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The metadata database's own ceiling for small uploads (issue #13,
// PostgreSQL + S3): an archive of at most --inline-archive-max bytes
// (64 KiB by default) is kept in PostgreSQL with its row, so a replayed
// 4 KiB UploadArchive on pg-s3 is one durable PostgreSQL commit and never
// reaches the object store. This ceiling is PostgreSQL alone doing the
// least such an upload needs: replayConns connections, each inserting one
// 4 KiB row in its own transaction (synchronous_commit as configured, on
// by default), as fast as it can. PostgreSQL merges concurrent WAL
// flushes itself, so this is the rate of durable 4 KiB commits the
// database gives any client on this machine.

// pgCeilings measures PostgreSQL alone in the configuration's new
// database, before any node uses it, once per run (the first pg-s3
// configuration). Its table is dropped afterwards.
func (b *bench) pgCeilings(ctx context.Context, dsn string) {
	if !b.want("replay") {
		return
	}
	for _, c := range b.report.Ceilings {
		if c.ID == "pg-insert/small16" {
			return
		}
	}
	b.ceiling(ctx, Row{ID: "pg-insert/small16", Name: fmt.Sprintf("PostgreSQL alone: INSERT of a %s row, each its own commit, %d connections", sizeLabel(replaySmall), replayConns),
		Unit: "ops/s", Higher: true, Note: "the metadata store of pg-s3-*, which keeps 4 KiB archives with their rows (inline archives)"},
		func(ctx context.Context) (float64, error) {
			cfg, err := pgxpool.ParseConfig(dsn)
			if err != nil {
				return 0, err
			}
			cfg.MaxConns = replayConns
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				return 0, err
			}
			defer pool.Close()
			if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, b bytea NOT NULL)`); err != nil {
				return 0, err
			}
			defer pool.Exec(context.Background(), `DROP TABLE IF EXISTS bench_ceiling`)
			data := b.data[:replaySmall]
			return rate(ctx, replayConns, b.cfg.duration, func(ctx context.Context) error {
				_, err := pool.Exec(ctx, `INSERT INTO bench_ceiling (b) VALUES ($1)`, data)
				return err
			})
		})
}
