package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// warmUp is how long a rate run drives the server before counting: long
// enough to open every connection and warm the server's caches.
const warmUp = 300 * time.Millisecond

// load is what one drive produced: operations completed inside the
// measured window, their rate, and (when asked for) their latencies.
type load struct {
	ops     int64
	perSec  float64
	latency []time.Duration
}

// drive runs op from clients goroutines without pause for warmUp + d and
// counts the operations that complete within the measured window
// [start+warmUp, start+warmUp+d] (by completion, which does not bias the
// rate in a steady state). Load is continuous across the window's edges.
// op gets its client's index; the first error ends the run.
func drive(ctx context.Context, clients int, d time.Duration, latencies bool, op func(ctx context.Context, client int) error) (load, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begin := time.Now().Add(warmUp)
	end := begin.Add(d)
	var (
		mu      sync.Mutex
		total   load
		failure error
		wg      sync.WaitGroup
	)
	for i := range clients {
		wg.Go(func() {
			var n int64
			var lat []time.Duration
			defer func() {
				mu.Lock()
				total.ops += n
				total.latency = append(total.latency, lat...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					mu.Lock()
					if failure == nil && ctx.Err() == nil {
						failure = err
					}
					mu.Unlock()
					cancel()
					return
				}
				now := time.Now()
				if now.After(end) {
					return
				}
				if !now.Before(begin) {
					n++
					if latencies {
						lat = append(lat, now.Sub(t0))
					}
				}
			}
		})
	}
	wg.Wait()
	if failure != nil {
		return load{}, failure
	}
	if err := ctx.Err(); err != nil && time.Now().Before(end) {
		return load{}, err
	}
	total.perSec = perSecond(total.ops, d)
	return total, nil
}

// rate is drive for a request rate alone.
func rate(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context) error) (float64, error) {
	l, err := drive(ctx, clients, d, false, func(ctx context.Context, _ int) error { return op(ctx) })
	return l.perSec, err
}

func clientsLabel(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}
