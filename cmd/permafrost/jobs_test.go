package main

// End-to-end tests of retrieval jobs (data-plane.md §5, operations.md §11)
// through the real aws-sdk-go-v2 Glacier client, and one round trip through
// the AWS CLI, against running servers. The job* helpers at the top are
// shared with inventory_test.go, notify_test.go and retrieval_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/permafrost/permafrost/internal/treehash"
)

// ---------------------------------------------------------------------------
// Helpers.

// jobTimeLayout is the ISO-8601 form of every date in job descriptions.
const jobTimeLayout = "2006-01-02T15:04:05.000Z"

// jobWaitLimit bounds every wait for the server to do something by itself
// (complete a job, take an inventory, deliver a notification). The
// scheduler ticks every 500 ms and is woken when the test clock moves, so
// this is generous.
const jobWaitLimit = 20 * time.Second

// jobServeDir starts the real program on dir with the test clock on, the
// defaults of every serve flag except a loopback port, live inventories
// (InventoryInterval 0) and quiet logs, then applies set. It creates no
// account; the server stops when the test ends.
func jobServeDir(tb testing.TB, dir string, set func(*Config)) *testServer {
	tb.Helper()
	cfg := testConfig(tb, dir)
	cfg.TestClock = true
	if set != nil {
		set(&cfg)
	}
	m := &Main{Config: cfg, Stderr: testLogWriter{tb}}
	if err := m.Open(context.Background()); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	return &testServer{Main: m}
}

// jobServe is jobServeDir on a new directory, with a new account.
func jobServe(tb testing.TB, set func(*Config)) *testServer {
	tb.Helper()
	ts := jobServeDir(tb, tb.TempDir(), set)
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(tb, "")
	return ts
}

// jobRestart stops ts and starts a new server on the same data directory
// with the Config changes of set; the account and key are the same.
func (ts *testServer) jobRestart(tb testing.TB, set func(*Config)) *testServer {
	tb.Helper()
	dir := ts.Config.DataDir
	if err := ts.Close(); err != nil {
		tb.Fatalf("close server: %v", err)
	}
	ts2 := jobServeDir(tb, dir, set)
	ts2.AccountID, ts2.KeyID, ts2.Secret = ts.AccountID, ts.KeyID, ts.Secret
	return ts2
}

// jobHTTPStatus is the HTTP status of a successful SDK call.
func jobHTTPStatus(md middleware.Metadata) int {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.StatusCode
	}
	return 0
}

// jobUpload stores data as a new archive with a single-request upload.
func jobUpload(tb testing.TB, c *glacier.Client, vault, desc string, data []byte) string {
	tb.Helper()
	out, err := c.UploadArchive(context.Background(), &glacier.UploadArchiveInput{
		VaultName: aws.String(vault), ArchiveDescription: aws.String(desc), Body: bytes.NewReader(data),
	})
	if err != nil {
		tb.Fatalf("upload archive: %v", err)
	}
	if got, want := aws.ToString(out.Checksum), treehash.Sum(data).String(); got != want {
		tb.Fatalf("upload checksum %s, want %s", got, want)
	}
	return aws.ToString(out.ArchiveId)
}

// jobUploadMultipart stores data as a new archive in parts of partSize.
func jobUploadMultipart(t *testing.T, c *glacier.Client, vault, desc string, data []byte, partSize int) string {
	t.Helper()
	ctx := context.Background()
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName: aws.String(vault), PartSize: aws.String(fmt.Sprint(partSize)), ArchiveDescription: aws.String(desc),
	})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(data); start += partSize {
		uploadPart(t, c, vault, aws.ToString(init.UploadId), data[start:min(start+partSize, len(data))], start)
	}
	sum := treehash.Sum(data).String()
	done, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName: aws.String(vault), UploadId: init.UploadId,
		ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(sum),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(done.Checksum) != sum {
		t.Fatalf("complete checksum %s, want %s", aws.ToString(done.Checksum), sum)
	}
	return aws.ToString(done.ArchiveId)
}

// jobArchiveParams are the parameters of an archive-retrieval job; tier
// and rng are left out when empty.
func jobArchiveParams(archiveID, tier, rng string) *types.JobParameters {
	p := &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archiveID)}
	if tier != "" {
		p.Tier = aws.String(tier)
	}
	if rng != "" {
		p.RetrievalByteRange = aws.String(rng)
	}
	return p
}

// jobInitiateErr starts a job and returns its id or the error.
func jobInitiateErr(c *glacier.Client, vault string, p *types.JobParameters) (string, error) {
	out, err := c.InitiateJob(context.Background(), &glacier.InitiateJobInput{VaultName: aws.String(vault), JobParameters: p})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.JobId), nil
}

// jobInitiate starts a job that must be accepted: 202 with the job id and
// its Location.
func (ts *testServer) jobInitiate(tb testing.TB, c *glacier.Client, vault string, p *types.JobParameters) string {
	tb.Helper()
	out, err := c.InitiateJob(context.Background(), &glacier.InitiateJobInput{VaultName: aws.String(vault), JobParameters: p})
	if err != nil {
		tb.Fatalf("InitiateJob %s: %v", aws.ToString(p.Type), err)
	}
	id := aws.ToString(out.JobId)
	if st := jobHTTPStatus(out.ResultMetadata); st != 202 {
		tb.Errorf("InitiateJob status %d, want 202", st)
	}
	if len(id) != 92 {
		tb.Errorf("job id %q has %d characters, want 92", id, len(id))
	}
	if want := "/" + ts.AccountID + "/vaults/" + vault + "/jobs/" + id; aws.ToString(out.Location) != want {
		tb.Errorf("Location %q, want %q", aws.ToString(out.Location), want)
	}
	return id
}

