package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// auditEvent is what the tests read of an exported record.
type auditEvent struct {
	Sequence     int64  `json:"sequence"`
	EventName    string `json:"eventName"`
	ErrorCode    string `json:"errorCode"`
	RequestID    string `json:"requestID"`
	SourceIP     string `json:"sourceIPAddress"`
	UserIdentity struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	Hash              string            `json:"hash"`
	PreviousHash      string            `json:"previousHash"`
}

// runCLI runs a permafrost command in-process and returns its output and
// exit status (0, 1 for exitError, 2 for usage).
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	var ee exitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.code
	}
	t.Fatalf("permafrost %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	return "", 0
}

func exportAudit(t *testing.T, dir string, extra ...string) []auditEvent {
	t.Helper()
	args := append([]string{"audit", "export"}, storeArgs(t, dir)...)
	out, code := runCLI(t, append(args, extra...)...)
	if code != 0 {
		t.Fatalf("audit export: exit %d", code)
	}
	var evs []auditEvent
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var ev auditEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func verifyArgs(t *testing.T, dir string) []string {
	f := backendFor(t, dir)
	args := []string{"audit", "verify", "--data-dir", dir}
	if f.Meta != "" {
		args = append(args, "--meta", f.Meta, "--blobs", f.Blobs)
	}
	return args
}

// tamper runs SQL on the installation's database the way an operator with
// database access could: first switching off the append-only triggers.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	if f := backendFor(t, dir); f.Meta != "" {
		conn, err := pgx.Connect(ctx, f.Meta)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, s := range append([]string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}, stmts...) {
			if _, err := conn.Exec(ctx, strings.ReplaceAll(s, "?", "$1")); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		conn.Exec(ctx, `ALTER TABLE audit_log ENABLE TRIGGER USER`)
		return
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range append([]string{`DROP TRIGGER IF EXISTS audit_log_append_only_update`, `DROP TRIGGER IF EXISTS audit_log_append_only_delete`}, stmts...) {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditLogRecordsAndVerify(t *testing.T) {
	dir := t.TempDir()
	ts := mustServeDir(t, dir)
	ctx := context.Background()
	c := ts.client()
	vault := aws.String("audited")

	// The scripted calls, and what the log must say of each.
	type want struct{ name, code string }
	var wants []want
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"CreateVault", ""})
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader([]byte("ledger 2026"))})
	if err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"UploadArchive", ""})
	if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err) // read-only: no record
	}
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: vault, Tags: map[string]string{"team": "finance"}}); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"AddTagsToVault", ""})
	mp, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: vault, PartSize: aws.String("1048576")})
	if err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"InitiateMultipartUpload", ""})
	if _, err := c.AbortMultipartUpload(ctx, &glacier.AbortMultipartUploadInput{VaultName: vault, UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"AbortMultipartUpload", ""})
	// Refused by authorization: another account's root on this vault.
	_, k2, s2 := ts.mustCreateAccount(t, "")
	other := ts.clientFor(k2, s2)
	_, err = other.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String(ts.AccountID), VaultName: vault})
	wantAPIError(t, err, "AccessDeniedException", 403)
	wants = append(wants, want{"DescribeVault", "AccessDeniedException"})
	// Refused by authentication: a wrong secret.
	bad := ts.clientFor(ts.KeyID, strings.Repeat("x", 40))
	_, err = bad.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId})
	wantAPIError(t, err, "InvalidSignatureException", 403)
	wants = append(wants, want{"DeleteArchive", "InvalidSignatureException"})
	// A state-changing call that fails changes nothing but is recorded.
	_, err = c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("no-such-vault")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	wants = append(wants, want{"DeleteVault", "ResourceNotFoundException"})
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId}); err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{"DeleteArchive", ""})

	evs := exportAudit(t, dir)
	if len(evs) != len(wants) {
		for _, e := range evs {
			t.Logf("%+v", e)
		}
		t.Fatalf("%d records, want %d", len(evs), len(wants))
	}
	for i, w := range wants {
		e := evs[i]
		if e.EventName != w.name || e.ErrorCode != w.code || e.Sequence != int64(i+1) {
			t.Errorf("record %d = %s/%q (seq %d), want %s/%q", i+1, e.EventName, e.ErrorCode, e.Sequence, w.name, w.code)
		}
		if e.RequestID == "" || e.SourceIP != "127.0.0.1" || e.Hash == "" {
			t.Errorf("record %d lacks request id, source address or hash: %+v", i+1, e)
		}
	}
	if evs[0].UserIdentity.Type != "Root" || !strings.HasSuffix(evs[0].UserIdentity.ARN, ":root") || evs[0].UserIdentity.AccessKeyID != ts.KeyID {
		t.Errorf("identity of the first record: %+v", evs[0].UserIdentity)
	}
	if evs[1].ResponseElements["archiveId"] != *up.ArchiveId || evs[1].RequestParameters["vaultName"] != "audited" {
		t.Errorf("UploadArchive record: params %v, response %v", evs[1].RequestParameters, evs[1].ResponseElements)
	}
	if evs[6].UserIdentity.Type != "Unknown" || evs[6].UserIdentity.AccessKeyID != ts.KeyID {
		t.Errorf("the refused signature's record names %+v", evs[6].UserIdentity)
	}
	if evs[8].RequestParameters["archiveId"] != *up.ArchiveId {
		t.Errorf("DeleteArchive record params %v", evs[8].RequestParameters)
	}
	if got := exportAudit(t, dir, "--vault", "no-such-vault"); len(got) != 1 || got[0].EventName != "DeleteVault" {
		t.Errorf("export --vault no-such-vault: %+v", got)
	}
	if got := exportAudit(t, dir, "--since", "2000-01-01", "--until", "2000-01-02"); len(got) != 0 {
		t.Errorf("export of an empty window: %d records", len(got))
	}

	// A clean shutdown anchors the head.
	ts.Close()
	out, code := runCLI(t, verifyArgs(t, dir)...)
	if code != 0 || !strings.Contains(out, "OK: 9 records") || !strings.Contains(out, "vouching for record 9") {
		t.Fatalf("verify of an intact log: exit %d\n%s", code, out)
	}

	// An edited record.
	tamper(t, dir, `UPDATE audit_log SET body = replace(body, '"audited"', '"innocent"') WHERE seq = 2`)
	out, code = runCLI(t, verifyArgs(t, dir)...)
	if code != 1 || !strings.Contains(out, "BROKEN at record 2") {
		t.Fatalf("verify after an edit: exit %d\n%s", code, out)
	}
	tamper(t, dir, `UPDATE audit_log SET body = replace(body, '"innocent"', '"audited"') WHERE seq = 2`)
	if out, code = runCLI(t, verifyArgs(t, dir)...); code != 0 {
		t.Fatalf("verify after undoing the edit: exit %d\n%s", code, out)
	}

	// A deleted record: saved first, to put it back.
	var saved []any
	ctx2 := context.Background()
	if f := backendFor(t, dir); f.Meta != "" {
		conn, err := pgx.Connect(ctx2, f.Meta)
		if err != nil {
			t.Fatal(err)
		}
		var a, b int64
		var c1, d1, e1, f1, g1 string
		if err := conn.QueryRow(ctx2, `SELECT seq, event_time, account_id, vault, body, prev_hash, hash FROM audit_log WHERE seq = 5`).Scan(&a, &b, &c1, &d1, &e1, &f1, &g1); err != nil {
			t.Fatal(err)
		}
		saved = []any{a, b, c1, d1, e1, f1, g1}
		conn.Close(ctx2)
	} else {
		db, _ := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
		var a, b int64
		var c1, d1, e1, f1, g1 string
		if err := db.QueryRow(`SELECT seq, event_time, account_id, vault, body, prev_hash, hash FROM audit_log WHERE seq = 5`).Scan(&a, &b, &c1, &d1, &e1, &f1, &g1); err != nil {
			t.Fatal(err)
		}
		saved = []any{a, b, c1, d1, e1, f1, g1}
		db.Close()
	}
	tamper(t, dir, `DELETE FROM audit_log WHERE seq = 5`)
	out, code = runCLI(t, verifyArgs(t, dir)...)
	if code != 1 || !strings.Contains(out, "BROKEN at record 5") || !strings.Contains(out, "missing") {
		t.Fatalf("verify after a delete: exit %d\n%s", code, out)
	}
	tamper(t, dir, fmt.Sprintf(`INSERT INTO audit_log (seq, event_time, account_id, vault, body, prev_hash, hash) VALUES (%d, %d, '%s', '%s', '%s', '%s', '%s')`,
		saved[0], saved[1], saved[2], saved[3], strings.ReplaceAll(saved[4].(string), "'", "''"), saved[5], saved[6]))
	if out, code = runCLI(t, verifyArgs(t, dir)...); code != 0 {
		t.Fatalf("verify after restoring the record: exit %d\n%s", code, out)
	}

	// A database restored from an older backup: a consistent but shorter
	// chain (records 8 and 9 gone, the head back at 7). Only the anchor,
	// outside the database, shows it.
	tamper(t, dir, `DELETE FROM audit_log WHERE seq > 7`,
		`UPDATE audit_head SET seq = 7, hash = (SELECT hash FROM audit_log WHERE seq = 7) WHERE id = 1`)
	out, code = runCLI(t, verifyArgs(t, dir)...)
	if code != 1 || !strings.Contains(out, "anchor vouches for record 9") {
		t.Fatalf("verify of a rolled-back database: exit %d\n%s", code, out)
	}
}

