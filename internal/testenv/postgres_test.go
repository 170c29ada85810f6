package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgConnect opens a connection that the test closes.
func pgConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("pgConnect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestPostgresDSN: each call gives a new, empty database that can be
// written, and it is gone once its test has ended.
func TestPostgresDSN(t *testing.T) {
	var names [2]string
	for i := range names {
		t.Run("db", func(t *testing.T) {
			conn := pgConnect(t, PostgresDSN(t))
			if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&names[i]); err != nil {
				t.Fatal(err)
			}
			var tables int
			if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("new database %s has %d tables", names[i], tables)
			}
			if _, err := conn.Exec(t.Context(), `CREATE TABLE t (x int)`); err != nil {
				t.Errorf("creating a table: %v", err)
			}
		})
	}
	if names[0] == names[1] || names[0] == "" {
		t.Fatalf("databases %q and %q, want two distinct ones", names[0], names[1])
	}
	admin := pgConnect(t, pgShared.admin)
	for _, name := range names {
		var exists bool
		if err := admin.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after its test", name)
		}
	}
}

// TestPostgresServer: a private server stops and starts on demand.
func TestPostgresServer(t *testing.T) {
	s := NewPostgresServer(t)
	conn := pgConnect(t, s.DSN)
	if err := conn.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	if err := pgPing(t.Context(), s.DSN); err == nil {
		t.Fatalf("the stopped server answers")
	}
	s.Start(t)
	if err := pgPing(t.Context(), s.DSN); err != nil {
		t.Fatalf("the restarted server: %v", err)
	}
}

func TestDatabaseName(t *testing.T) {
	for _, name := range []string{"TestX", "TestConformance/Race/CreateVaultLimit", "Test with spaces and ünïcode and a very long name that goes on and on"} {
		got := pgDatabaseName(name)
		if len(got) > 63 {
			t.Errorf("pgDatabaseName(%q) = %q: longer than 63 bytes", name, got)
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("pgDatabaseName(%q) = %q: has %q", name, got, r)
				break
			}
		}
	}
	if pgDatabaseName("TestX") == pgDatabaseName("TestX") {
		t.Errorf("pgDatabaseName repeats itself")
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u:p@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://u@h/", "postgresql://u@h/db1"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=db1"},
	} {
		got, err := pgWithDatabase(tc.dsn, "db1")
		if err != nil || got != tc.want {
			t.Errorf("pgWithDatabase(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
		if _, err := pgx.ParseConfig(got); err != nil {
			t.Errorf("pgWithDatabase(%q) = %q: %v", tc.dsn, got, err)
		}
	}
	cfg, _ := pgx.ParseConfig("host=h user=u dbname=postgres dbname=db1")
	if cfg.Database != "db1" {
		t.Errorf("a later dbname does not override: %q", cfg.Database)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"host=h password=secret user=u", "host=h password=xxxxx user=u"},
		{"host=h password = 'se cret' user=u", "host=h password = xxxxx user=u"},
	} {
		if got := pgRedact(tc.dsn); got != tc.want {
			t.Errorf("pgRedact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
