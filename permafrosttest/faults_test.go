package permafrosttest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/permafrosttest"
)

// rule is a listed fault rule, as GET /_permafrost/v1/faults shows it.
type rule struct {
	ID        string `json:"id"`
	Operation string `json:"operation"`
	Applied   int    `json:"applied"`
	Remaining *int   `json:"remaining"`
}

func listFaults(t *testing.T, srv *permafrosttest.Server) []rule {
	t.Helper()
	resp, err := http.Get(srv.URL + "/_permafrost/v1/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Faults []rule }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Faults
}

func mustFault(t *testing.T, srv *permafrosttest.Server, f permafrosttest.Fault) {
	t.Helper()
	if err := srv.InjectFault(f); err != nil {
		t.Fatalf("InjectFault: %v", err)
	}
}

// TestFaultErrors: each error answers with AWS's code, status and JSON
// shape; without retries the client sees it, with the standard retryer
// the retryable ones are retried to success.
func TestFaultErrors(t *testing.T) {
	for _, tc := range []struct {
		code      string
		status    int
		retryable bool
	}{
		{"ThrottlingException", 400, true},
		{"ServiceUnavailableException", 500, true},
		{"RequestTimeoutException", 408, true},
		{"LimitExceededException", 400, true}, // the SDK retries it
		{"ResourceNotFoundException", 404, false},
		{"InsufficientCapacityException", 503, true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			srv := permafrosttest.New(t)
			mustVault(t, client(srv, false), "v")
			data := randomBytes(64 << 10)

			// Retries off: the first answer is the fault.
			mustFault(t, srv, permafrosttest.Fault{Operation: "UploadArchive", Vault: "v", Count: 1, Error: tc.code})
			_, err := client(srv, false).UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader(data)})
			wantAPIError(t, err, tc.code, tc.status)

			// Retries on: two faults, then success on the third attempt.
			mustFault(t, srv, permafrosttest.Fault{Operation: "UploadArchive", Count: 2, Error: tc.code})
			_, err = client(srv, true).UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader(data)})
			if tc.retryable && err != nil {
				t.Fatalf("UploadArchive with retries: %v", err)
			}
			if !tc.retryable {
				wantAPIError(t, err, tc.code, tc.status)
			}
			rules := listFaults(t, srv)
			if len(rules) != 2 || rules[1].Applied != map[bool]int{true: 2, false: 1}[tc.retryable] {
				t.Errorf("rules after the upload = %+v", rules)
			}
			// The vault holds exactly the archives that succeeded.
			d, err := client(srv, false).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
			if err != nil || d.NumberOfArchives != map[bool]int64{true: 1, false: 0}[tc.retryable] {
				t.Errorf("DescribeVault = %+v, %v", d, err)
			}
		})
	}
}

// TestFaultErrorShape: the error body is the JSON AWS sends.
func TestFaultErrorShape(t *testing.T) {
	srv := permafrosttest.New(t)
	mustFault(t, srv, permafrosttest.Fault{Operation: "ListVaults", Count: 1, Error: "ThrottlingException"})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/-/vaults", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if want := `{"code":"ThrottlingException","message":"Rate exceeded","type":"Client"}`; string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

// TestFaultLatency: the request is delayed; a client whose timeout is
// shorter gives up, and with retries the next attempt succeeds.
func TestFaultLatency(t *testing.T) {
	srv := permafrosttest.New(t)
	mustVault(t, client(srv, false), "v")
	mustFault(t, srv, permafrosttest.Fault{Operation: "DescribeVault", Count: 1, Latency: 300 * time.Millisecond})
	start := time.Now()
	if _, err := client(srv, false).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("DescribeVault took %v, want at least 300ms", d)
	}

	mustFault(t, srv, permafrosttest.Fault{Operation: "DescribeVault", Count: 1, Latency: 2 * time.Second})
	impatient := func(retries bool) *glacier.Client {
		return glacier.New(client(srv, retries).Options(), func(o *glacier.Options) {
			o.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond}
		})
	}
	_, err := impatient(false).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("DescribeVault with a 500ms timeout against 2s of latency = %v, want a timeout", err)
	}
	mustFault(t, srv, permafrosttest.Fault{Operation: "DescribeVault", Count: 1, Latency: 2 * time.Second})
	if _, err := impatient(true).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatalf("DescribeVault with retries after a timeout: %v", err)
	}
}

