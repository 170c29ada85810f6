package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

// The credentials the harness gives permafrost on first start (README
// "Accounts and keys"); moto accepts any.
const (
	benchKeyID   = "AKIAPERMAFROSTBENCH0"
	benchSecret  = "permafrost-bench-secret-key-not-for-production-use"
	benchAccount = "111122223333"
)

// proc is a server child process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	url     string
	pprof   string // base URL of the server's pprof endpoint, "" if none
	log     *os.File
	exited  chan struct{}
	waitErr error
	startup time.Duration // from exec to the first answered signed ListVaults
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// buildPermafrost builds the server from the tree. With pprof it builds a
// second binary through `go build -overlay` that adds one file registering
// net/http/pprof on $PERMAFROST_BENCH_PPROF: the tree is not touched, and
// the ordinary binary is what every figure measures unless -server-profile
// is given and the server has no --pprof-listen of its own.
func buildPermafrost(ctx context.Context, root, out string, pprof bool) error {
	args := []string{"build", "-o", out}
	if pprof {
		overlay, err := writePprofOverlay(root, filepath.Dir(out))
		if err != nil {
			return err
		}
		args = append(args, "-overlay", overlay)
	}
	args = append(args, "./cmd/permafrost")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

const pprofOverlaySource = `package main

// Added by cmd/permafrost-bench through go build -overlay; not in the tree.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("PERMAFROST_BENCH_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
`

func writePprofOverlay(root, dir string) (string, error) {
	src := filepath.Join(dir, "zz_bench_pprof.go")
	if err := os.WriteFile(src, []byte(pprofOverlaySource), 0o644); err != nil {
		return "", err
	}
	target := filepath.Join(root, "cmd", "permafrost", "zz_bench_pprof.go")
	js := fmt.Sprintf(`{"Replace":{%q:%q}}`, target, src)
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, []byte(js), 0o644)
}

// hasServeFlag reports whether `permafrost serve -h` lists the flag.
func hasServeFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	return strings.Contains(string(out), "-"+flag+" ")
}

// permafrostOpts are how one permafrost process is started.
type permafrostOpts struct {
	bin, dataDir, logPath, logLevel string
	// meta and blobs are --meta and --blobs ("" for the embedded stores);
	// env is added to the process's environment (the S3 keys).
	meta, blobs string
	env         []string
	// pprofMode: "" none, "flag" (the server's --pprof-listen), "overlay"
	// (the overlay build reads $PERMAFROST_BENCH_PPROF).
	pprofMode string
}

// startPermafrost starts `permafrost serve` on a free loopback port with
// jobs completing at once and inventories always current, and waits until
// a signed ListVaults answers.
func startPermafrost(ctx context.Context, o permafrostOpts) (*proc, error) {
	// freeAddr's ports are free when it returns, not when the server binds
	// them: another process's connection can take one in between. A start
	// that lost its port that way is tried again on new ports.
	for attempt := 1; ; attempt++ {
		p, err := startPermafrostOnce(ctx, o)
		if err == nil || attempt == 3 {
			return p, err
		}
		log, _ := os.ReadFile(o.logPath)
		if !strings.Contains(string(log), "address already in use") {
			return p, err
		}
	}
}

// startPermafrostOnce is one attempt of startPermafrost.
func startPermafrostOnce(ctx context.Context, o permafrostOpts) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--listen", addr, "--data-dir", o.dataDir,
		"--job-delays", "none", "--inventory-interval", "0"}
	if o.logLevel != "" {
		args = append(args, "--log-level", o.logLevel)
	}
	if o.meta != "" {
		args = append(args, "--meta", o.meta)
	}
	if o.blobs != "" {
		args = append(args, "--blobs", o.blobs)
	}
	env := cleanEnv("PERMAFROST_")
	env = append(env, o.env...)
	env = append(env,
		"PERMAFROST_ACCESS_KEY_ID="+benchKeyID,
		"PERMAFROST_SECRET_ACCESS_KEY="+benchSecret,
		"PERMAFROST_ACCOUNT_ID="+benchAccount)
	var pprofURL string
	if o.pprofMode != "" {
		paddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		pprofURL = "http://" + paddr
		if o.pprofMode == "flag" {
			args = append(args, "--pprof-listen", paddr)
		} else {
			env = append(env, "PERMAFROST_BENCH_PPROF="+paddr)
		}
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Env = env
	p, err := startProc(ctx, "permafrost", cmd, "http://"+addr, o.logPath)
	if p != nil {
		p.pprof = pprofURL
	}
	return p, err
}

// startMoto starts `moto_server` on a free loopback port and waits until it
// answers a signed ListVaults.
func startMoto(ctx context.Context, bin, logPath string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-H", host, "-p", port)
	cmd.Env = os.Environ()
	return startProc(ctx, "moto", cmd, "http://"+addr, logPath)
}

// resolveMoto finds moto_server. A pyenv shim is resolved to the script it
// runs, so that start-up time is moto's and not pyenv's.
func resolveMoto(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	if strings.Contains(path, "/shims/") {
		if out, err := exec.Command("pyenv", "which", filepath.Base(path)).Output(); err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				return real, nil
			}
		}
	}
	return path, nil
}

func startProc(ctx context.Context, name string, cmd *exec.Cmd, url, logPath string) (*proc, error) {
	c := newClient(url, 1)
	return startProcWith(ctx, name, cmd, url, logPath, func(ctx context.Context, _ *proc) error {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.ListVaults(rctx, &glacier.ListVaultsInput{})
		return err
	})
}

// startProcWith starts a server and polls ready until it succeeds; the
// time from exec to then is the server's start-up time.
func startProcWith(ctx context.Context, name string, cmd *exec.Cmd, url, logPath string, ready func(context.Context, *proc) error) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so stop reaches whatever it spawns; and it
	// dies with the harness, even a killed one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, url: url, log: logf, exited: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(ctx, ready, start, 2*time.Minute); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not become ready: %w (log: %s)", name, err, logPath)
	}
	return p, nil
}

// waitReady polls, as tightly as is reasonable, until the port accepts
// connections and ready succeeds; the time from start is the start-up
// time.
func (p *proc) waitReady(ctx context.Context, ready func(context.Context, *proc) error, start time.Time, limit time.Duration) error {
	host := strings.TrimPrefix(p.url, "http://")
	deadline := start.Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("exited: %v", p.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		conn, err := net.DialTimeout("tcp", host, 100*time.Millisecond)
		if err != nil {
			last = err
			time.Sleep(time.Millisecond)
			continue
		}
		conn.Close()
		if err = ready(ctx, p); err == nil {
			p.startup = time.Since(start)
			return nil
		}
		last = err
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("timed out after %v: %v", limit, last)
}

// stop asks the server to shut down (SIGTERM to its process group) and
// kills it if it has not exited within 30 s.
func (p *proc) stop() error {
	if p == nil {
		return nil
	}
	defer p.log.Close()
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
		return errors.New(p.name + " did not stop within 30 s; killed")
	}
	return nil
}

// memory reads the process's resident set now (VmRSS) and its peak
// (VmHWM), in MiB.
func (p *proc) memory() (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			peak = kb / 1024
		}
	}
	return rss, peak, sc.Err()
}

// cleanEnv returns the environment without variables starting with prefix,
// so that the operator's own PERMAFROST_* settings do not leak into the
// measured server.
func cleanEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}
