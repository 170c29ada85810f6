package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/permafrost/permafrost/internal/treehash"
)

// The machine's ceilings, measured in the same run as the servers: what
// this CPU, this disk and Go's own net/http on loopback can do with the
// same bytes. A server can approach them, not pass them.

// sizes are the single-stream upload sizes (1 MiB, 64 MiB and the large
// size), without repeats when -large-mib is small.
func (b *bench) sizes() []int64 {
	var out []int64
	for _, s := range []int64{mib, 64 * mib, b.cfg.largeSize} {
		if s <= b.cfg.largeSize && (len(out) == 0 || out[len(out)-1] != s) {
			out = append(out, s)
		}
	}
	return out
}

// sizeID is the label of a size in row ids: "large" for the large size,
// so that targets find it whatever -large-mib is.
func (b *bench) sizeID(size int64) string {
	if size == b.cfg.largeSize {
		return "large"
	}
	return fmt.Sprintf("%dMiB", size>>20)
}

// perRun is how many times a run repeats a size so that it moves at least
// 64 MiB: one 1 MiB operation is too short to time alone.
func perRun(size int64) int64 { return max(1, 64*mib/size) }

// randomReads is how many 1 MiB ranges one run of the random-read ceiling
// and of the ranged GetJobOutput workload reads.
const randomReads = 64

// parallelism are the multipart "parts in flight" levels.
var parallelism = []int{1, 2, 4, 8}

func (b *bench) ceilings(ctx context.Context) error {
	dir := filepath.Join(b.run, "data", "ceilings")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const sec = "ceilings"
	cores := runtime.GOMAXPROCS(0)
	for _, size := range b.sizes() {
		data := b.data[:size]
		b.ceiling(ctx, Row{ID: "hash1/" + b.sizeID(size), Section: sec, Unit: "MB/s", Higher: true,
			Name: fmt.Sprintf("tree hash + SHA-256 in one pass, %s, 1 core", sizeLabel(size))},
			func(ctx context.Context) (float64, error) {
				n := perRun(size)
				d, _ := timeIt(func() error {
					for range n {
						h := treehash.New()
						h.Write(data)
						h.TreeHash()
						h.Linear()
					}
					return nil
				})
				return mbps(n*size, d), nil
			})
	}
	large := b.cfg.largeSize
	b.ceiling(ctx, Row{ID: "hashN/large", Section: sec, Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("tree hash + SHA-256 in one pass, %s, all %d cores", sizeLabel(large), cores),
		Note: "one goroutine per core, each on its own slice"},
		func(ctx context.Context) (float64, error) {
			d, _ := timeIt(func() error {
				var wg sync.WaitGroup
				for i := range cores {
					part := b.data[int64(i)*large/int64(cores) : int64(i+1)*large/int64(cores)]
					wg.Go(func() { h := treehash.New(); h.Write(part); h.TreeHash() })
				}
				wg.Wait()
				return nil
			})
			return mbps(large, d), nil
		})

	for _, size := range b.sizes() {
		b.ceiling(ctx, Row{ID: "write/" + b.sizeID(size), Section: sec, Unit: "MB/s", Higher: true,
			Name: fmt.Sprintf("sequential write + fsync, %s", sizeLabel(size)),
			Note: "new file, 1 MiB writes, fsync of the file then of its directory, on the data disk"},
			func(ctx context.Context) (float64, error) {
				n := perRun(size)
				var files []string
				d, err := timeIt(func() error {
					for i := range n {
						f := filepath.Join(dir, fmt.Sprintf("w-%d-%d", size, i))
						files = append(files, f)
						if err := writeSynced(f, b.data[:size]); err != nil {
							return err
						}
						if err := syncDir(dir); err != nil {
							return err
						}
					}
					return nil
				})
				for _, f := range files {
					os.Remove(f)
				}
				return mbps(n*size, d), err
			})
	}
	if b.want("multipart") {
		for _, k := range parallelism[1:] {
			b.ceiling(ctx, Row{ID: fmt.Sprintf("write-par/%d", k), Section: sec, Unit: "MB/s", Higher: true,
				Name: fmt.Sprintf("sequential write + fsync, %s as %d files written at once", sizeLabel(large), k)},
				func(ctx context.Context) (float64, error) {
					d, err := timeIt(func() error {
						errs := make([]error, k)
						var wg sync.WaitGroup
						for i := range k {
							part := b.data[int64(i)*large/int64(k) : int64(i+1)*large/int64(k)]
							wg.Go(func() { errs[i] = writeSynced(filepath.Join(dir, fmt.Sprintf("p-%d", i)), part) })
						}
						wg.Wait()
						for _, err := range errs {
							if err != nil {
								return err
							}
						}
						return syncDir(dir)
					})
					for i := range k {
						os.Remove(filepath.Join(dir, fmt.Sprintf("p-%d", i)))
					}
					return mbps(large, d), err
				})
		}
	}
	// The read ceilings read a file written like the others. With the
	// retrieval workload they are measured there, each run right before a
	// GetJobOutput run, so that both see the same disk and host conditions
	// (reads on a shared virtual disk vary a lot over minutes).
	b.readFile = filepath.Join(dir, "read")
	if err := writeSynced(b.readFile, b.data); err != nil {
		return err
	}
	// Read it once, untimed: on this machine's virtual disk the first read
	// of freshly written blocks runs at a third of the speed of every later
	// cold read, and the archive GetJobOutput reads has been read once
	// already (the retrieval job checks it), so without this the reference
	// would be measured in a state the workload never is.
	if f, err := os.Open(b.readFile); err == nil {
		_, err = drain(f, make([]byte, mib))
		f.Close()
		if err != nil {
			return err
		}
	}
	if !b.want("retrieval") {
		b.ceiling(ctx, b.readCeilingRow(), b.seqRead)
		b.ceiling(ctx, b.randReadCeilingRow(), b.randRead)
	}
	return b.httpCeilings(ctx)
}

