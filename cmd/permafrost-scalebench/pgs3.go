package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/postgres"
)

// The PostgreSQL + S3 target: a fresh database on the server of -pg-admin
// (a role that may create databases; the default is the role the tests
// create in the machine's own cluster) and a fresh bucket of a versitygw
// server (posix backend) started for the run, as internal/testenv does
// for the tests.
//
// How it is filled, honestly: the archive and segment rows are loaded
// with COPY (transactions of 100,000 rows, synchronous_commit off for the
// loading session), with every index, foreign key and trigger of the
// schema in place; the store's own Open created the schema. Blob objects
// are written (through the server's S3 blob store code) only for the
// archives the latency steps sample: putting millions of one-byte objects
// costs time, not what is measured. Reconcile and scrub are not run.

const (
	s3Access = "SCALEBENCHS3ACCESS01"
	s3Secret = "scale-bench-s3-secret-0123456789"
)

type pgs3 struct {
	admin, dsn, db string
	s3url          string
	gw             *exec.Cmd
	gwExited       chan struct{}
}

// awsEnv is the environment the server and the blob store code read the
// bucket's credentials from, and nothing of the user's AWS configuration.
func awsEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s3Access,
		"AWS_SECRET_ACCESS_KEY=" + s3Secret,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// startPGS3 creates the database and starts versitygw with a bucket.
func startPGS3(ctx context.Context, dir string, n int) (*pgs3, error) {
	p := &pgs3{admin: pgAdmin, db: fmt.Sprintf("permafrost_scale_%d", n)}
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return nil, fmt.Errorf("postgres admin %s: %w (start the cluster: pg_ctlcluster 15 main start; the role is the one the tests create)", redactDSN(p.admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+p.db+` WITH (FORCE)`); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+p.db); err != nil {
		return nil, err
	}
	u, err := url.Parse(p.admin)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + p.db
	p.dsn = u.String()

	bin := versitygwBin
	if bin == "" {
		if bin, err = exec.LookPath("versitygw"); err != nil {
			gopath, _ := exec.Command("go", "env", "GOPATH").Output()
			bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
			if _, err := os.Stat(bin); err != nil {
				return nil, errors.New("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
			}
		}
	}
	root := filepath.Join(dir, "s3")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	p.gw = exec.Command(bin, "--port", addr, "--region", "us-east-1", "--quiet", "posix", root)
	p.gw.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3Access, "ROOT_SECRET_KEY="+s3Secret)
	gwlog, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	p.gw.Stdout, p.gw.Stderr = gwlog, gwlog
	if err := p.gw.Start(); err != nil {
		return nil, err
	}
	gwlog.Close()
	p.gwExited = make(chan struct{})
	go func() { p.gw.Wait(); close(p.gwExited) }()
	endpoint := "http://" + addr
	client := awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3Access, s3Secret, ""),
	})
	const bucket = "scale"
	for t := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(endpoint); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(t) > 30*time.Second {
			p.close()
			return nil, errors.New("versitygw did not answer within 30 s (see versitygw.log)")
		}
	}
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		p.close()
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	q := url.Values{"endpoint": {endpoint}, "path-style": {"true"}, "region": {"us-east-1"}}
	p.s3url = "s3://" + bucket + "?" + q.Encode()
	for _, kv := range awsEnv() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return p, nil
}

func (p *pgs3) close() {
	if p.gw != nil && p.gw.Process != nil {
		p.gw.Process.Signal(os.Interrupt)
		select {
		case <-p.gwExited:
		case <-time.After(10 * time.Second):
			p.gw.Process.Kill()
			<-p.gwExited
		}
	}
}

// dropDB drops the database (after the run, unless -keep).
func (p *pgs3) dropDB(ctx context.Context) {
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, `DROP DATABASE IF EXISTS `+p.db+` WITH (FORCE)`)
}

// fill creates the schema and the vault through the store, then loads n
// one-byte archives with COPY, and returns the archives spread over the
// vault that the latency steps use.
func (p *pgs3) fill(ctx context.Context, n, k int) ([]sample, error) {
	st, err := postgres.Open(ctx, p.dsn)
	if err != nil {
		return nil, err
	}
	if _, _, err := st.CreateVault(ctx, pf.Vault{AccountID: account, Name: vault, CreatedAt: time.Now()}, 1000); err != nil {
		st.Close()
		return nil, err
	}
	st.Close()
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return nil, err
	}
	var vaultID int64
	if err := conn.QueryRow(ctx, `SELECT id FROM vaults WHERE name = $1`, vault).Scan(&vaultID); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte("x"))
	rng := rand.New(rand.NewPCG(20, 20))
	raw := make([]byte, 103)
	now := time.Now().UnixMilli()
	const batch = 100_000
	want := map[int]bool{}
	for j := range k {
		want[j*(n-1)/k] = true
	}
	var samples []sample
	for done := 0; done < n; {
		end := min(n, done+batch)
		arows := make([][]any, 0, end-done)
		srows := make([][]any, 0, end-done)
		for i := done; i < end; i++ {
			for b := range raw {
				raw[b] = byte(rng.Uint32())
			}
			id := base64.RawURLEncoding.EncodeToString(raw)
			key := fmt.Sprintf("a/%02x/%032x", i&0xff, uint64(i)*0x9E3779B97F4A7C15^rng.Uint64())
			arows = append(arows, []any{id, vaultID, now - int64(n-i)*10, int64(1), sum[:], fmt.Sprintf("backup %08d", i)})
			srows = append(srows, []any{id, int32(0), key, int64(1), sum[:], sum[:]})
			if want[i] {
				samples = append(samples, sample{id: id, key: key})
			}
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"archives"}, []string{"id", "vault_id", "created_at", "size", "tree_hash", "description"}, pgx.CopyFromRows(arows)); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"archive_segments"}, []string{"archive_id", "seq", "blob_key", "size", "tree_hash", "leaves"}, pgx.CopyFromRows(srows)); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
		if err := tx.Commit(ctx); err != nil {
			return nil, err
		}
		done = end
		if done%1_000_000 == 0 || done == n {
			logf("  %d archives", done)
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE vaults SET number_of_archives = $1, size_in_bytes = $1, last_write_at = $2 WHERE id = $3`, n, now, vaultID); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE archives`); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE archive_segments`); err != nil {
		return nil, err
	}
	return samples, nil
}

// metaBytes is the database's size on disk.
func (p *pgs3) metaBytes(ctx context.Context) int64 {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return -1
	}
	defer conn.Close(ctx)
	var b int64
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&b); err != nil {
		return -1
	}
	return b
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
