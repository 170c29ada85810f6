package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// importSource is a source vault on a permafrost server, with what the
// test put into it.
type importSource struct {
	ts      *testServer
	vault   string
	data    map[string][]byte // archive id → bytes
	policy  string
	lockPol string
	topic   string
	s3Env   []string // the destination bucket's keys (postgres-s3 backend)
}

// newImportSource fills a vault of ts: single and multipart archives,
// tags, an access policy naming its own and another account, a
// notification configuration and a Locked vault lock.
func newImportSource(t *testing.T, ts *testServer, n int) *importSource {
	t.Helper()
	ctx := context.Background()
	c := ts.client()
	s := &importSource{ts: ts, vault: "photos", data: map[string][]byte{}}
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(s.vault)}); err != nil {
		t.Fatal(err)
	}
	// Originals are dated well before the import.
	ts.advance(t, 24*time.Hour)
	for i := range n {
		var data []byte
		var id string
		if i%3 == 2 {
			data = randomBytes(2<<20 + i*1000)
			id = jobUploadMultipart(t, c, s.vault, fmt.Sprintf("multipart %d: ascii & symbols <%d> \"quoted\"", i, i), data, 1<<20)
		} else {
			data = randomBytes(1000 + i*70_001)
			id = jobUpload(t, c, s.vault, fmt.Sprintf("archive %d", i), data)
		}
		s.data[id] = data
		ts.advance(t, 3*time.Hour) // distinct creation dates
	}
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String(s.vault), Tags: map[string]string{"team": "media", "cost-center": "42"}}); err != nil {
		t.Fatal(err)
	}
	arn := fmt.Sprintf("arn:aws:glacier:us-east-1:%s:vaults/%s", ts.AccountID, s.vault)
	s.policy = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"glacier:DescribeVault","Resource":"%s"},`+
		`{"Sid":"own","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"glacier:ListJobs","Resource":"%s"}]}`, arn, ts.AccountID, arn)
	if _, err := c.SetVaultAccessPolicy(ctx, &glacier.SetVaultAccessPolicyInput{VaultName: aws.String(s.vault), Policy: &types.VaultAccessPolicy{Policy: aws.String(s.policy)}}); err != nil {
		t.Fatal(err)
	}
	s.topic = fmt.Sprintf("arn:aws:sns:us-east-1:%s:archive-events", ts.AccountID)
	if _, err := c.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{VaultName: aws.String(s.vault), VaultNotificationConfig: &types.VaultNotificationConfig{
		SNSTopic: aws.String(s.topic), Events: []string{"ArchiveRetrievalCompleted"}}}); err != nil {
		t.Fatal(err)
	}
	s.lockPol = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"keep","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"%s","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`, arn)
	lock, err := c.InitiateVaultLock(ctx, &glacier.InitiateVaultLockInput{VaultName: aws.String(s.vault), Policy: &types.VaultLockPolicy{Policy: aws.String(s.lockPol)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteVaultLock(ctx, &glacier.CompleteVaultLockInput{VaultName: aws.String(s.vault), LockId: lock.LockId}); err != nil {
		t.Fatal(err)
	}
	return s
}

// importEnv is the environment of an import from s: the source's key in
// the standard AWS chain, nothing else.
func (s *importSource) env(t *testing.T) []string {
	if s.s3Env == nil {
		// The destination's bucket keeps its own keys (the AWS chain
		// carries the source's): PERMAFROST_S3_*, as documented.
		s.s3Env = []string{}
		if testBackend != "" {
			s.s3Env = []string{"PERMAFROST_S3_ACCESS_KEY_ID=" + os.Getenv("AWS_ACCESS_KEY_ID"), "PERMAFROST_S3_SECRET_ACCESS_KEY=" + os.Getenv("AWS_SECRET_ACCESS_KEY")}
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(slices.Clone(s.s3Env), "AWS_ACCESS_KEY_ID="+s.ts.KeyID, "AWS_SECRET_ACCESS_KEY="+s.ts.Secret, "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true")
}

func (s *importSource) setEnv(t *testing.T) {
	for _, kv := range s.env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// importArgs are the import command's arguments from s into dst.
func importArgs(t *testing.T, s *importSource, dst *testServer, extra ...string) []string {
	args := []string{"import", "--endpoint", s.ts.URL(), "--source-region", "us-east-1", "--vault", s.vault,
		"--to-account-id", dst.AccountID, "--poll-interval", "200ms", "--json"}
	f := backendFor(t, dst.Config.DataDir)
	if f.Meta != "" {
		args = append(args, "--meta", f.Meta, "--blobs", f.Blobs)
	} else {
		args = append(args, "--data-dir", dst.Config.DataDir)
	}
	return append(args, extra...)
}

// inventoryOf returns a vault's inventory through an inventory job (the
// server completes it once its clock allows: advance is called meanwhile).
func inventoryOf(t *testing.T, ts *testServer, vault string) importInventory {
	t.Helper()
	c := ts.client()
	id := ts.jobInitiate(t, c, vault, &types.JobParameters{Type: aws.String("inventory-retrieval")})
	ts.advance(t, 5*time.Hour)
	jobWait(t, c, vault, id, types.StatusCodeSucceeded)
	_, body := jobGetOutput(t, c, vault, id, "")
	var inv importInventory
	if err := json.Unmarshal(body, &inv); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(inv.ArchiveList, func(a, b importInventoryArchive) int { return strings.Compare(a.ArchiveId, b.ArchiveId) })
	return inv
}

// checkImported compares the destination vault with the source: archive
// ids, descriptions, creation dates, sizes, tree hashes and bytes, tags,
// the access policy and notifications with ARNs rewritten, and the lock.
func checkImported(t *testing.T, s *importSource, dst *testServer, wantLock bool) {
	t.Helper()
	ctx := context.Background()
	srcInv, dstInv := inventoryOf(t, s.ts, s.vault), inventoryOf(t, dst, s.vault)
	if len(dstInv.ArchiveList) != len(s.data) || !slices.Equal(srcInv.ArchiveList, dstInv.ArchiveList) {
		t.Fatalf("destination inventory differs from the source's:\nsource %+v\ndest   %+v", srcInv.ArchiveList, dstInv.ArchiveList)
	}
	c := dst.client()
	for _, a := range dstInv.ArchiveList {
		job := dst.jobInitiate(t, c, s.vault, jobArchiveParams(a.ArchiveId, "Expedited", ""))
		dst.advance(t, time.Hour)
		jobWait(t, c, s.vault, job, types.StatusCodeSucceeded)
		out, got := jobGetOutput(t, c, s.vault, job, "")
		jobWantOutput(t, "imported archive "+a.ArchiveId, out, got, 200, "", jobSum(s.data[a.ArchiveId]), s.data[a.ArchiveId])
	}
	tags, err := c.ListTagsForVault(ctx, &glacier.ListTagsForVaultInput{VaultName: aws.String(s.vault)})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "media" || tags.Tags["cost-center"] != "42" {
		t.Errorf("tags %v (%v)", tags, err)
	}
	rewrite := func(p string) string { return strings.ReplaceAll(p, ":"+s.ts.AccountID+":", ":"+dst.AccountID+":") }
	pol, err := c.GetVaultAccessPolicy(ctx, &glacier.GetVaultAccessPolicyInput{VaultName: aws.String(s.vault)})
	if err != nil || aws.ToString(pol.Policy.Policy) != rewrite(s.policy) {
		t.Errorf("access policy %v (%v), want %s", pol, err, rewrite(s.policy))
	} else if !strings.Contains(aws.ToString(pol.Policy.Policy), "arn:aws:iam::111122223333:root") {
		t.Errorf("another account's ARN was rewritten: %s", aws.ToString(pol.Policy.Policy))
	}
	nc, err := c.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String(s.vault)})
	if err != nil || aws.ToString(nc.VaultNotificationConfig.SNSTopic) != rewrite(s.topic) {
		t.Errorf("notifications %v (%v), want topic %s", nc, err, rewrite(s.topic))
	}
	lock, err := c.GetVaultLock(ctx, &glacier.GetVaultLockInput{VaultName: aws.String(s.vault)})
	switch {
	case wantLock && (err != nil || aws.ToString(lock.State) != "Locked" || aws.ToString(lock.Policy) != rewrite(s.lockPol)):
		t.Errorf("lock %+v (%v), want Locked with %s", lock, err, rewrite(s.lockPol))
	case !wantLock && err == nil:
		t.Errorf("the destination has a lock (%s) without --copy-lock", aws.ToString(lock.State))
	}
	if wantLock {
		// The imported archives are subject to it, aged from their
		// original dates (a day or so: younger than 365 days).
		_, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String(s.vault), ArchiveId: aws.String(dstInv.ArchiveList[0].ArchiveId)})
		wantAPIError(t, err, "AccessDeniedException", 403)
	}
}

// sourceJobs counts the archive-retrieval jobs of the source per archive.
func sourceJobs(t *testing.T, s *importSource) map[string]int {
	t.Helper()
	m := map[string]int{}
	pages := glacier.NewListJobsPaginator(s.ts.client(), &glacier.ListJobsInput{VaultName: aws.String(s.vault)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range p.JobList {
			if j.Action == types.ActionCodeArchiveRetrieval {
				m[aws.ToString(j.ArchiveId)]++
			}
		}
	}
	return m
}

// TestImportInstant imports from a permafrost whose jobs complete at once,
// with --copy-lock, then re-runs the import: nothing is retrieved twice.
func TestImportInstant(t *testing.T) {
	src := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s := newImportSource(t, src, 5)
	dst := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s.setEnv(t)
	ctx := context.Background()

	var out, errOut bytes.Buffer
	if err := run(ctx, importArgs(t, s, dst, "--dry-run"), &out, &errOut); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut.String())
	}
	var dry map[string]any
	if err := json.Unmarshal(out.Bytes(), &dry); err != nil || dry["archives"] != float64(5) || dry["retrieval_jobs"] != float64(5) || dry["inventory_jobs"] != float64(1) {
		t.Fatalf("dry run printed %s (%v)", out.String(), err)
	}
	if n := len(sourceJobs(t, s)); n != 0 {
		t.Fatalf("the dry run started %d retrieval jobs", n)
	}

	out.Reset()
	if err := run(ctx, importArgs(t, s, dst, "--copy-lock", "--concurrency", "3"), &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), `"event":"done"`) || !strings.Contains(out.String(), `"event":"progress"`) {
		t.Errorf("no progress or done line in the JSON output:\n%s", out.String())
	}
	checkImported(t, s, dst, true)

	// A second run finds everything there and retrieves nothing.
	before := sourceJobs(t, s)
	out.Reset()
	if err := run(ctx, importArgs(t, s, dst, "--copy-lock"), &out, &errOut); err != nil {
		t.Fatalf("second import: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"already_imported":5`) {
		t.Errorf("second run did not find the 5 archives imported:\n%s", out.String())
	}
	if after := sourceJobs(t, s); !mapsEqual(before, after) {
		t.Errorf("the second run started retrieval jobs: %v → %v", before, after)
	}
	for id, n := range before {
		if n != 1 {
			t.Errorf("archive %s was retrieved %d times", id, n)
		}
	}

	// Another destination where one of the ids exists with other bytes:
	// an error naming it, and nothing imported.
	dst2 := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s.setEnv(t) // a new bucket (postgres-s3) set the AWS chain to its keys
	if _, err := dst2.client().CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(s.vault)}); err != nil {
		t.Fatal(err)
	}
	var someID string
	for id := range s.data {
		someID = id
		break
	}
	other := []byte("other bytes")
	wrong := pf.ImportedArchive{ID: someID, CreatedAt: time.Now().UTC(), Size: int64(len(other)), TreeHash: treehash.Sum([]byte("not these"))}
	if _, err := dst2.service.ImportArchive(ctx, dst2.AccountID, s.vault, wrong, bytes.NewReader(other)); pf.KindOf(err) != pf.KindInvalidParameter {
		t.Fatalf("ImportArchive of bytes that do not match the tree hash: %v, want an invalid-parameter error", err)
	}
	wrong.TreeHash = treehash.Sum(other)
	if ok, err := dst2.service.ImportArchive(ctx, dst2.AccountID, s.vault, wrong, bytes.NewReader(other)); !ok || err != nil {
		t.Fatalf("ImportArchive: %v %v", ok, err)
	}
	out.Reset()
	errOut.Reset()
	err := run(ctx, importArgs(t, s, dst2), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), someID) || !strings.Contains(err.Error(), "different content") {
		t.Fatalf("import onto a conflicting id: %v, want an error naming %s", err, someID)
	}
	if d, _ := dst2.client().DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String(s.vault)}); d.NumberOfArchives != 1 {
		t.Errorf("the refused import left %d archives, want the 1 that was there", d.NumberOfArchives)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestImportKilledAndResumed runs the import as a real process against a
// source with Glacier's tier delays on its test clock, SIGKILLs it once
// some archives are in, and runs it again: the second run reuses the
// source jobs in flight, retrieves nothing twice and duplicates nothing.
func TestImportKilledAndResumed(t *testing.T) {
	src := jobServe(t, func(c *Config) {
		c.JobDelays = "expedited=1m,standard=3h,bulk=5h,inventory=4h"
		c.JobRetention = 10000 * time.Hour // the test clock runs fast
	})
	s := newImportSource(t, src, 7)
	dst := jobServe(t, func(c *Config) { c.JobDelays = "none" })

	// The source's clock advances an hour every 300 ms while importing.
	var tick sync.WaitGroup
	stopTick := make(chan struct{})
	tick.Add(1)
	go func() {
		defer tick.Done()
		for {
			select {
			case <-stopTick:
				return
			case <-time.After(300 * time.Millisecond):
				s.ts.advance(t, time.Hour)
			}
		}
	}()
	defer func() {
		select {
		case <-stopTick:
		default:
			close(stopTick)
		}
		tick.Wait()
	}()

	cmd := exec.Command(permafrostBinary(t), importArgs(t, s, dst, "--concurrency", "2", "--copy-lock")[0:]...)
	cmd.Env = append(os.Environ(), s.env(t)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut lockedBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	imported, lines := 0, []string{}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"event":"archive"`) {
			imported++
		}
		if imported >= 3 {
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	deadline.Stop()
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if imported < 3 {
		t.Fatalf("the import ended (%v) after %d archives, before the kill:\n%s\n%s", werr, imported, strings.Join(lines, "\n"), errOut.String())
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, `"event":"waiting"`) }) {
		t.Errorf("the import did not say what it waits for:\n%s", strings.Join(lines, "\n"))
	}
	if ws, ok := werr.(*exec.ExitError); !ok || ws.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("import was not killed: %v", werr)
	}

	// Run it again to the end, in-process.
	s.setEnv(t)
	var out, eb bytes.Buffer
	if err := run(context.Background(), importArgs(t, s, dst, "--concurrency", "2", "--copy-lock"), &out, &eb); err != nil {
		t.Fatalf("resumed import: %v\n%s\n%s", err, out.String(), eb.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf(`"already_imported":%d`, imported)) && !strings.Contains(out.String(), `"already_imported"`) {
		t.Errorf("resumed import output:\n%s", out.String())
	}
	close(stopTick)
	tick.Wait()
	jobs := sourceJobs(t, s)
	if len(jobs) != len(s.data) {
		t.Errorf("source jobs for %d archives, want %d", len(jobs), len(s.data))
	}
	for id, n := range jobs {
		if n != 1 {
			t.Errorf("archive %s was retrieved by %d jobs, want 1 (a verified archive is never downloaded again, a job in flight is reused)", id, n)
		}
	}
	checkImported(t, s, dst, true)
}

// TestImportWaitsOutRetrievalPolicy: a source whose data retrieval policy
// refuses the jobs makes the import wait and say so, not fail; once the
// policy allows them it completes. The help says --copy-lock is
// irreversible.
func TestImportWaitsOutRetrievalPolicy(t *testing.T) {
	var help bytes.Buffer
	if err := run(context.Background(), []string{"import", "help"}, &help, io.Discard); err != nil || !strings.Contains(help.String(), "IRREVERSIBLE") {
		t.Fatalf("import help (%v) does not warn that --copy-lock is irreversible:\n%s", err, help.String())
	}

	src := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s := newImportSource(t, src, 2)
	dst := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	s.setEnv(t)
	c := src.client()
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(1)})

	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), importArgs(t, s, dst, "--tier", "Standard"), out, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), `"event":"backoff"`) {
		select {
		case err := <-done:
			t.Fatalf("the import ended (%v) instead of waiting for the retrieval policy:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backoff within 20 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "PolicyEnforcedException") {
		t.Errorf("the backoff does not say why:\n%s", out.String())
	}
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("None")})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the import did not finish after the policy was lifted:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"event":"done"`) {
		t.Errorf("no done line:\n%s", out.String())
	}
}

// TestImportProgressBar renders the terminal bar: archives, bytes, rate,
// ETA and jobs waiting on one rewritten line.
func TestImportProgressBar(t *testing.T) {
	var out bytes.Buffer
	imp := &importer{out: &out, terminal: true, total: 10, totalBytes: 10 << 20, started: time.Now().Add(-2 * time.Second)}
	imp.done.Store(4)
	imp.doneBytes.Store(4 << 20)
	imp.waiting.Store(3)
	imp.progress(false)
	line := out.String()
	for _, want := range []string{"\r", "[============", "4/10 archives", "4.0 MiB/10.0 MiB", "/s", "ETA ", "jobs waiting 3"} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("bar %q ends the line before the import does", line)
	}
}