func (b *bench) cacheState() string {
	if b.cold {
		return "cold: page cache dropped before each run"
	}
	return "warm: from the page cache"
}

func (b *bench) readCeilingRow() Row {
	note := "1 MiB reads, " + b.cacheState()
	if b.want("retrieval") {
		note += "; each run right before a GetJobOutput run"
	}
	return Row{ID: "read/large", Section: "ceilings", Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("sequential read, %s", sizeLabel(b.cfg.largeSize)), Note: note}
}

func (b *bench) randReadCeilingRow() Row {
	note := "one at a time, " + b.cacheState()
	if b.want("retrieval") {
		note += "; each run right before a ranged GetJobOutput run"
	}
	return Row{ID: "read-rand/1MiB", Section: "ceilings", Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("random 1 MiB reads at MiB offsets of a %s file (%d per run)", sizeLabel(b.cfg.largeSize), randomReads),
		Note: note}
}

// seqRead reads the whole read file through a 1 MiB buffer.
func (b *bench) seqRead(ctx context.Context) (float64, error) {
	if b.cold {
		dropCaches()
	}
	buf := make([]byte, mib)
	var n int64
	d, err := timeIt(func() error {
		f, err := os.Open(b.readFile)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err = drain(f, buf)
		return err
	})
	return mbps(n, d), err
}

// randRead reads randomReads MiB-aligned 1 MiB ranges of the read file,
// at the offsets the ranged GetJobOutput workload asks for.
func (b *bench) randRead(ctx context.Context) (float64, error) {
	if b.cold {
		dropCaches()
	}
	f, err := os.Open(b.readFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, mib)
	rng := rangeOffsets()
	large := b.cfg.largeSize
	d, err := timeIt(func() error {
		for range randomReads {
			if _, err := f.ReadAt(buf, rng.Int64N(large/mib)*mib); err != nil {
				return err
			}
		}
		return nil
	})
	return mbps(randomReads*mib, d), err
}