// jobDescribe returns DescribeJob's answer, which must be a success.
func jobDescribe(tb testing.TB, c *glacier.Client, vault, id string) *glacier.DescribeJobOutput {
	tb.Helper()
	d, err := c.DescribeJob(context.Background(), &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: aws.String(id)})
	if err != nil {
		tb.Fatalf("DescribeJob %s: %v", id, err)
	}
	if st := jobHTTPStatus(d.ResultMetadata); st != 200 {
		tb.Errorf("DescribeJob status %d, want 200", st)
	}
	return d
}

// jobWait polls DescribeJob until the job leaves InProgress, within
// jobWaitLimit, and checks it ended with want.
func jobWait(tb testing.TB, c *glacier.Client, vault, id string, want types.StatusCode) *glacier.DescribeJobOutput {
	tb.Helper()
	deadline := time.Now().Add(jobWaitLimit)
	for {
		d := jobDescribe(tb, c, vault, id)
		if d.StatusCode != types.StatusCodeInProgress {
			if d.StatusCode != want {
				tb.Fatalf("job %s ended %s (%s), want %s", id, d.StatusCode, aws.ToString(d.StatusMessage), want)
			}
			return d
		}
		if time.Now().After(deadline) {
			tb.Fatalf("job %s still InProgress after %v, want %s", id, jobWaitLimit, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jobGetOutputErr downloads a job's output (rng is the Range header, ""
// for none) and returns the response with its body read.
func jobGetOutputErr(c *glacier.Client, vault, id, rng string) (*glacier.GetJobOutputOutput, []byte, error) {
	in := &glacier.GetJobOutputInput{VaultName: aws.String(vault), JobId: aws.String(id)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetJobOutput(context.Background(), in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return out, b, err
}

// jobGetOutput is jobGetOutputErr for a download that must succeed.
func jobGetOutput(tb testing.TB, c *glacier.Client, vault, id, rng string) (*glacier.GetJobOutputOutput, []byte) {
	tb.Helper()
	out, b, err := jobGetOutputErr(c, vault, id, rng)
	if err != nil {
		tb.Fatalf("GetJobOutput %s (Range %q): %v", id, rng, err)
	}
	return out, b
}

// jobWantOutput checks one download: status, Content-Range (when want is
// 206), tree hash header (nil: absent) and bytes.
func jobWantOutput(tb testing.TB, what string, out *glacier.GetJobOutputOutput, got []byte, status int, contentRange string, checksum *string, want []byte) {
	tb.Helper()
	if int(out.Status) != status {
		tb.Errorf("%s: status %d, want %d", what, out.Status, status)
	}
	if aws.ToString(out.ContentRange) != contentRange {
		tb.Errorf("%s: Content-Range %q, want %q", what, aws.ToString(out.ContentRange), contentRange)
	}
	switch {
	case checksum == nil && out.Checksum != nil:
		tb.Errorf("%s: x-amz-sha256-tree-hash %s, want none (range not tree-hash aligned)", what, *out.Checksum)
	case checksum != nil && aws.ToString(out.Checksum) != *checksum:
		tb.Errorf("%s: x-amz-sha256-tree-hash %q, want %s", what, aws.ToString(out.Checksum), *checksum)
	}
	if aws.ToString(out.AcceptRanges) != "bytes" {
		tb.Errorf("%s: Accept-Ranges %q, want bytes", what, aws.ToString(out.AcceptRanges))
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s: got %d bytes that differ from the %d expected", what, len(got), len(want))
	}
}

// jobSum is the tree hash of b as the header carries it.
func jobSum(b []byte) *string { return aws.String(treehash.Sum(b).String()) }

// jobParseTime parses a job date, which must be ISO-8601 with milliseconds.
func jobParseTime(tb testing.TB, what string, s *string) time.Time {
	tb.Helper()
	if s == nil {
		tb.Fatalf("%s is null", what)
	}
	tm, err := time.Parse(jobTimeLayout, *s)
	if err != nil {
		tb.Fatalf("%s %q is not ISO-8601 with milliseconds: %v", what, *s, err)
	}
	return tm
}

// jobListIDs lists the ids of all jobs ListJobs returns for the query (the
// SDK paginator follows Marker), checking that none repeats.
func jobListIDs(tb testing.TB, c *glacier.Client, in glacier.ListJobsInput) []string {
	tb.Helper()
	var ids []string
	seen := map[string]bool{}
	p := glacier.NewListJobsPaginator(c, &in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatalf("ListJobs: %v", err)
		}
		for _, j := range out.JobList {
			id := aws.ToString(j.JobId)
			if seen[id] {
				tb.Errorf("ListJobs returned job %s twice", id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// jobSameSet reports whether a and b hold the same strings, in any order.
func jobSameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Tests.

func TestArchiveRetrievalJob(t *testing.T) {
	ts := jobServe(t, nil) // default delays: expedited=1m, standard=3h, bulk=5h
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	mustCreateVault(t, c, "other")
	arn := "arn:aws:glacier:us-east-1:" + ts.AccountID + ":vaults/v"

	data := randomBytes(5*mib + 12345)
	size := int64(len(data))
	archiveID := jobUploadMultipart(t, c, "v", "retrieval test", data, 2*mib)
	whole := treehash.Sum(data).String()

	// A whole-archive Standard job (default tier), two MiB-aligned ranges
	// (one tree-hash aligned, one not), a range running to the archive's
	// end, and an Expedited whole-archive job.
	wholeP := jobArchiveParams(archiveID, "", "")
	wholeP.Description = aws.String("whole archive")
	type job struct {
		id, tier, rng string
		want          []byte  // the job's output
		hash          *string // SHA256TreeHash after completion; nil for unaligned ranges
	}
	jobs := map[string]*job{
		"whole":     {tier: "Standard", rng: fmt.Sprintf("0-%d", size-1), want: data, hash: &whole},
		"unaligned": {tier: "Standard", rng: "1048576-3145727", want: data[mib : 3*mib]},
		"aligned":   {tier: "Standard", rng: "2097152-4194303", want: data[2*mib : 4*mib], hash: jobSum(data[2*mib : 4*mib])},
		"tail":      {tier: "Standard", rng: fmt.Sprintf("%d-%d", 4*mib, size-1), want: data[4*mib:], hash: jobSum(data[4*mib:])},
		"expedited": {tier: "Expedited", rng: fmt.Sprintf("0-%d", size-1), want: data, hash: &whole},
	}
	before := ts.service.Clock.Now().Truncate(time.Millisecond)
	jobs["whole"].id = ts.jobInitiate(t, c, "v", wholeP)
	jobs["unaligned"].id = ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", "1048576-3145727"))
	jobs["aligned"].id = ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", "2097152-4194303"))
	jobs["tail"].id = ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", jobs["tail"].rng))
	jobs["expedited"].id = ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Expedited", ""))

	// Right after initiation every job is in progress (data-plane.md §5.4).
	for name, j := range jobs {
		d := jobDescribe(t, c, "v", j.id)
		if d.Completed || d.StatusCode != types.StatusCodeInProgress || aws.ToString(d.StatusMessage) != "Operation in progress." {
			t.Errorf("%s: just initiated: Completed %v, StatusCode %s, StatusMessage %q", name, d.Completed, d.StatusCode, aws.ToString(d.StatusMessage))
		}
		if aws.ToString(d.JobId) != j.id || d.Action != types.ActionCodeArchiveRetrieval || aws.ToString(d.ArchiveId) != archiveID ||
			aws.ToString(d.VaultARN) != arn || aws.ToInt64(d.ArchiveSizeInBytes) != size ||
			aws.ToString(d.ArchiveSHA256TreeHash) != whole || aws.ToString(d.RetrievalByteRange) != j.rng ||
			aws.ToString(d.Tier) != j.tier || d.CompletionDate != nil || d.InventorySizeInBytes != nil ||
			d.InventoryRetrievalParameters != nil || d.SNSTopic != nil {
			t.Errorf("%s: DescribeJob = JobId %s Action %s ArchiveId %s VaultARN %s size %v tree %s range %s tier %s completion %v inventory %v/%v topic %v",
				name, aws.ToString(d.JobId), d.Action, aws.ToString(d.ArchiveId), aws.ToString(d.VaultARN), aws.ToInt64(d.ArchiveSizeInBytes),
				aws.ToString(d.ArchiveSHA256TreeHash), aws.ToString(d.RetrievalByteRange), aws.ToString(d.Tier), d.CompletionDate,
				d.InventorySizeInBytes, d.InventoryRetrievalParameters, d.SNSTopic)
		}
		if created := jobParseTime(t, name+" CreationDate", d.CreationDate); created.Before(before) || created.After(ts.service.Clock.Now()) {
			t.Errorf("%s: CreationDate %s outside the initiation window", name, *d.CreationDate)
		}
		if name == "whole" {
			if aws.ToString(d.JobDescription) != "whole archive" {
				t.Errorf("JobDescription %v, want \"whole archive\"", d.JobDescription)
			}
		} else if d.JobDescription != nil {
			t.Errorf("%s: JobDescription %q, want null", name, *d.JobDescription)
		}
		// Output is not available yet.
		_, _, err := jobGetOutputErr(c, "v", j.id, "")
		wantAPIError(t, err, "InvalidParameterValueException", 400)
		if !strings.Contains(err.Error(), "The job is not currently available for download: "+j.id) {
			t.Errorf("%s: message = %v", name, err)
		}
	}

	// After a minute the Expedited job completes by itself; Standard jobs
	// are still in progress.
	ts.advance(t, 61*time.Second)
	d := jobWait(t, c, "v", jobs["expedited"].id, types.StatusCodeSucceeded)
	if elapsed := jobParseTime(t, "CompletionDate", d.CompletionDate).Sub(jobParseTime(t, "CreationDate", d.CreationDate)); elapsed < time.Minute || elapsed > time.Hour {
		t.Errorf("Expedited job took %v on the server clock, want about 1m", elapsed)
	}
	for _, name := range []string{"whole", "unaligned", "aligned", "tail"} {
		if d := jobDescribe(t, c, "v", jobs[name].id); d.Completed || d.StatusCode != types.StatusCodeInProgress {
			t.Errorf("%s: after 61 s: Completed %v, StatusCode %s; want still InProgress", name, d.Completed, d.StatusCode)
		}
	}
	out, got := jobGetOutput(t, c, "v", jobs["expedited"].id, "")
	jobWantOutput(t, "Expedited output", out, got, 200, "", &whole, data)

	// After three hours the Standard jobs complete.
	ts.advance(t, 3*time.Hour)
	for name, j := range jobs {
		d := jobWait(t, c, "v", j.id, types.StatusCodeSucceeded)
		if !d.Completed || aws.ToString(d.StatusMessage) != "Succeeded" {
			t.Errorf("%s: completed: Completed %v, StatusMessage %q", name, d.Completed, aws.ToString(d.StatusMessage))
		}
		created := jobParseTime(t, name+" CreationDate", d.CreationDate)
		completed := jobParseTime(t, name+" CompletionDate", d.CompletionDate)
		if j.tier == "Standard" && completed.Sub(created) < 3*time.Hour {
			t.Errorf("%s: completed %v after creation, want at least 3h", name, completed.Sub(created))
		}
		switch {
		case j.hash == nil && d.SHA256TreeHash != nil:
			t.Errorf("%s: SHA256TreeHash %s, want null (range %s is not tree-hash aligned)", name, *d.SHA256TreeHash, j.rng)
		case j.hash != nil && aws.ToString(d.SHA256TreeHash) != *j.hash:
			t.Errorf("%s: SHA256TreeHash %q, want %s", name, aws.ToString(d.SHA256TreeHash), *j.hash)
		}
		if aws.ToString(d.RetrievalByteRange) != j.rng || aws.ToString(d.ArchiveSHA256TreeHash) != whole || aws.ToInt64(d.ArchiveSizeInBytes) != size {
			t.Errorf("%s: completed: range %q, archive hash %q, size %d", name, aws.ToString(d.RetrievalByteRange), aws.ToString(d.ArchiveSHA256TreeHash), aws.ToInt64(d.ArchiveSizeInBytes))
		}

		// The whole output: 200, the bytes of the range, the tree hash
		// header only for tree-hash-aligned ranges (data-plane.md §5.6).
		out, got := jobGetOutput(t, c, "v", j.id, "")
		jobWantOutput(t, name+" output", out, got, 200, "", j.hash, j.want)
		if aws.ToString(out.ContentType) != "application/octet-stream" || aws.ToString(out.ArchiveDescription) != "retrieval test" {
			t.Errorf("%s: Content-Type %q, archive description %q", name, aws.ToString(out.ContentType), aws.ToString(out.ArchiveDescription))
		}
	}

	// Ranges of the whole-archive job's output.
	id := jobs["whole"].id
	total := fmt.Sprintf("/%d", size)
	for _, r := range []struct {
		rng, contentRange string
		want              []byte
		hash              *string
	}{
		{"bytes=0-1048575", "bytes 0-1048575" + total, data[:mib], jobSum(data[:mib])},
		// Not tree-hash aligned (1 MiB to the end): no checksum.
		{"bytes=1048576-", fmt.Sprintf("bytes 1048576-%d", size-1) + total, data[mib:], nil},
		// A block running to the end from a 4 MiB boundary is aligned.
		{"bytes=4194304-", fmt.Sprintf("bytes 4194304-%d", size-1) + total, data[4*mib:], jobSum(data[4*mib:])},
		{"bytes=2097152-4194303", "bytes 2097152-4194303" + total, data[2*mib : 4*mib], jobSum(data[2*mib : 4*mib])},
		// MiB aligned but not tree-hash aligned.
		{"bytes=1048576-3145727", "bytes 1048576-3145727" + total, data[mib : 3*mib], nil},
		// The end is clamped to the output's end.
		{fmt.Sprintf("bytes=2097152-%d", size+5000), fmt.Sprintf("bytes 2097152-%d", size-1) + total, data[2*mib:], nil},
		{"bytes=10-20", "bytes 10-20" + total, data[10:21], nil},
		{fmt.Sprintf("bytes=%d-%d", size-1, size-1), fmt.Sprintf("bytes %d-%d", size-1, size-1) + total, data[size-1:], nil},
	} {
		out, got := jobGetOutput(t, c, "v", id, r.rng)
		jobWantOutput(t, "whole job, Range "+r.rng, out, got, 206, r.contentRange, r.hash, r.want)
	}
	// A range that cannot be parsed is ignored: the whole output, 200.
	out, got = jobGetOutput(t, c, "v", id, "items=0-5")
	jobWantOutput(t, "whole job, unparsable Range", out, got, 200, "", &whole, data)
	// A range starting beyond the output is refused.
	_, _, err := jobGetOutputErr(c, "v", id, fmt.Sprintf("bytes=%d-", size))
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "The start of the range is larger than size of retrieved data") {
		t.Errorf("message = %v", err)
	}

	// Ranges of a ranged job's output are relative to the job's output;
	// checksums follow the archive offsets.
	out, got = jobGetOutput(t, c, "v", jobs["aligned"].id, "bytes=0-1048575")
	jobWantOutput(t, "aligned job, first MiB", out, got, 206, "bytes 0-1048575/2097152", jobSum(data[2*mib:3*mib]), data[2*mib:3*mib])
	out, got = jobGetOutput(t, c, "v", jobs["aligned"].id, "bytes=1048576-")
	jobWantOutput(t, "aligned job, second MiB", out, got, 206, "bytes 1048576-2097151/2097152", jobSum(data[3*mib:4*mib]), data[3*mib:4*mib])
	out, got = jobGetOutput(t, c, "v", jobs["unaligned"].id, "bytes=0-1048575")
	jobWantOutput(t, "unaligned job, first MiB", out, got, 206, "bytes 0-1048575/2097152", nil, data[mib:2*mib])
	_, _, err = jobGetOutputErr(c, "v", jobs["aligned"].id, "bytes=2097152-")
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	out, got = jobGetOutput(t, c, "v", jobs["tail"].id, "bytes=0-")
	jobWantOutput(t, "tail job, open range", out, got, 206, fmt.Sprintf("bytes 0-%d/%d", size-4*mib-1, size-4*mib), jobSum(data[4*mib:]), data[4*mib:])

	// Unknown jobs, and a job asked for in another vault.
	unknown := strings.Repeat("A", 92)
	_, err = c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("v"), JobId: aws.String(unknown)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	if !strings.Contains(err.Error(), "The job ID was not found: "+unknown) {
		t.Errorf("message = %v", err)
	}
	_, _, err = jobGetOutputErr(c, "v", unknown, "")
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	_, err = c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("other"), JobId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	_, _, err = jobGetOutputErr(c, "other", id, "")
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	_, err = c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("nope"), JobId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	// InitiateJob refusals; none of them creates a job.
	listed := len(jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v")}))
	never := strings.Repeat("x", 138)
	for _, e := range []struct {
		what, vault string
		p           *types.JobParameters
		code        string
		status      int
	}{
		{"unknown archive", "v", jobArchiveParams(never, "", ""), "ResourceNotFoundException", 404},
		{"archive of another vault", "other", jobArchiveParams(archiveID, "", ""), "ResourceNotFoundException", 404},
		{"missing vault", "nope", jobArchiveParams(archiveID, "", ""), "ResourceNotFoundException", 404},
		{"unaligned start", "v", jobArchiveParams(archiveID, "", "1-1048575"), "InvalidParameterValueException", 400},
		{"unaligned end", "v", jobArchiveParams(archiveID, "", "0-1048574"), "InvalidParameterValueException", 400},
		{"end beyond the archive", "v", jobArchiveParams(archiveID, "", fmt.Sprintf("0-%d", size)), "InvalidParameterValueException", 400},
		{"end far beyond the archive", "v", jobArchiveParams(archiveID, "", "0-10485759"), "InvalidParameterValueException", 400},
		{"start after end", "v", jobArchiveParams(archiveID, "", "2097152-1048575"), "InvalidParameterValueException", 400},
		{"malformed range", "v", jobArchiveParams(archiveID, "", "bytes=0-1048575"), "InvalidParameterValueException", 400},
		{"bad tier", "v", jobArchiveParams(archiveID, "Fast", ""), "InvalidParameterValueException", 400},
		{"archive id on inventory", "v", &types.JobParameters{Type: aws.String("inventory-retrieval"), ArchiveId: aws.String(archiveID)}, "InvalidParameterValueException", 400},
		{"range on inventory", "v", &types.JobParameters{Type: aws.String("inventory-retrieval"), RetrievalByteRange: aws.String("0-1048575")}, "InvalidParameterValueException", 400},
		{"bad type", "v", &types.JobParameters{Type: aws.String("restore"), ArchiveId: aws.String(archiveID)}, "InvalidParameterValueException", 400},
		{"long description", "v", &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archiveID), Description: aws.String(strings.Repeat("d", 1025))}, "InvalidParameterValueException", 400},
		{"non-ASCII description", "v", &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archiveID), Description: aws.String("caf\u00e9")}, "InvalidParameterValueException", 400},
	} {
		_, err := jobInitiateErr(c, e.vault, e.p)
		if err == nil {
			t.Errorf("%s: InitiateJob accepted", e.what)
			continue
		}
		t.Run(strings.ReplaceAll(e.what, " ", "_"), func(t *testing.T) { wantAPIError(t, err, e.code, e.status) })
	}
	if _, err := jobInitiateErr(c, "v", jobArchiveParams(never, "", "")); err == nil || !strings.Contains(err.Error(), "The archive ID was not found: "+never) {
		t.Errorf("unknown archive: %v", err)
	}
	if n := len(jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v")})); n != listed {
		t.Errorf("ListJobs shows %d jobs after the refusals, want %d", n, listed)
	}
}

func TestJobOutputExpires(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	data := randomBytes(70000)
	archiveID := jobUpload(t, c, "v", "expires", data)

	// With no delays a job has succeeded when InitiateJob answers.
	archiveJob := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "", ""))
	inventoryJob := ts.jobInitiate(t, c, "v", &types.JobParameters{Type: aws.String("inventory-retrieval")})
	for _, id := range []string{archiveJob, inventoryJob} {
		if d := jobDescribe(t, c, "v", id); !d.Completed || d.StatusCode != types.StatusCodeSucceeded || d.CompletionDate == nil {
			t.Fatalf("job %s right after InitiateJob with --job-delays none: Completed %v, StatusCode %s", id, d.Completed, d.StatusCode)
		}
	}
	out, got := jobGetOutput(t, c, "v", archiveJob, "")
	jobWantOutput(t, "output", out, got, 200, "", jobSum(data), data)

	// 23 hours later the jobs and their output are still there.
	ts.advance(t, 23*time.Hour)
	jobDescribe(t, c, "v", archiveJob)
	jobDescribe(t, c, "v", inventoryJob)
	out, got = jobGetOutput(t, c, "v", archiveJob, "")
	jobWantOutput(t, "output after 23h", out, got, 200, "", jobSum(data), data)
	if ids := jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v")}); !jobSameSet(ids, []string{archiveJob, inventoryJob}) {
		t.Fatalf("ListJobs after 23h = %v", ids)
	}

	// After 24 hours they are gone (data-plane.md §5.3).
	ts.advance(t, time.Hour)
	for _, id := range []string{archiveJob, inventoryJob} {
		_, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("v"), JobId: aws.String(id)})
		wantAPIError(t, err, "ResourceNotFoundException", 404)
		_, _, err = jobGetOutputErr(c, "v", id, "")
		wantAPIError(t, err, "ResourceNotFoundException", 404)
	}
	if ids := jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v")}); len(ids) != 0 {
		t.Fatalf("ListJobs after 24h = %v, want none", ids)
	}
	// The archive itself is untouched: a new job retrieves it.
	id := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "", ""))
	out, got = jobGetOutput(t, c, "v", id, "")
	jobWantOutput(t, "new job's output", out, got, 200, "", jobSum(data), data)
}

