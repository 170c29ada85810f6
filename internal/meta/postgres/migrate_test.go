package postgres

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
	"github.com/permafrost/permafrost/internal/meta/sqlite" // also registers the "sqlite" database/sql driver
)

// appliedMigrations returns the names recorded in schema_migrations.
func appliedMigrations(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.pool.Query(t.Context(), `SELECT name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestOpenConcurrently opens one fresh database from several goroutines at
// once, as nodes starting together do: every Open succeeds and every
// migration is applied once.
func TestOpenConcurrently(t *testing.T) {
	dsn := newDSN(t)
	const nodes = 6
	dbs := make([]*DB, nodes)
	errs := metatest.Race(nodes, func(i int) (err error) {
		dbs[i], err = Open(t.Context(), dsn)
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	for _, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
	}
	if t.Failed() {
		return
	}
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range list {
		want = append(want, m.name)
	}
	if got := appliedMigrations(t, dbs[0]); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	// All stores work on the one schema.
	for i, db := range dbs {
		if err := db.PutSetting(t.Context(), fmt.Sprint("node", i), "up"); err != nil {
			t.Errorf("PutSetting through store %d: %v", i, err)
		}
	}
}

// TestReopen checks that committed state survives closing and reopening,
// and that migrating again changes nothing.
func TestReopen(t *testing.T) {
	dsn := newDSN(t)
	ctx := t.Context()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10); err != nil {
		t.Fatal(err)
	}
	must(t, "PutSetting", db.PutSetting(ctx, "clock.offset", "42"))
	before := appliedMigrations(t, db)
	db.Close()

	db = mustOpen(t, dsn)
	if got := appliedMigrations(t, db); !slices.Equal(got, before) {
		t.Errorf("migrations after reopening = %v, want %v", got, before)
	}
	if err := migrate(ctx, db.pool); err != nil {
		t.Errorf("migrate again: %v", err)
	}
	v, err := db.GetVault(ctx, acct, "v")
	if err != nil || !v.CreatedAt.Equal(t0) {
		t.Errorf("GetVault after reopen = %+v, %v", v, err)
	}
	if s, err := db.GetSetting(ctx, "clock.offset"); err != nil || s != "42" {
		t.Errorf("GetSetting after reopen = %q, %v", s, err)
	}
}

// TestNewerSchema checks that a database migrated past what this program
// knows is refused, and left alone.
func TestNewerSchema(t *testing.T) {
	dsn := newDSN(t)
	db := mustOpen(t, dsn)
	if _, err := db.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(t.Context(), dsn); err == nil {
		db2.Close()
		t.Fatalf("Open of a database from the future succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a database from the future: %v, want it to say the schema is newer", err)
	}
}

// TestSchemaMatchesSQLite checks that both stores have migrations of the
// same numbers and names and, once migrated, the same tables with the same
// columns (PostgreSQL's access_keys.seq standing for SQLite's rowid), so
// that data can be copied between them row for row.
func TestSchemaMatchesSQLite(t *testing.T) {
	sqliteDir := filepath.Join("..", "sqlite", "migrations")
	entries, err := os.ReadDir(sqliteDir)
	if err != nil {
		t.Fatal(err)
	}
	var sqliteNames []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			sqliteNames = append(sqliteNames, e.Name())
		}
	}
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var pgNames []string
	for _, m := range list {
		pgNames = append(pgNames, m.name)
	}
	if !slices.Equal(pgNames, sqliteNames) {
		t.Errorf("migrations: postgres %v, sqlite %v", pgNames, sqliteNames)
	}

	path := filepath.Join(t.TempDir(), "meta.db")
	ref, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	lite, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want := columnsOf(t, func() (*sql.Rows, error) {
		return lite.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	})
	want = append(want, "access_keys.seq")
	sort.Strings(want)

	db := newDB(t)
	rows, err := db.pool.Query(t.Context(), `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("columns differ:\npostgres %v\nsqlite   %v", got, want)
	}
}

func columnsOf(t *testing.T, query func() (*sql.Rows, error)) []string {
	t.Helper()
	rows, err := query()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, table+"."+col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestLockLogAppendOnly checks that vault_lock_log refuses changes.
func TestLockLogAppendOnly(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	_, _, err := db.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0}, 10)
	must(t, "CreateVault", err)
	must(t, "UpdateLock", db.UpdateLock(ctx, acct, "v", func(*glacier.Lock) (*glacier.Lock, error) {
		return &glacier.Lock{Policy: "{}", State: glacier.LockInProgress, ID: "l", CreatedAt: t0, ExpiresAt: at(24 * time.Hour)}, nil
	}))
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM vault_lock_log`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("vault_lock_log has %d rows (%v), want 1", n, err)
	}
	for _, stmt := range []string{`UPDATE vault_lock_log SET state = 2`, `DELETE FROM vault_lock_log`, `TRUNCATE vault_lock_log`} {
		if _, err := db.pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want it refused as append-only", stmt, err)
		}
	}
	// The log outlives the vault.
	_, err = db.DeleteVault(ctx, acct, "v", func(glacier.Vault) error { return nil })
	must(t, "DeleteVault", err)
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM vault_lock_log`).Scan(&n); err != nil || n != 1 {
		t.Errorf("vault_lock_log after DeleteVault has %d rows (%v), want 1", n, err)
	}
}
