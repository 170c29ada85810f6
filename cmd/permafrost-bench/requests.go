package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// metadata: DescribeVault and ListVaults request rates with 1, 16 and 64
// concurrent clients, every request SigV4-signed and verified.
func (b *bench) metadata(ctx context.Context) {
	ops := []struct {
		id, name string
		op       func(ctx context.Context, c *glacier.Client) error
	}{
		{"describe", "DescribeVault", func(ctx context.Context, c *glacier.Client) error {
			_, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String(benchVault)})
			return err
		}},
		{"list", "ListVaults", func(ctx context.Context, c *glacier.Client) error {
			_, err := c.ListVaults(ctx, &glacier.ListVaultsInput{})
			return err
		}},
	}
	for _, o := range ops {
		for _, n := range clientCounts {
			row := Row{ID: fmt.Sprintf("%s/%d", o.id, n), Section: "Metadata requests (SigV4)", Unit: "req/s", Higher: true,
				Name: fmt.Sprintf("%s, %s", o.name, clientsLabel(n)), Ceil: []string{fmt.Sprintf("http-tiny/%d", n)}}
			if o.id == "describe" { // the same request from the SDK to a server that does nothing
				row.Ceil = append(row.Ceil, fmt.Sprintf("sdk-describe/%d", n))
			}
			b.both(ctx, row, func(ctx context.Context, s *server) (float64, error) {
				return rate(ctx, n, b.cfg.duration, func(ctx context.Context) error { return o.op(ctx, s.c) })
			})
		}
	}
}

// mixedBody is the size of the mixed workload's uploads.
const mixedBody = 16 * kib

// mixedPool is the archives the mixed workload may delete, per server.
type mixedPool struct {
	mu  sync.Mutex
	ids []string
	seq atomic.Uint64 // makes every body unique (moto names archives by MD5)
}

func (p *mixedPool) push(id string) { p.mu.Lock(); p.ids = append(p.ids, id); p.mu.Unlock() }

func (p *mixedPool) pop(rng *rand.Rand) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return "", false
	}
	i := rng.IntN(len(p.ids))
	id := p.ids[i]
	p.ids[i] = p.ids[len(p.ids)-1]
	p.ids = p.ids[:len(p.ids)-1]
	return id, true
}

// body returns a unique small upload body with its hashes; computed before
// the operation's clock starts.
func (p *mixedPool) body(data []byte) payload {
	buf := make([]byte, mixedBody)
	copy(buf, data)
	binary.LittleEndian.PutUint64(buf, p.seq.Add(1))
	return newPayload(buf)
}

// mixed: 70% metadata reads (DescribeVault and ListVaults, half each), 20%
// 16 KiB uploads, 10% deletes of archives uploaded before, from
// -mixed-clients clients; throughput and p50/p99 latency over all
// operations.
func (b *bench) mixed(ctx context.Context) {
	rows := []Row{
		{ID: "mixed/ops", Section: "Mixed workload", Unit: "ops/s", Higher: true,
			Name: fmt.Sprintf("70%% metadata reads, 20%% 16 KiB uploads, 10%% deletes, %d clients: throughput", b.cfg.mixedClients)},
		{ID: "mixed/p50", Section: "Mixed workload", Unit: "ms", Name: "… p50 latency"},
		{ID: "mixed/p99", Section: "Mixed workload", Unit: "ms", Name: "… p99 latency"},
	}
	results := map[string][]Result{}
	for _, s := range b.servers() {
		pool := &mixedPool{}
		// Enough archives that deletes never run dry; untimed.
		for range 100 {
			p := pool.body(b.data)
			id, err := uploadArchive(ctx, s.c, mixedVault, p)
			if err != nil {
				results[s.name] = []Result{missing("error: " + oneLine(err))}
				break
			}
			pool.push(id)
		}
		if results[s.name] != nil {
			continue
		}
		results[s.name] = b.measure(ctx, s, "mixed workload", 3, func(ctx context.Context) ([]float64, error) {
			return mixedRun(ctx, s, pool, b.data, b.cfg.mixedClients, b.cfg.mixedDuration)
		})
	}
	for i, row := range rows {
		row.PF = pick(results[b.pf.name], i)
		row.Moto = missing(b.motoAbsent)
		if b.moto != nil {
			row.Moto = pick(results["moto"], i)
		}
		b.addRow(row)
	}
}

func pick(rs []Result, i int) Result {
	if i < len(rs) {
		return rs[i]
	}
	return rs[0] // an error note covers every figure
}

func mixedRun(ctx context.Context, s *server, pool *mixedPool, data []byte, clients int, d time.Duration) ([]float64, error) {
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(uint64(i), 7))
	}
	l, err := drive(ctx, clients, d, true, func(ctx context.Context, client int) error {
		rng := rngs[client]
		switch r := rng.IntN(100); {
		case r < 35:
			_, err := s.c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String(mixedVault)})
			return err
		case r < 70:
			_, err := s.c.ListVaults(ctx, &glacier.ListVaultsInput{})
			return err
		case r < 90:
			return mixedUpload(ctx, s, pool, data)
		default:
			id, ok := pool.pop(rng)
			if !ok {
				return mixedUpload(ctx, s, pool, data)
			}
			_, err := s.c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String(mixedVault), ArchiveId: aws.String(id)})
			return err
		}
	})
	if err != nil {
		return nil, err
	}
	// The body's hashing is inside the latency of an upload; at 16 KiB it
	// is some 10 µs, against milliseconds for the request.
	p50 := percentile(l.latency, 50)
	p99 := percentile(l.latency, 99)
	return []float64{l.perSec, millisOf(p50), millisOf(p99)}, nil
}

func mixedUpload(ctx context.Context, s *server, pool *mixedPool, data []byte) error {
	p := pool.body(data)
	id, err := uploadArchive(ctx, s.c, mixedVault, p)
	if err == nil {
		pool.push(id)
	}
	return err
}