func TestListJobs(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.JobDelays = "expedited=0s,standard=3h,bulk=5h" })
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	archiveID := jobUpload(t, c, "v", "list", randomBytes(3*mib))

	// Two Expedited jobs succeed at once; two Standard, one Bulk and one
	// inventory job (3 h by default) stay in progress.
	var succeeded, inProgress, all []string
	for range 2 {
		succeeded = append(succeeded, ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Expedited", "")))
	}
	inProgress = append(inProgress,
		ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", "")),
		ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", "0-1048575")),
		ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Bulk", "")),
		ts.jobInitiate(t, c, "v", &types.JobParameters{Type: aws.String("inventory-retrieval")}),
	)
	all = append(append(all, succeeded...), inProgress...)
	bulk := inProgress[2]

	list := func(completed, status string) []string {
		t.Helper()
		in := glacier.ListJobsInput{VaultName: aws.String("v")}
		if completed != "" {
			in.Completed = aws.String(completed)
		}
		if status != "" {
			in.Statuscode = aws.String(status)
		}
		return jobListIDs(t, c, in)
	}
	for _, q := range []struct {
		completed, status string
		want              []string
	}{
		{"", "", all},
		{"true", "", succeeded},
		{"false", "", inProgress},
		{"", "Succeeded", succeeded},
		{"", "InProgress", inProgress},
		{"", "Failed", nil},
		{"true", "Succeeded", succeeded},
		{"true", "InProgress", nil},
		{"false", "Succeeded", nil},
	} {
		if got := list(q.completed, q.status); !jobSameSet(got, q.want) {
			t.Errorf("ListJobs completed=%q statuscode=%q = %v, want %v", q.completed, q.status, got, q.want)
		}
	}

	// The job list carries full descriptions.
	out, err := c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Statuscode: aws.String("Succeeded")})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range out.JobList {
		if !j.Completed || j.Action != types.ActionCodeArchiveRetrieval || aws.ToString(j.ArchiveId) != archiveID ||
			aws.ToString(j.Tier) != "Expedited" || j.CompletionDate == nil || aws.ToString(j.StatusMessage) != "Succeeded" {
			t.Errorf("JobList entry = %+v", j)
		}
	}
	if out.Marker != nil {
		t.Errorf("single page has Marker %q", *out.Marker)
	}

	// Paging by hand with limit 2: every job exactly once, three pages.
	seen := map[string]int{}
	var marker *string
	pages := 0
	for {
		out, err := c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.JobList) > 2 {
			t.Errorf("page %d has %d jobs, limit 2", pages, len(out.JobList))
		}
		for _, j := range out.JobList {
			seen[aws.ToString(j.JobId)]++
		}
		if out.Marker == nil {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		marker = out.Marker
	}
	if pages != 3 || len(seen) != len(all) {
		t.Errorf("%d pages, %d distinct jobs; want 3 pages, %d jobs", pages, len(seen), len(all))
	}
	for _, id := range all {
		if seen[id] != 1 {
			t.Errorf("job %s seen %d times across pages", id, seen[id])
		}
	}
	// Paging with a filter.
	if got := jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v"), Limit: aws.Int32(1), Statuscode: aws.String("InProgress")}); !jobSameSet(got, inProgress) {
		t.Errorf("InProgress, limit 1 = %v, want %v", got, inProgress)
	}

	// Bad filters and paging parameters.
	_, err = c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Statuscode: aws.String("Done")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "The job status code is not valid: Done") {
		t.Errorf("message = %v", err)
	}
	_, err = c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Completed: aws.String("maybe")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	_, err = c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v"), Marker: aws.String("not-a-job")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	for _, bad := range []string{"0", "-1", "abc"} {
		wantWireError(t, ts.do(t, "GET", "/-/vaults/v/jobs?limit="+bad, nil, nil), "InvalidParameterValueException", 400)
	}
	_, err = c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	// Three hours on, the Standard and inventory jobs have succeeded; the
	// Bulk job is still running.
	ts.advance(t, 3*time.Hour+time.Minute)
	for _, id := range inProgress {
		if id != bulk {
			jobWait(t, c, "v", id, types.StatusCodeSucceeded)
		}
	}
	if got := list("false", ""); !jobSameSet(got, []string{bulk}) {
		t.Errorf("in progress after 3h = %v, want just the Bulk job", got)
	}
	if got := list("", "Succeeded"); len(got) != len(all)-1 {
		t.Errorf("succeeded after 3h = %d jobs, want %d", len(got), len(all)-1)
	}
	ts.advance(t, 2*time.Hour)
	jobWait(t, c, "v", bulk, types.StatusCodeSucceeded)
	if got := list("true", "Succeeded"); !jobSameSet(got, all) {
		t.Errorf("succeeded after 5h = %v, want all", got)
	}
}

