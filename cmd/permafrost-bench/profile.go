package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profiler takes CPU and heap profiles of a permafrost server through its
// pprof endpoint, one pair per measurement, named after it.
type profiler struct {
	dir     string
	seconds int
	enabled bool
	n       int
	hc      *http.Client
}

func newProfiler(dir string, seconds int) *profiler {
	return &profiler{dir: dir, seconds: max(seconds, 1), hc: &http.Client{}}
}

// start begins a CPU profile of p. The returned finish waits for the
// profile window to close — calling fill (when not nil) again and again
// meanwhile, so that the window holds only the workload — then saves the
// CPU profile and a heap profile. start returns nil when profiles are off.
func (pr *profiler) start(p *proc, label string) func(fill func() error) {
	if pr == nil || !pr.enabled || p == nil || p.pprof == "" {
		return nil
	}
	if err := os.MkdirAll(pr.dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return nil
	}
	pr.n++
	name := filepath.Join(pr.dir, fmt.Sprintf("%02d-%s", pr.n, slug(label)))
	done := make(chan error, 1)
	go func() {
		done <- pr.fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.pprof, pr.seconds), name+".cpu.pb.gz")
	}()
	return func(fill func() error) {
		var err error
	wait:
		for {
			select {
			case err = <-done:
				break wait
			default:
			}
			if fill == nil || fill() != nil {
				err = <-done
				break
			}
		}
		if err == nil {
			err = pr.fetch(p.pprof+"/debug/pprof/heap", name+".heap.pb.gz")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
	}
}

func (pr *profiler) fetch(url, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(pr.seconds+60)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := pr.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// slug turns a label into a file name.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