// TestFaultCutResponse: a GetJobOutput cut after K bytes gives a short
// body, and a ranged request from byte K gets the rest; a JSON answer cut
// short is retried by the SDK.
func TestFaultCutResponse(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, true)
	mustVault(t, c, "v")
	data := randomBytes(5<<20 + 123)
	jobID := mustRetrieve(t, c, "v", mustUpload(t, c, "v", data))

	const k = 1<<20 + 7
	mustFault(t, srv, permafrosttest.Fault{Operation: "GetJobOutput", Count: 1, CutResponseAfterBytes: permafrosttest.Bytes(k)})
	for _, retries := range []bool{false, true} {
		if retries {
			mustFault(t, srv, permafrosttest.Fault{Operation: "GetJobOutput", Count: 1, CutResponseAfterBytes: permafrosttest.Bytes(k)})
		}
		out, err := client(srv, retries).GetJobOutput(t.Context(), &glacier.GetJobOutputInput{AccountId: aws.String("-"), VaultName: aws.String("v"), JobId: aws.String(jobID)})
		if err != nil {
			t.Fatalf("GetJobOutput (retries %v): %v", retries, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil || len(got) != k {
			t.Fatalf("reading the cut body (retries %v): %d bytes, %v; want %d bytes and an error", retries, len(got), err, k)
		}
		// Resume where the body stopped.
		rest, err := client(srv, retries).GetJobOutput(t.Context(), &glacier.GetJobOutputInput{AccountId: aws.String("-"), VaultName: aws.String("v"), JobId: aws.String(jobID), Range: aws.String("bytes=" + itoa(len(got)) + "-")})
		if err != nil {
			t.Fatalf("ranged GetJobOutput: %v", err)
		}
		tail, err := io.ReadAll(rest.Body)
		rest.Body.Close()
		if err != nil || !bytes.Equal(append(got, tail...), data) {
			t.Fatalf("resumed download: %d + %d bytes, %v; want the %d bytes uploaded", len(got), len(tail), err, len(data))
		}
	}

	// A JSON answer cut short is an error, with or without retries: the
	// SDK does not retry a response it failed to decode.
	for _, retries := range []bool{false, true} {
		mustFault(t, srv, permafrosttest.Fault{Operation: "DescribeVault", Count: 1, CutResponseAfterBytes: permafrosttest.Bytes(10)})
		_, err := client(srv, retries).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
		if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
			t.Fatalf("DescribeVault with its answer cut (retries %v) = %v, want unexpected EOF", retries, err)
		}
	}
	if _, err := client(srv, false).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")}); err != nil {
		t.Fatalf("DescribeVault once the rules are spent: %v", err)
	}
}

// TestFaultCutRequest: an upload whose connection drops after K bytes
// fails without retries, stores nothing, and is retried to success.
func TestFaultCutRequest(t *testing.T) {
	srv := permafrosttest.New(t)
	mustVault(t, client(srv, false), "v")
	data := randomBytes(2 << 20)
	mustFault(t, srv, permafrosttest.Fault{Operation: "UploadArchive", Count: 1, CutRequestAfterBytes: permafrosttest.Bytes(100 << 10)})
	_, err := client(srv, false).UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader(data)})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("UploadArchive cut after 100 KiB = %v, want a connection error", err)
	}
	mustFault(t, srv, permafrosttest.Fault{Operation: "UploadArchive", Count: 1, CutRequestAfterBytes: permafrosttest.Bytes(100 << 10)})
	if _, err := client(srv, true).UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("UploadArchive with retries: %v", err)
	}
	d, err := client(srv, false).DescribeVault(t.Context(), &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || d.NumberOfArchives != 1 {
		t.Fatalf("DescribeVault = %+v, %v; want exactly the one upload that got through", d, err)
	}
}

// TestFaultProbability: a rule with probability 1 fires on every match, 0.5
// on some, and ClearFaults removes them.
func TestFaultProbability(t *testing.T) {
	srv := permafrosttest.New(t)
	c := client(srv, false)
	mustFault(t, srv, permafrosttest.Fault{Operation: "*", Probability: 0.5, Error: "ServiceUnavailableException"})
	failed := 0
	for range 200 {
		if _, err := c.ListVaults(t.Context(), &glacier.ListVaultsInput{AccountId: aws.String("-")}); err != nil {
			wantAPIError(t, err, "ServiceUnavailableException", 500)
			failed++
		}
	}
	if failed < 40 || failed > 160 {
		t.Errorf("%d of 200 requests failed with probability 0.5", failed)
	}
	if r := listFaults(t, srv); len(r) != 1 || r[0].Applied != failed || r[0].Remaining != nil {
		t.Errorf("rules = %+v, want one applied %d times", r, failed)
	}
	if err := srv.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.ListVaults(t.Context(), &glacier.ListVaultsInput{AccountId: aws.String("-")}); err != nil {
			t.Fatalf("ListVaults after ClearFaults: %v", err)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFaultDeleteOne: DELETE /_permafrost/v1/faults/{id} removes one rule,
// and an unknown id is ResourceNotFoundException.
func TestFaultDeleteOne(t *testing.T) {
	srv := permafrosttest.New(t)
	mustFault(t, srv, permafrosttest.Fault{Operation: "ListVaults", Error: "ThrottlingException"})
	mustFault(t, srv, permafrosttest.Fault{Operation: "DescribeVault", Latency: time.Millisecond})
	del := func(id string) int {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/_permafrost/v1/faults/"+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := del("fault-1"); st != 204 {
		t.Fatalf("DELETE fault-1: %d, want 204", st)
	}
	if st := del("fault-1"); st != 404 {
		t.Fatalf("DELETE fault-1 again: %d, want 404", st)
	}
	if r := listFaults(t, srv); len(r) != 1 || r[0].ID != "fault-2" {
		t.Fatalf("rules = %+v, want fault-2 only", r)
	}
	if _, err := client(srv, false).ListVaults(t.Context(), &glacier.ListVaultsInput{AccountId: aws.String("-")}); err != nil {
		t.Fatalf("ListVaults after its rule was deleted: %v", err)
	}
}

// TestFaultExhaustsRetries: three throttled attempts exhaust the standard
// retryer, and the caller sees the error.
func TestFaultExhaustsRetries(t *testing.T) {
	srv := permafrosttest.New(t)
	mustVault(t, client(srv, false), "v")
	mustFault(t, srv, permafrosttest.Fault{Operation: "UploadArchive", Count: 3, Error: "ThrottlingException"})
	_, err := client(srv, true).UploadArchive(t.Context(), &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String("v"), Body: bytes.NewReader([]byte("x"))})
	wantAPIError(t, err, "ThrottlingException", 400)
	if r := listFaults(t, srv); r[0].Applied != 3 || *r[0].Remaining != 0 {
		t.Errorf("rule = %+v, want applied 3 times, none remaining", r[0])
	}
}