func TestArchiveDeletedBeforeJobCompletes(t *testing.T) {
	ts := jobServe(t, nil)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	data := randomBytes(2*mib + 777)
	archiveID := jobUpload(t, c, "v", "doomed", data)

	// An Expedited job that succeeds before the archive is deleted.
	done := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Expedited", ""))
	ts.advance(t, 61*time.Second)
	jobWait(t, c, "v", done, types.StatusCodeSucceeded)

	// A Standard job still preparing when the archive goes.
	pending := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", ""))
	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(archiveID)}); err != nil {
		t.Fatal(err)
	}

	// Prepared output stays downloadable (data-plane.md §5.3), even after
	// a sweep of unreferenced blobs.
	if out, got, err := jobGetOutputErr(c, "v", done, ""); err != nil {
		t.Errorf("output of a job that succeeded before DeleteArchive: %v", err)
	} else {
		jobWantOutput(t, "succeeded job after the delete", out, got, 200, "", jobSum(data), data)
	}
	if _, err := ts.service.Sweep(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if out, got, err := jobGetOutputErr(c, "v", done, "bytes=1048576-"); err != nil {
		t.Errorf("output of a job that succeeded before DeleteArchive, after a sweep: %v", err)
	} else {
		jobWantOutput(t, "succeeded job after a sweep", out, got, 206, fmt.Sprintf("bytes 1048576-%d/%d", len(data)-1, len(data)), nil, data[mib:])
	}

	// The pending job fails when it comes due.
	ts.advance(t, 3*time.Hour)
	d := jobWait(t, c, "v", pending, types.StatusCodeFailed)
	if !d.Completed || d.CompletionDate == nil || aws.ToString(d.StatusMessage) == "" || aws.ToString(d.StatusMessage) == "Succeeded" ||
		aws.ToString(d.StatusMessage) == "Operation in progress." {
		t.Errorf("failed job: Completed %v, CompletionDate %v, StatusMessage %q", d.Completed, d.CompletionDate, aws.ToString(d.StatusMessage))
	}
	_, _, err := jobGetOutputErr(c, "v", pending, "")
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if got := jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v"), Statuscode: aws.String("Failed")}); !jobSameSet(got, []string{pending}) {
		t.Errorf("ListJobs statuscode=Failed = %v, want [%s]", got, pending)
	}
	if got := jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v"), Completed: aws.String("true")}); !jobSameSet(got, []string{pending, done}) {
		t.Errorf("ListJobs completed=true = %v", got)
	}
	if out, got, err := jobGetOutputErr(c, "v", done, ""); err != nil {
		t.Errorf("output of a job that succeeded before DeleteArchive, at the end: %v", err)
	} else {
		jobWantOutput(t, "succeeded job at the end", out, got, 200, "", jobSum(data), data)
	}
}

