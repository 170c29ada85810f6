package main

// Concurrency tests of the admission limits: for each limit, many requests
// race through two nodes sharing one store, and exactly the limit is
// admitted. They run on the embedded SQLite store (two nodes on one data
// directory: two writers on one database file) and on PostgreSQL (two
// nodes on one database and bucket), whatever PERMAFROST_TEST_BACKEND says.
// The SQLite nodes share the database file through --meta sqlite:PATH,
// each with its own data directory and archive directory (both have one
// owner); admission reads no archive bytes, and the jobs stay in progress.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"

	gl "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// admissionRacers is how many requests race for each limit.
const admissionRacers = 16

// admissionBackends are the two store configurations of the tests.
var admissionBackends = []string{"sqlite", "postgres"}

// admissionNodes starts two in-process nodes on the stores of backend with
// the test clock and default job delays (jobs stay in progress), applies
// set to every node's service and returns clients of both, for one
// account.
func admissionNodes(t *testing.T, backend string, set func(*gl.Service)) []*glacier.Client {
	t.Helper()
	dir := t.TempDir()
	shared := storeFlags{Meta: "sqlite:" + filepath.Join(dir, "meta.db")}
	if backend == "postgres" {
		shared = storeFlags{Meta: testenv.PostgresDSN(t), Blobs: testenv.S3URL(t)}
	}
	nodes := make([]*testServer, 2)
	for i := range nodes {
		cfg := DefaultConfig()
		cfg.Listen, cfg.LogLevel, cfg.TestClock, cfg.InventoryInterval = "127.0.0.1:0", "warn", true, 0
		cfg.DataDir = t.TempDir()
		cfg.Meta, cfg.Blobs = shared.Meta, shared.Blobs
		if backend == "sqlite" {
			cfg.Blobs = "file://" + filepath.Join(dir, fmt.Sprint("archives-", i))
		}
		m := &Main{Config: cfg, Stderr: testLogWriter{t}}
		if err := m.Open(context.Background()); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { m.Close() })
		if set != nil {
			set(m.service)
		}
		nodes[i] = &testServer{Main: m}
	}
	acct, key, secret := nodes[0].mustCreateAccount(t, "")
	clients := make([]*glacier.Client, len(nodes))
	for i, n := range nodes {
		n.AccountID, n.KeyID, n.Secret = acct, key, secret
		clients[i] = n.client()
	}
	return clients
}

// race runs admissionRacers calls of fn together, alternating between the
// clients, and returns how many succeeded. Every failure must be the
// Glacier error code with its status.
func race(t *testing.T, clients []*glacier.Client, code string, status int, fn func(c *glacier.Client, i int) error) int {
	t.Helper()
	errs := make([]error, admissionRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range admissionRacers {
		wg.Go(func() {
			<-start
			errs[i] = fn(clients[i%len(clients)], i)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("racer %d: %v, want %s", i, err, code)
			continue
		}
		wantAPIError(t, err, code, status)
	}
	return won
}

func TestAdmissionVaultLimitConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			const limit = 5
			cs := admissionNodes(t, backend, func(s *gl.Service) { s.MaxVaults = limit })
			won := race(t, cs, "LimitExceededException", 400, func(c *glacier.Client, i int) error {
				_, err := c.CreateVault(context.Background(), &glacier.CreateVaultInput{VaultName: aws.String(fmt.Sprint("v", i))})
				return err
			})
			out, err := cs[0].ListVaults(context.Background(), &glacier.ListVaultsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if won != limit || len(out.VaultList) != limit {
				t.Errorf("%d vaults created, %d listed; want exactly %d", won, len(out.VaultList), limit)
			}
		})
	}
}

func TestAdmissionTagLimitConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			const limit = 5
			cs := admissionNodes(t, backend, func(s *gl.Service) { s.MaxTags = limit })
			mustCreateVault(t, cs[0], "v")
			won := race(t, cs, "LimitExceededException", 400, func(c *glacier.Client, i int) error {
				_, err := c.AddTagsToVault(context.Background(), &glacier.AddTagsToVaultInput{VaultName: aws.String("v"),
					Tags: map[string]string{fmt.Sprint("k", i): "x"}})
				return err
			})
			out, err := cs[1].ListTagsForVault(context.Background(), &glacier.ListTagsForVaultInput{VaultName: aws.String("v")})
			if err != nil {
				t.Fatal(err)
			}
			if won != limit || len(out.Tags) != limit {
				t.Errorf("%d tag requests admitted, %d tags stored; want exactly %d", won, len(out.Tags), limit)
			}
		})
	}
}

func TestAdmissionCapacityLimitConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			cs := admissionNodes(t, backend, nil)
			won := race(t, cs, "LimitExceededException", 400, func(c *glacier.Client, i int) error {
				_, err := c.PurchaseProvisionedCapacity(context.Background(), &glacier.PurchaseProvisionedCapacityInput{})
				return err
			})
			out, err := cs[1].ListProvisionedCapacity(context.Background(), &glacier.ListProvisionedCapacityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if won != gl.MaxCapacityUnits || len(out.ProvisionedCapacityList) != gl.MaxCapacityUnits {
				t.Errorf("%d purchases admitted, %d units listed; want exactly %d", won, len(out.ProvisionedCapacityList), gl.MaxCapacityUnits)
			}
		})
	}
}

// admissionJobs races archive-retrieval jobs of tier on a 1 MiB archive
// and checks that exactly want are admitted, the others refused with code
// and status,
// and that the vault lists exactly the admitted jobs.
func admissionJobs(t *testing.T, cs []*glacier.Client, tier, code string, status, want int) {
	t.Helper()
	mustCreateVault(t, cs[0], "v")
	archiveID := jobUpload(t, cs[0], "v", "", randomBytes(mib))
	won := race(t, cs, code, status, func(c *glacier.Client, i int) error {
		_, err := jobInitiateErr(c, "v", jobArchiveParams(archiveID, tier, ""))
		return err
	})
	jobs := jobListIDs(t, cs[1], glacier.ListJobsInput{VaultName: aws.String("v")})
	if won != want || len(jobs) != want {
		t.Errorf("%d %s jobs admitted, %d listed; want exactly %d", won, tier, len(jobs), want)
	}
}

func TestAdmissionBytesPerHourConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			cs := admissionNodes(t, backend, nil)
			// In-flight Standard bytes count over 4 hours: a limit of
			// 1 MiB per hour admits 4 jobs of 1 MiB.
			retrMustSet(t, cs[0], types.DataRetrievalRule{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(mib)})
			admissionJobs(t, cs, "Standard", "PolicyEnforcedException", 400, 4)
		})
	}
}

func TestAdmissionFreeTierConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			cs := admissionNodes(t, backend, func(s *gl.Service) { s.FreeTierBytesPerDay = 3 * mib })
			retrMustSet(t, cs[0], types.DataRetrievalRule{Strategy: aws.String("FreeTier")})
			admissionJobs(t, cs, "Standard", "PolicyEnforcedException", 400, 3)
		})
	}
}

func TestAdmissionExpeditedCapacityConcurrent(t *testing.T) {
	for _, backend := range admissionBackends {
		t.Run(backend, func(t *testing.T) {
			// One unit admits 3 Expedited jobs per 5 minutes, the shared
			// pool 2 more.
			cs := admissionNodes(t, backend, func(s *gl.Service) { s.ExpeditedSharedPool = 2 })
			if _, err := cs[0].PurchaseProvisionedCapacity(context.Background(), &glacier.PurchaseProvisionedCapacityInput{}); err != nil {
				t.Fatal(err)
			}
			admissionJobs(t, cs, "Expedited", "InsufficientCapacityException", 503, 5)
		})
	}
}
