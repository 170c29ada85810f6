package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL for the pg-s3-* configurations, the way internal/testenv's
// postgres.go does it (its helpers take a testing.TB): the machine's own
// cluster (pg_ctlcluster, started if it is down), a login role with a
// password made through the postgres OS user, TCP on 127.0.0.1; or the
// server -postgres names. Every configuration gets a new database, dropped
// when it ends. PostgreSQL is never installed by the harness: without it
// the pg-s3-* configurations are reported as not run.

const (
	pgBenchRole     = "permafrost_bench"
	pgBenchPassword = "permafrost-bench"
)

// pgServer is the PostgreSQL server the harness creates databases on.
type pgServer struct {
	admin    string // DSN of a role that may create databases
	settings string // version and the settings that bear on write speed
}

// startPostgres returns the server of -postgres, or the local cluster,
// started and given the harness's role.
func startPostgres(ctx context.Context, dsn string) (*pgServer, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if dsn == "" {
		var err error
		if dsn, err = pgLocalCluster(ctx); err != nil {
			return nil, err
		}
	} else if err := pgPing(ctx, dsn); err != nil {
		return nil, fmt.Errorf("-postgres %s: %w", pgRedact(dsn), err)
	}
	s := &pgServer{admin: dsn}
	s.settings = pgDescribe(ctx, dsn)
	return s, nil
}

// pgLocalCluster starts the machine's first cluster if it is down, makes
// sure the harness's role exists, and returns its DSN.
func pgLocalCluster(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("pg_lsclusters"); err != nil || pgBinDir() == "" {
		return "", errors.New("PostgreSQL is not installed (apt-get install postgresql), and -postgres names no server")
	}
	version, name, port, online, err := pgFirstCluster()
	if err != nil {
		return "", err
	}
	if version == "" {
		return "", errors.New("no PostgreSQL cluster (pg_createcluster VERSION main), and -postgres names no server")
	}
	if !online {
		if out, err := exec.CommandContext(ctx, "pg_ctlcluster", version, name, "start").CombinedOutput(); err != nil {
			if _, _, _, online, _ := pgFirstCluster(); !online {
				return "", fmt.Errorf("pg_ctlcluster %s %s start: %v\n%s", version, name, err, tail(out))
			}
		}
	}
	dsn := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", pgBenchRole, pgBenchPassword, port)
	if pgPing(ctx, dsn) == nil {
		return dsn, nil
	}
	// Create (or repair) the role through the postgres OS user, whom the
	// cluster trusts on its Unix socket.
	sql := fmt.Sprintf(`DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
		CREATE ROLE %[1]s LOGIN CREATEDB PASSWORD '%[2]s';
	ELSE
		ALTER ROLE %[1]s LOGIN CREATEDB PASSWORD '%[2]s';
	END IF;
END $$;`, pgBenchRole, pgBenchPassword)
	if out, err := pgAsPostgres(fmt.Sprintf("psql -X -q -v ON_ERROR_STOP=1 -p %d -d postgres", port), sql); err != nil {
		return "", fmt.Errorf("creating role %s: %v\n%s", pgBenchRole, err, tail(out))
	}
	for {
		err := pgPing(ctx, dsn)
		if err == nil {
			return dsn, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("PostgreSQL at %s: %w", pgRedact(dsn), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pgDescribe is the server's version and write-path settings, for the
// report.
func pgDescribe(ctx context.Context, dsn string) string {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "unknown"
	}
	defer conn.Close(context.Background())
	var parts []string
	for _, name := range []string{"server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			if name == "server_version" {
				v, _, _ = strings.Cut(v, " ")
				parts = append(parts, "PostgreSQL "+v)
				continue
			}
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// createDatabase makes a new, empty database and returns its DSN.
func (s *pgServer) createDatabase(ctx context.Context, label string) (name, dsn string, err error) {
	name = "pfbench_" + strings.ReplaceAll(label, "-", "_") + "_" + randomHex(4)
	if err := pgExec(ctx, s.admin, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(s.admin)
	if err != nil || u.Scheme == "" {
		return name, s.admin + " dbname=" + name, nil // key=value: a later setting wins
	}
	u.Path, u.RawPath = "/"+name, ""
	return name, u.String(), nil
}

// dropDatabase drops a database, ending the sessions left in it.
func (s *pgServer) dropDatabase(ctx context.Context, name string) error {
	drop := `DROP DATABASE IF EXISTS ` + pgx.Identifier{name}.Sanitize()
	var err error
	for range 3 {
		if err = pgExec(ctx, s.admin, drop+` WITH (FORCE)`); err == nil {
			return nil
		}
		if err = pgExec(ctx, s.admin, drop); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

func pgExec(ctx context.Context, dsn, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

func pgPing(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// pgSeedArchives inserts n archives into the vault with one COPY in one
// transaction — the rows uploads would have committed, like the embedded
// store's seedArchives (ids of 138 characters, creation times a second
// apart ending now, sizes of 1 KiB to 4 GiB, a description each), without
// segments, which an inventory never reads — then ANALYZEs the table and
// updates the vault's counters.
func pgSeedArchives(ctx context.Context, dsn, vault string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var vaultID int64
	if err := tx.QueryRow(ctx, `SELECT id FROM vaults WHERE account_id = $1 AND name = $2`, benchAccount, vault).Scan(&vaultID); err != nil {
		return fmt.Errorf("finding the vault: %w", err)
	}
	rng := mrand.New(mrand.NewPCG(5, 5))
	now := time.Now().UnixMilli()
	var total int64
	raw := make([]byte, 103) // base64url of 103 bytes is 138 characters
	row := make([]any, 6)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		for k := range raw {
			raw[k] = byte(rng.Uint32())
		}
		tree := make([]byte, 32)
		for k := range tree {
			tree[k] = byte(rng.Uint32())
		}
		size := 1024 + rng.Int64N(4*gib)
		total += size
		row[0], row[1], row[2], row[3], row[4], row[5] = base64.RawURLEncoding.EncodeToString(raw), vaultID,
			now-int64(n-i)*1000, size, tree, fmt.Sprintf("backup %07d of /srv/data", i)
		i++
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"archives"},
		[]string{"id", "vault_id", "created_at", "size", "tree_hash", "description"}, src); err != nil {
		return fmt.Errorf("COPY: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE vaults SET number_of_archives = number_of_archives + $1,
		size_in_bytes = size_in_bytes + $2, last_write_at = $3 WHERE id = $4`, n, total, now, vaultID); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `ANALYZE archives`)
	return err
}

// pgMarkWritten sets the vault's last write to now, so that the next
// inventory job takes a fresh snapshot.
func pgMarkWritten(ctx context.Context, dsn, vault string) error {
	return pgExec(ctx, dsn, `UPDATE vaults SET last_write_at = $1 WHERE account_id = $2 AND name = $3`,
		time.Now().UnixMilli(), benchAccount, vault)
}

// pgBinDir is the bin directory of the newest server Debian's packages
// installed ("" when none).
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	major := func(p string) int { v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return v }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) < major(dirs[j]) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
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
	if port, err = strconv.Atoi(pick[2]); err != nil {
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

// pgRedact hides the password of a URL DSN.
func pgRedact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return "(key=value DSN)"
}

func randomHex(n int) string {
	p := make([]byte, n)
	rand.Read(p)
	return hex.EncodeToString(p)
}

// tail is the end of a command's output, for error messages.
func tail(out []byte) string {
	const n = 2000
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return string(out)
}
