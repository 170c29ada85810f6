package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the environment variable that points the tests at an
// existing PostgreSQL server: a DSN (postgres://… URL or key=value) of a
// role that may create databases. When it is unset the tests use the
// machine's own cluster, starting (and if need be installing) it.
const PostgresEnv = "PERMAFROST_TEST_POSTGRES"

// The login role the tests create in the local cluster. TCP logins there
// need a password (pg_hba.conf: scram-sha-256 on 127.0.0.1); the password
// is fixed because several test binaries share the role at once.
const (
	pgRole     = "permafrost_test"
	pgPassword = "permafrost-test"
)

// pgInstallCommand is what brings PostgreSQL onto a Debian machine.
const pgInstallCommand = "apt-get update && apt-get install -y postgresql"

var pgShared struct {
	once  sync.Once
	admin string // DSN of the server, for creating and dropping databases
	err   error
}

// PostgresDSN returns the DSN of a new, empty database for this test alone,
// on the shared server (see PostgresEnv), which it starts once per test
// binary. The database is dropped when the test ends, after the cleanups
// the test registers later (a store opened on it closes first).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	pgShared.once.Do(func() { pgShared.admin, pgShared.err = pgStart() })
	if pgShared.err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", pgShared.err)
	}
	return pgCreateDatabase(t, pgShared.admin)
}

// pgCreateDatabase creates a database with a unique name on the server of
// admin, drops it at cleanup and returns its DSN.
func pgCreateDatabase(t testing.TB, admin string) string {
	t.Helper()
	name := pgDatabaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pgAdminExec(ctx, admin, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pgDropDatabase(ctx, admin, name); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	dsn, err := pgWithDatabase(admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dsn
}

// pgDropDatabase drops a test's database. FORCE ends sessions the test
// left open; it is refused, though, when it would have to end a process of
// another role, such as an autovacuum worker that happens to be in the
// database, which a plain DROP DATABASE waits out by itself.
func pgDropDatabase(ctx context.Context, admin, name string) error {
	drop := `DROP DATABASE IF EXISTS ` + pgx.Identifier{name}.Sanitize()
	var err error
	for range 3 {
		if err = pgAdminExec(ctx, admin, drop+` WITH (FORCE)`); err == nil {
			return nil
		}
		if err = pgAdminExec(ctx, admin, drop); err == nil {
			return nil
		}
	}
	return err
}

// pgAdminExec runs one statement on a connection of its own.
func pgAdminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// pgDatabaseName is a unique database name derived from a test name:
// lowercase letters, digits and underscores, within PostgreSQL's 63 bytes.
func pgDatabaseName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 36 {
			break
		}
	}
	return "pft_" + b.String() + "_" + pgRandomHex(6)
}

func pgRandomHex(n int) string {
	p := make([]byte, n)
	rand.Read(p)
	return hex.EncodeToString(p)
}

// pgWithDatabase returns dsn with its database replaced by name.
func pgWithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", PostgresEnv, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// key=value: a later setting overrides an earlier one.
	return dsn + " dbname=" + name, nil
}

// pgStart returns the DSN of the server the tests use, starting and
// preparing the local cluster unless PostgresEnv names one.
func pgStart() (string, error) {
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return "", fmt.Errorf("%s: %w", PostgresEnv, err) // the error masks the password
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pgPing(ctx, dsn); err != nil {
			return "", fmt.Errorf("%s=%q: %w", PostgresEnv, pgRedact(dsn), err)
		}
		return dsn, nil
	}

	// Test binaries of several packages run at once: one at a time
	// installs, starts and prepares the cluster.
	unlock, err := pgLockFile(filepath.Join(os.TempDir(), "permafrost-testenv-postgres.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	if err := pgEnsureInstalled(); err != nil {
		return "", err
	}
	port, err := pgStartLocalCluster()
	if err != nil {
		return "", err
	}
	dsn := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", pgRole, pgPassword, port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if pgPing(ctx, dsn) == nil {
		return dsn, nil // the role exists from an earlier run
	}
	// Create (or repair) the role through the postgres OS user, whom the
	// cluster trusts on its Unix socket (peer authentication).
	sql := fmt.Sprintf(`DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
		CREATE ROLE %[1]s LOGIN CREATEDB PASSWORD '%[2]s';
	ELSE
		ALTER ROLE %[1]s LOGIN CREATEDB PASSWORD '%[2]s';
	END IF;
END $$;`, pgRole, pgPassword)
	if out, err := pgAsPostgres(fmt.Sprintf("psql -X -q -v ON_ERROR_STOP=1 -p %d -d postgres", port), sql); err != nil {
		return "", fmt.Errorf("creating role %s: %v\n%s", pgRole, err, out)
	}
	if err := pgWaitReady(ctx, dsn); err != nil {
		return "", err
	}
	return dsn, nil
}

