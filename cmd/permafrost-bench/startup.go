package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// idleSettle is how long a server is left alone after start-up before its
// idle RSS is read.
const idleSettle = time.Second

// startup: time from exec to the first answered signed ListVaults, on a
// fresh data dir (first start: schema, account) and on an existing one,
// and the RSS of a server that has started and sits idle; moto alike.
func (b *bench) startup(ctx context.Context) error {
	logs := filepath.Join(b.run, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	base := filepath.Join(b.run, "data", "startup")
	i := 0
	fresh := b.measure(ctx, nil, "permafrost start-up, fresh data dir", 2, func(ctx context.Context) ([]float64, error) {
		i++
		return startOnce(ctx, func() (*proc, error) {
			return startPermafrost(ctx, b.permafrostOpts(filepath.Join(base, fmt.Sprint("fresh-", i)), filepath.Join(logs, "startup.log"), false))
		})
	})
	existing := filepath.Join(base, "fresh-1") // made by the first run above
	again := b.measure(ctx, nil, "permafrost start-up, existing data dir", 2, func(ctx context.Context) ([]float64, error) {
		return startOnce(ctx, func() (*proc, error) {
			return startPermafrost(ctx, b.permafrostOpts(existing, filepath.Join(logs, "startup.log"), false))
		})
	})
	moto := []Result{missing(b.motoAbsent), missing(b.motoAbsent)}
	if b.motoPath != "" {
		moto = b.measure(ctx, nil, "moto start-up", 2, func(ctx context.Context) ([]float64, error) {
			return startOnce(ctx, func() (*proc, error) {
				return startMoto(ctx, b.motoPath, filepath.Join(logs, "moto-startup.log"))
			})
		})
	}
	const sec = "Start-up and memory"
	for _, row := range []Row{
		{ID: "startup/fresh", Section: sec, Unit: "ms", PF: fresh[0], Moto: moto[0],
			Name: "start-up: exec → first answered signed ListVaults, fresh data dir"},
		{ID: "startup/existing", Section: sec, Unit: "ms", PF: again[0], Moto: missing("n/a: moto keeps no data"),
			Name: "start-up, existing data dir"},
		{ID: "rss/idle", Section: sec, Unit: "MiB", Memory: true, PF: fresh[1], Moto: moto[1],
			Name: fmt.Sprintf("idle RSS, %v after start-up", idleSettle)},
	} {
		b.addRow(row)
	}
	return ctx.Err()
}

// startOnce starts a server, lets it settle, reads its RSS and stops it.
func startOnce(ctx context.Context, start func() (*proc, error)) ([]float64, error) {
	p, err := start()
	if err != nil {
		return nil, err
	}
	defer p.stop()
	select {
	case <-time.After(idleSettle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rss, _, err := p.memory()
	return []float64{millisOf(p.startup), rss}, err
}