// TestAuditRecordOnlyWithCommit: a change that does not commit leaves no
// record claiming it did, and a denied delete is recorded as denied.
func TestAuditDeniedDeleteOfLockedArchive(t *testing.T) {
	dir := t.TempDir()
	ts := mustServeDir(t, dir)
	ctx := context.Background()
	c := ts.client()
	vault := aws.String("locked")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: vault, Body: bytes.NewReader([]byte("keep me"))})
	if err != nil {
		t.Fatal(err)
	}
	pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:us-east-1:%s:vaults/locked","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`, ts.AccountID)
	if _, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: vault, Policy: &gtypes.VaultLockPolicy{Policy: aws.String(pol)}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: vault, ArchiveId: up.ArchiveId})
	wantAPIError(t, err, "AccessDeniedException", 403)
	evs := exportAudit(t, dir, "--vault", "locked")
	last := evs[len(evs)-1]
	if last.EventName != "DeleteArchive" || last.ErrorCode != "AccessDeniedException" {
		t.Fatalf("last record %+v", last)
	}
	if evs[len(evs)-2].EventName != "InitiateVaultLock" || evs[len(evs)-2].ResponseElements["lockId"] == "" {
		t.Fatalf("lock record %+v", evs[len(evs)-2])
	}
}

// TestAuditTwoNodesOneChain: two nodes on one PostgreSQL database append
// concurrently; the result is one valid chain holding every request.
func TestAuditTwoNodesOneChain(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	ctx := context.Background()
	const perNode = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode)
	for i, n := range nodes {
		c := n.client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perNode {
				name := fmt.Sprintf("node%d-%d", i, j)
				if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(name)}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.Close()
	}
	dsn := nodes[0].Config.Meta
	args := []string{"audit", "verify", "--meta", dsn, "--blobs", nodes[0].Config.Blobs}
	out, code := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("OK: %d records", 2*perNode)) {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	out, _ = runCLI(t, "audit", "export", "--meta", dsn)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev auditEvent
		json.Unmarshal([]byte(line), &ev)
		seen[ev.RequestParameters["vaultName"]] = true
	}
	if len(seen) != 2*perNode {
		t.Fatalf("%d vaults in the log, want %d", len(seen), 2*perNode)
	}
}