func TestJobsSurviveRestart(t *testing.T) {
	ts := jobServe(t, nil)
	c := ts.client()
	mustCreateVault(t, c, "v")
	data := randomBytes(3*mib + 7)
	archiveID := jobUpload(t, c, "v", "restart", data)

	standard := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", "1048576-2097151"))
	inventory := ts.jobInitiate(t, c, "v", &types.JobParameters{Type: aws.String("inventory-retrieval"), Format: aws.String("CSV")})
	expedited := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Expedited", ""))
	ts.advance(t, 61*time.Second)
	jobWait(t, c, "v", expedited, types.StatusCodeSucceeded)
	ts.advance(t, time.Hour)

	// A new process on the same data directory; the test clock's offset
	// persists, so two more hours complete the Standard job.
	ts = ts.jobRestart(t, nil)
	c = ts.client()
	if d := jobDescribe(t, c, "v", standard); d.StatusCode != types.StatusCodeInProgress || aws.ToString(d.RetrievalByteRange) != "1048576-2097151" {
		t.Fatalf("after restart: StatusCode %s, range %q", d.StatusCode, aws.ToString(d.RetrievalByteRange))
	}
	out, got := jobGetOutput(t, c, "v", expedited, "")
	jobWantOutput(t, "Expedited output after restart", out, got, 200, "", jobSum(data), data)

	ts.advance(t, 2*time.Hour)
	d := jobWait(t, c, "v", standard, types.StatusCodeSucceeded)
	if el := jobParseTime(t, "CompletionDate", d.CompletionDate).Sub(jobParseTime(t, "CreationDate", d.CreationDate)); el < 3*time.Hour || el > 4*time.Hour {
		t.Errorf("Standard job completed %v after creation on the server clock, want 3h..4h", el)
	}
	out, got = jobGetOutput(t, c, "v", standard, "")
	jobWantOutput(t, "Standard output after restart", out, got, 200, "", jobSum(data[mib:2*mib]), data[mib:2*mib])
	d = jobWait(t, c, "v", inventory, types.StatusCodeSucceeded)
	out, got = jobGetOutput(t, c, "v", inventory, "")
	if aws.ToString(out.ContentType) != "text/csv" || !strings.Contains(string(got), archiveID) || int64(len(got)) != aws.ToInt64(d.InventorySizeInBytes) {
		t.Errorf("inventory after restart: Content-Type %q, %d bytes (InventorySizeInBytes %d): %q",
			aws.ToString(out.ContentType), len(got), aws.ToInt64(d.InventorySizeInBytes), got)
	}
}