// pgPing connects once.
func pgPing(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// pgWaitReady pings until the server answers or ctx ends.
func pgWaitReady(ctx context.Context, dsn string) error {
	for {
		err := pgPing(ctx, dsn)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server at %s not ready: %w", pgRedact(dsn), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pgEnsureInstalled installs PostgreSQL when its server or cluster tools are
// missing.
func pgEnsureInstalled() error {
	_, errCtl := exec.LookPath("pg_ctlcluster")
	if errCtl == nil && pgBinDir() != "" {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("PostgreSQL is not installed and this is not root: run `sudo sh -c '%s'`, or set %s to the DSN of a server where the tests may create databases",
			pgInstallCommand, PostgresEnv)
	}
	cmd := exec.Command("sh", "-c", pgInstallCommand)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("installing PostgreSQL failed (%v); run `%s` as root, or set %s\n%s",
			err, pgInstallCommand, PostgresEnv, pgTail(out))
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil || pgBinDir() == "" {
		return fmt.Errorf("PostgreSQL still missing after `%s`", pgInstallCommand)
	}
	return nil
}

// pgBinDir returns the bin directory of the newest PostgreSQL server
// installed by Debian's packages ("" when none).
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return pgMajorOf(dirs[i]) < pgMajorOf(dirs[j]) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

// pgMajorOf returns the version in /usr/lib/postgresql/<v>/bin/initdb.
func pgMajorOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// pgStartLocalCluster starts the machine's first cluster (creating one if
// there is none) and returns its port.
func pgStartLocalCluster() (int, error) {
	version, name, port, online, err := pgFirstCluster()
	if err != nil {
		return 0, err
	}
	if version == "" {
		v := strconv.Itoa(pgMajorOf(filepath.Join(pgBinDir(), "initdb")))
		if out, err := exec.Command("pg_createcluster", v, "main").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("pg_createcluster %s main: %v\n%s", v, err, pgTail(out))
		}
		if version, name, port, online, err = pgFirstCluster(); err != nil {
			return 0, err
		}
		if version == "" {
			return 0, errors.New("pg_createcluster made no cluster")
		}
	}
	if !online {
		out, err := exec.Command("pg_ctlcluster", version, name, "start").CombinedOutput()
		if err != nil {
			// Another process may have started it meanwhile.
			if _, _, _, online, _ := pgFirstCluster(); !online {
				return 0, fmt.Errorf("pg_ctlcluster %s %s start: %v\n%s", version, name, err, pgTail(out))
			}
		}
	}
	return port, nil
}

// pgFirstCluster reads pg_lsclusters: the "main" cluster, else the first.
func pgFirstCluster() (version, name string, port int, online bool, err error) {
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		return "", "", 0, false, fmt.Errorf("pg_lsclusters: %v", err)
	}
	var lines [][]string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			lines = append(lines, f)
		}
	}
	if len(lines) == 0 {
		return "", "", 0, false, nil
	}
	pick := lines[0]
	for _, f := range lines {
		if f[1] == "main" {
			pick = f
			break
		}
	}
	port, err = strconv.Atoi(pick[2])
	if err != nil {
		return "", "", 0, false, fmt.Errorf("pg_lsclusters: bad port in %q", strings.Join(pick, " "))
	}
	return pick[0], pick[1], port, strings.HasPrefix(pick[3], "online"), nil
}

