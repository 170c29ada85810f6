package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// server is one of the two servers under test, as the workloads see it.
type server struct {
	name    string  // "permafrost" (embedded), "moto", or a configuration's name ("pg-s3-1", …)
	proc    *proc   // the (first) node: the one profiled
	procs   []*proc // every node of a multi-node configuration
	c       *glacier.Client
	maxSize int64 // largest upload this server is given (-moto-max-size for moto)
	// kept holds, per size, one uploaded archive the retrieval workload can
	// reuse instead of uploading again.
	kept map[int64]string
}

// unsupported is returned by a run for a workload a server cannot do; the
// report shows its reason instead of a figure.
type unsupported struct{ reason string }

func (u unsupported) Error() string { return u.reason }

func notSupported(format string, args ...any) error {
	return unsupported{fmt.Sprintf(format, args...)}
}

// runFunc is one run of a measurement; it returns one value per figure it
// measures (most return one).
type runFunc func(ctx context.Context) ([]float64, error)

// measure runs fn b.cfg.runs times and summarises each figure it returns.
// Each run has -run-timeout. When server profiles are on and s is
// permafrost, a CPU profile is taken while the runs go on (and, if they end
// first, while fn keeps running unrecorded until the profile window
// closes).
func (b *bench) measure(ctx context.Context, s *server, label string, figures int, fn runFunc) []Result {
	var finish func(fill func() error)
	if s != nil && s.proc != nil && s.name != "moto" {
		plabel := label
		if s.name != "permafrost" {
			plabel = s.name + " " + label
		}
		finish = b.prof.start(s.proc, plabel)
	}
	vals := make([][]float64, figures)
	var failure error
	for i := 0; i < b.cfg.runs; i++ {
		rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
		v, err := fn(rctx)
		cancel()
		if err != nil {
			failure = err
			break
		}
		for k := range figures {
			vals[k] = append(vals[k], v[k])
		}
	}
	if finish != nil {
		finish(func() error {
			rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
			defer cancel()
			_, err := fn(rctx)
			return err
		})
	}
	who := "machine"
	if s != nil {
		who = s.name
	}
	out := make([]Result, figures)
	for k := range figures {
		switch {
		case failure != nil:
			var u unsupported
			if errors.As(failure, &u) {
				out[k] = missing("n/a: " + u.reason)
			} else {
				out[k] = missing("error: " + oneLine(failure))
			}
		default:
			out[k] = have(summarize(vals[k]))
		}
	}
	if failure != nil {
		b.logf("  %-10s %-55s %s", who, label, out[0].Note)
	} else {
		var figs []string
		for _, r := range out {
			figs = append(figs, cell(r))
		}
		b.logf("  %-10s %-55s %s", who, label, strings.Join(figs, " | "))
	}
	return out
}

// one is measure for a run that yields one figure.
func (b *bench) one(ctx context.Context, s *server, label string, fn func(ctx context.Context) (float64, error)) Result {
	return b.measure(ctx, s, label, 1, func(ctx context.Context) ([]float64, error) {
		v, err := fn(ctx)
		return []float64{v}, err
	})[0]
}

// both measures a row on permafrost and on moto (when moto runs) and adds
// it to the report.
func (b *bench) both(ctx context.Context, row Row, fn func(ctx context.Context, s *server) (float64, error)) {
	row.PF = b.one(ctx, b.pf, row.Name, func(ctx context.Context) (float64, error) { return fn(ctx, b.pf) })
	row.Moto = b.onMoto(ctx, row.Name, func(ctx context.Context) (float64, error) { return fn(ctx, b.moto) })
	b.addRow(row)
}

// addRow adds a row of the configuration being measured to the report.
func (b *bench) addRow(row Row) {
	if row.Config == "" {
		row.Config = b.config
	}
	b.report.Rows = append(b.report.Rows, row)
}

// onMoto measures fn on moto, or says why not.
func (b *bench) onMoto(ctx context.Context, label string, fn func(ctx context.Context) (float64, error)) Result {
	if b.moto == nil {
		return missing(b.motoAbsent)
	}
	return b.one(ctx, b.moto, label, fn)
}

// ceiling measures one machine ceiling and adds it to the report.
func (b *bench) ceiling(ctx context.Context, row Row, fn func(ctx context.Context) (float64, error)) {
	row.PF = b.one(ctx, nil, row.Name, fn)
	b.report.Ceilings = append(b.report.Ceilings, row)
}

// timeIt runs fn and returns how long it took.
func timeIt(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}