// rangeOffsets is the one sequence of random offsets both the random-read
// ceiling and the ranged GetJobOutput workload use.
func rangeOffsets() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func (b *bench) httpCeilings(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: b.bareHandler()}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: newTransport(64)}
	large := b.cfg.largeSize
	buf := make([]byte, mib)
	const sec = "ceilings"

	b.ceiling(ctx, Row{ID: "http-put/large", Section: sec, Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("bare net/http PUT-discard, %s, loopback", sizeLabel(large))},
		func(ctx context.Context) (float64, error) {
			d, err := timeIt(func() error {
				req, err := http.NewRequestWithContext(ctx, "PUT", url+"/discard", bytes.NewReader(b.data))
				if err != nil {
					return err
				}
				return do(hc, req, buf)
			})
			return mbps(large, d), err
		})
	b.ceiling(ctx, Row{ID: "http-get/large", Section: sec, Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("bare net/http GET from memory, %s, loopback", sizeLabel(large))},
		func(ctx context.Context) (float64, error) {
			d, err := timeIt(func() error {
				req, err := http.NewRequestWithContext(ctx, "GET", url+"/big", nil)
				if err != nil {
					return err
				}
				return do(hc, req, buf)
			})
			return mbps(large, d), err
		})
	for _, c := range clientCounts {
		b.ceiling(ctx, Row{ID: fmt.Sprintf("http-tiny/%d", c), Section: sec, Unit: "req/s", Higher: true,
			Name: fmt.Sprintf("bare net/http tiny GET, %s", clientsLabel(c))},
			func(ctx context.Context) (float64, error) {
				return rate(ctx, c, b.cfg.duration, func(ctx context.Context) error {
					req, err := http.NewRequestWithContext(ctx, "GET", url+"/tiny", nil)
					if err != nil {
						return err
					}
					return do(hc, req, nil)
				})
			})
	}

	// The client alone: the SDK against a handler that answers at once.
	sdk := newClient(url, 64)
	p := b.payload(large)
	b.ceiling(ctx, Row{ID: "sdk-upload/large", Section: sec, Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("SDK client alone: UploadArchive %s to an instant handler", sizeLabel(large)),
		Note: "hashes precomputed, as in the workloads"},
		func(ctx context.Context) (float64, error) {
			d, err := timeIt(func() error { _, err := uploadArchive(ctx, sdk, "bench", p); return err })
			return mbps(large, d), err
		})
	for _, c := range clientCounts {
		b.ceiling(ctx, Row{ID: fmt.Sprintf("sdk-describe/%d", c), Section: sec, Unit: "req/s", Higher: true,
			Name: fmt.Sprintf("SDK client alone: DescribeVault to an instant handler, %s", clientsLabel(c)),
			Note: "SigV4 signing, JSON decoding"},
			func(ctx context.Context) (float64, error) {
				return rate(ctx, c, b.cfg.duration, func(ctx context.Context) error {
					_, err := sdk.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("bench")})
					return err
				})
			})
	}
	return nil
}

// do sends req and reads the whole answer, which must be 2xx.
func do(hc *http.Client, req *http.Request, buf []byte) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if buf != nil {
		_, err = drain(resp.Body, buf)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return err
}

// clientCounts are the concurrency levels of the request-rate workloads.
var clientCounts = []int{1, 16, 64}

// writeSynced writes data to a new file in 1 MiB writes and fsyncs it, as
// the server's blob store does.
func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		k := min(len(data), int(mib))
		if _, err := f.Write(data[:k]); err != nil {
			f.Close()
			return err
		}
		data = data[k:]
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// cannedVault is what the instant handler answers to DescribeVault: the
// shape of a real answer, so the SDK does its full work.
const cannedVault = `{"CreationDate":"2026-01-01T00:00:00.000Z","LastInventoryDate":null,"NumberOfArchives":3,` +
	`"SizeInBytes":3145728,"VaultARN":"arn:aws:glacier:us-east-1:111122223333:vaults/bench","VaultName":"bench"}`

// bareHandler is Go's net/http doing nothing but HTTP: the ceiling of any
// server written on it.
func (b *bench) bareHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /discard", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, mib)
		drain(r.Body, buf)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
		w.Write(b.data)
	})
	mux.HandleFunc("GET /tiny", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	})
	// The SDK's requests, answered at once.
	mux.HandleFunc("GET /{account}/vaults/{vault}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-RequestId", "bench")
		w.Write([]byte(cannedVault))
	})
	mux.HandleFunc("POST /{account}/vaults/{vault}/archives", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, mib)
		drain(r.Body, buf)
		w.Header().Set("Location", "/111122223333/vaults/bench/archives/bench")
		w.Header().Set("x-amz-archive-id", "bench")
		w.Header().Set("x-amz-sha256-tree-hash", r.Header.Get("x-amz-sha256-tree-hash"))
		w.WriteHeader(http.StatusCreated)
	})
	return mux
}