// pgAsPostgres runs a shell command as the postgres OS user (directly when
// not root), with stdin as its input.
func pgAsPostgres(command, stdin string) ([]byte, error) {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("su", "postgres", "-s", "/bin/sh", "-c", command)
	} else {
		cmd = exec.Command("sh", "-c", command)
	}
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// pgLockFile takes an exclusive lock on path, shared by all processes.
func pgLockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// pgRedact hides the password of a URL or key=value DSN.
func pgRedact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return pgPasswordSetting.ReplaceAllString(dsn, "${1}xxxxx")
}

var pgPasswordSetting = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

func pgTail(out []byte) string {
	const n = 2000
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return string(out)
}

// pgFreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func pgFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PostgresServer is a PostgreSQL server of one test's own, in a fresh data
// directory on a free port, for tests that stop and restart the engine
// (outages) without disturbing the shared server other tests use. It runs
// the locally installed server binaries (installing them if needed) even
// when PostgresEnv names a remote server.
type PostgresServer struct {
	// DSN reaches the server's "postgres" database as its superuser, over
	// TCP with a password.
	DSN string

	dir  string // holds data/, the socket and the log
	bin  string
	port int
}

// NewPostgresServer initializes and starts a private server; it is stopped
// and its files removed when the test ends.
func NewPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	unlock, err := pgLockFile(filepath.Join(os.TempDir(), "permafrost-testenv-postgres.lock"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	err = pgEnsureInstalled()
	unlock()
	if err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", err)
	}

	// Not t.TempDir: the server runs as the postgres OS user, which must
	// own the directory and reach it.
	dir, err := os.MkdirTemp("", "permafrost-pg-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s := &PostgresServer{dir: dir, bin: pgBinDir()}
	t.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate") // may already be stopped
		os.RemoveAll(dir)
	})
	password := pgRandomHex(12)
	if err := os.WriteFile(filepath.Join(dir, "pwfile"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "postgres:postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("testenv: chown %s: %v\n%s", dir, err, out)
		}
	}
	out, err := pgAsPostgres(fmt.Sprintf("%s -D %s -U postgres --pwfile=%s --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync",
		pgShellQuote(filepath.Join(s.bin, "initdb")), pgShellQuote(s.dataDir()), pgShellQuote(filepath.Join(dir, "pwfile"))), "")
	if err != nil {
		t.Fatalf("testenv: initdb: %v\n%s", err, pgTail(out))
	}
	if s.port, err = pgFreePort(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s.DSN = fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, s.port)
	s.Start(t)
	return s
}

func (s *PostgresServer) dataDir() string { return filepath.Join(s.dir, "data") }

// Start starts the server and waits until it accepts connections.
func (s *PostgresServer) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir)
	if out, err := s.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(s.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		t.Fatalf("testenv: start PostgreSQL on port %d: %v\n%s\n%s", s.port, err, out, pgTail(log))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pgWaitReady(ctx, s.DSN); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// Stop stops the server at once (fast shutdown: sessions are ended, their
// transactions rolled back) and waits until it is gone.
func (s *PostgresServer) Stop(t testing.TB) {
	t.Helper()
	if out, err := s.pgctl("stop", "-w", "-m", "fast"); err != nil {
		t.Fatalf("testenv: stop PostgreSQL: %v\n%s", err, out)
	}
}

// pgctl runs pg_ctl on the server's data directory as the postgres user.
func (s *PostgresServer) pgctl(args ...string) ([]byte, error) {
	cmd := pgShellQuote(filepath.Join(s.bin, "pg_ctl")) + " -D " + pgShellQuote(s.dataDir())
	for _, a := range args {
		cmd += " " + pgShellQuote(a)
	}
	return pgAsPostgres(cmd, "")
}

// pgShellQuote quotes s for sh.
func pgShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