func TestCLIRetrievalRoundTrip(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none" })
	dir := t.TempDir()
	cli := newAWSCLI(t, ts, dir)
	const vault = "cli-jobs"
	var created struct{ Location string }
	cli.json(&created, "create-vault", "--vault-name", vault)

	data := randomBytes(2*mib + 4321)
	in := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var up struct{ ArchiveID, Checksum string }
	cli.json(&up, "upload-archive", "--vault-name", vault, "--archive-description", "cli retrieval", "--body", in)

	params, _ := json.Marshal(map[string]string{"Type": "archive-retrieval", "ArchiveId": up.ArchiveID, "Description": "cli job"})
	var started struct{ Location, JobID string }
	cli.json(&started, "initiate-job", "--vault-name", vault, "--job-parameters", string(params))
	if len(started.JobID) != 92 || started.Location != "/"+ts.AccountID+"/vaults/"+vault+"/jobs/"+started.JobID {
		t.Fatalf("initiate-job = %+v", started)
	}

	// Job ids may start with '-', hence --job-id=ID.
	var desc struct {
		JobID, Action, ArchiveID, StatusCode, StatusMessage, JobDescription, SHA256TreeHash, RetrievalByteRange string
		Completed                                                                                               bool
		ArchiveSizeInBytes                                                                                      int64
	}
	cli.json(&desc, "describe-job", "--vault-name", vault, "--job-id="+started.JobID)
	if desc.JobID != started.JobID || desc.Action != "ArchiveRetrieval" || desc.ArchiveID != up.ArchiveID || !desc.Completed ||
		desc.StatusCode != "Succeeded" || desc.JobDescription != "cli job" || desc.ArchiveSizeInBytes != int64(len(data)) ||
		desc.SHA256TreeHash != up.Checksum || desc.RetrievalByteRange != fmt.Sprintf("0-%d", len(data)-1) {
		t.Errorf("describe-job = %+v", desc)
	}
	var jobs struct {
		JobList []struct{ JobID string }
	}
	cli.json(&jobs, "list-jobs", "--vault-name", vault)
	if len(jobs.JobList) != 1 || jobs.JobList[0].JobID != started.JobID {
		t.Errorf("list-jobs = %+v", jobs)
	}

	outFile := filepath.Join(dir, "out.bin")
	var got struct {
		Checksum, ContentType, AcceptRanges, ArchiveDescription string
		Status                                                  int
	}
	cli.json(&got, "get-job-output", "--vault-name", vault, "--job-id="+started.JobID, outFile)
	if got.Status != 200 || got.Checksum != treehash.Sum(data).String() || got.ContentType != "application/octet-stream" ||
		got.AcceptRanges != "bytes" || got.ArchiveDescription != "cli retrieval" {
		t.Errorf("get-job-output = %+v", got)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("get-job-output wrote %d bytes that differ from the %d uploaded", len(b), len(data))
	}

	// A range through the CLI.
	rangeFile := filepath.Join(dir, "range.bin")
	cli.json(&got, "get-job-output", "--vault-name", vault, "--job-id="+started.JobID, "--range", "bytes=1048576-2097151", rangeFile)
	if b, _ := os.ReadFile(rangeFile); got.Status != 206 || got.Checksum != treehash.Sum(data[mib:2*mib]).String() || !bytes.Equal(b, data[mib:2*mib]) {
		t.Errorf("ranged get-job-output: %+v, %d bytes", got, len(b))
	}
	cli.wantError("ResourceNotFoundException", "describe-job", "--vault-name", vault, "--job-id="+strings.Repeat("A", 92))
}
