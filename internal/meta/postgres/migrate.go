package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the key of the transaction advisory lock that
// serializes migrating (advisory locks are per database). Its value is
// arbitrary; the two-key locks of the account limits live in another key
// space.
const migrationLock int64 = 0x7065726d61667273 // "permafrs"

// migration is one embedded migration file.
type migration struct {
	version int
	name    string // file name
	body    string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var list []migration
	known := 0
	for _, name := range names {
		base := path.Base(name)
		digits, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(digits)
		if !ok || err != nil || version <= known {
			return nil, fmt.Errorf("migration %s: name must start with an increasing version number", base)
		}
		known = version
		body, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return nil, err
		}
		list = append(list, migration{version: version, name: base, body: string(body)})
	}
	return list, nil
}

// migrate applies the embedded migrations that schema_migrations does not
// list yet, in version order, each in its own transaction, and refuses a
// database that a newer program migrated.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	list, err := migrations()
	if err != nil {
		return err
	}
	known := 0
	if len(list) > 0 {
		known = list[len(list)-1].version
	}
	// The check runs first, so that a newer schema is not touched at all.
	if err := migrateStep(ctx, pool, func(tx pgx.Tx) error {
		var newest int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
			return err
		}
		if newest > known {
			return fmt.Errorf("database schema version %d is newer than this program's %d", newest, known)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, m := range list {
		if err := migrateStep(ctx, pool, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// migrateStep runs fn in a transaction that holds the migration lock and
// in which schema_migrations exists. Creating the table under the lock
// matters too: two concurrent CREATE TABLE IF NOT EXISTS can both try to
// create it, and one then fails.
func migrateStep(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at bigint NOT NULL
	)`); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// applyMigration applies m unless it is recorded already.
func applyMigration(ctx context.Context, tx pgx.Tx, m migration) error {
	var applied bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&applied); err != nil {
		return err
	}
	if applied {
		return nil
	}
	// Without arguments Exec uses the simple protocol: the file may hold
	// several statements.
	if _, err := tx.Exec(ctx, m.body); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixMilli())
	return err
}
