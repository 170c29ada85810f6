package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/health"
	"github.com/permafrost/permafrost/internal/metrics"
)

// pinger is a store that can say whether it answers (both metadata stores
// and both blob stores are).
type pinger interface {
	Ping(ctx context.Context) error
}

// newHealth builds the checker behind GET /_permafrost/v1/health: one
// check per store. Other components add infos (health.Checker.AddInfo).
func (m *Main) newHealth() *health.Checker {
	h := &health.Checker{Redact: redactString}
	if m.metrics != nil {
		h.OnFailure = m.metrics.HealthCheckFailed
	}
	add := func(name string, store any) {
		p, ok := store.(pinger)
		if !ok {
			return
		}
		h.AddCheck(name, p.Ping)
	}
	add("metadata", m.stores.meta)
	add("blobs", m.stores.blobs)
	h.AddInfo("damaged_archives", m.damagedArchivesInfo)
	return h
}

// newMetrics builds the metrics and wraps the blob store so its failures
// are counted. Called only with --metrics-listen.
func (m *Main) newMetrics() *metrics.Metrics {
	stats, _ := m.stores.meta.(metrics.StoreStats)
	mt := metrics.New(stats)
	m.stores.blobs = countingBlobs{BlobStore: m.stores.blobs, m: mt}
	return mt
}

// observeRequest feeds one finished request to the metrics.
func (m *Main) observeRequest(r api.RequestStats) {
	req := metrics.Request{Operation: r.Operation, Status: r.Status, Code: r.Code, Duration: r.Duration, BytesIn: r.BytesIn, BytesOut: r.BytesOut}
	if r.Err != nil {
		var be blobError
		switch {
		case errors.As(r.Err, &be):
			req.StoreError = "blobs"
		case glacier.KindOf(r.Err) == glacier.KindUnavailable:
			req.StoreError = "metadata"
		}
	}
	m.metrics.ObserveRequest(req)
}

// startMetrics serves /metrics on ln (--metrics-listen), never on the
// Glacier port.
func (m *Main) startMetrics(ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.metrics.Handler())
	m.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.metricsSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.logger.Warn("metrics listener stopped", "err", err)
		}
	}()
}

// countingBlobs counts the blob store's failures (a missing blob is not
// one) and marks its errors, so a failed request is attributed to it.
type countingBlobs struct {
	glacier.BlobStore
	m *metrics.Metrics
}

// blobError marks an error that came from the blob store.
type blobError struct{ err error }

func (e blobError) Error() string { return e.err.Error() }
func (e blobError) Unwrap() error { return e.err }

func (c countingBlobs) fail(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	if k := glacier.KindOf(err); k != glacier.KindUnavailable && k != glacier.KindInternal {
		return err // a missing blob, or the client's body failing a check
	}
	c.m.StoreError("blobs")
	return blobError{err}
}

func (c countingBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := c.BlobStore.Put(ctx, key, r)
	return n, c.fail(ctx, err)
}

func (c countingBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rc, err := c.BlobStore.Open(ctx, key, offset, length)
	return rc, c.fail(ctx, err)
}

func (c countingBlobs) Delete(ctx context.Context, key string) error {
	return c.fail(ctx, c.BlobStore.Delete(ctx, key))
}

func (c countingBlobs) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	return c.fail(ctx, c.BlobStore.List(ctx, fn))
}

func (c countingBlobs) Ping(ctx context.Context) error {
	if p, ok := c.BlobStore.(pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}
