package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/internal/blob/disk"
	pf "github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// The crash test's account, key and vault. The key id is what
// bootstrapCredentials accepts: 16+ upper-case letters and digits.
const (
	crashAccount = "123456789012"
	crashKeyID   = "CRASHTESTKEY0000DUR1"
	crashSecret  = "crash-test-secret-0123456789abcdef"
	crashVault   = "crash"
	// crashCycles is the number of kill cycles of `make test`; the soak
	// (make crash-soak CYCLES=N) sets PERMAFROST_CRASH_CYCLES.
	crashCycles  = 8
	crashWorkers = 4
)

// TestCrashDurability builds the real binary, drives it with concurrent
// uploads, multipart uploads, aborts and deletes, and SIGKILLs it at a
// random moment, several times over one data directory. After every kill
// the server is restarted (so its start-up sweep runs), stopped with
// SIGTERM, and the data directory is checked through the stores:
//
//   - every acknowledged archive is there, with its size and tree hash,
//     and re-reading its blobs gives that tree hash;
//   - every acknowledged delete is still a delete;
//   - nothing appears that was never acknowledged or in flight: every blob
//     on disk belongs to a known archive, a known upload's part, or is the
//     only copy of an upload that was in flight at a kill; the vault's
//     counters equal exactly what those account for;
//   - acknowledged parts of open uploads are there; completed and aborted
//     uploads are in that state;
//   - archives/tmp is empty and no blob is unreferenced.
func TestCrashDurability(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the server binary but is not on PATH (%v); install Go 1.26 from https://go.dev/dl/ and add its bin directory to PATH", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "permafrost")
	start := time.Now()
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	h := &crashHarness{
		t:       t,
		bin:     bin,
		dataDir: filepath.Join(tmp, "data"),
		logPath: filepath.Join(tmp, "server.log"),
		env:     crashEnv(),
		model:   newCrashModel(),
		rng:     rand.New(rand.NewPCG(seed, 0)),
		seed:    seed,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (last 60 lines):\n%s", tailFile(h.logPath, 60))
		}
	})

	cycles := crashCycles
	if v := os.Getenv("PERMAFROST_CRASH_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PERMAFROST_CRASH_CYCLES=%q: want a positive number of cycles", v)
		}
		cycles = n
	}
	for cycle := range cycles {
		// The 8 cycles of make test re-read everything every cycle; the
		// soak every 25th cycle and at the end.
		h.model.rehashAll = cycles <= crashCycles || cycle%25 == 24 || cycle == cycles-1
		h.cycle(cycle)
		if t.Failed() {
			t.Fatalf("cycle %d failed; stopping", cycle)
		}
	}
	m := h.model
	// Every cycle verified every acknowledged archive (size, tree hash of
	// the stored bytes) and delete, and stopped the test on the first
	// loss or corruption: reaching here means none.
	t.Logf("CRASH SOAK RESULT: %d cycles, %d archives acknowledged (%d uploads + %d multipart completes), 0 lost, 0 corrupt",
		cycles, m.stats.uploads+m.stats.completes, m.stats.uploads, m.stats.completes)
	t.Logf("over %d cycles: %d uploads, %d multipart completes, %d deletes, %d aborts acknowledged; %d requests in doubt at a kill (%d single uploads landed, %d not); %d archives present at the end",
		cycles, m.stats.uploads, m.stats.completes, m.stats.deletes, m.stats.aborts, m.stats.inDoubt,
		m.countDoubtful(crashLanded), m.countDoubtful(crashAbsent), m.countArchives(crashPresent))
	if m.stats.uploads == 0 || m.stats.completes == 0 || m.stats.deletes == 0 {
		t.Errorf("the traffic did too little to prove anything: %+v", m.stats)
	}
	if m.stats.inDoubt == 0 {
		t.Errorf("no request was ever in flight at a kill: the kills did not interrupt any traffic")
	}
	h.checkLog()
}

// crashEnv is the child's environment: ours without PERMAFROST_*, plus
// the bootstrap key.
func crashEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERMAFROST_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"PERMAFROST_ACCESS_KEY_ID="+crashKeyID,
		"PERMAFROST_SECRET_ACCESS_KEY="+crashSecret,
		"PERMAFROST_ACCOUNT_ID="+crashAccount,
		// The check compares DescribeVault with the store: live counts.
		"PERMAFROST_INVENTORY_INTERVAL=0",
	)
}

type crashHarness struct {
	t       *testing.T
	bin     string
	dataDir string
	logPath string
	env     []string
	model   *crashModel
	rng     *rand.Rand
	seed    uint64
}

// cycle: start → traffic → SIGKILL → restart (start-up sweep) → SIGTERM →
// verify through the stores.
func (h *crashHarness) cycle(cycle int) {
	t := h.t
	p := h.start()
	c := crashClient(p.url)
	ctx := context.Background()
	if cycle == 0 {
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(crashVault)}); err != nil {
			t.Fatalf("CreateVault: %v", err)
		}
	}

	m := h.model
	m.killed.Store(false)
	firstAck := make(chan struct{})
	m.firstAck = sync.OnceFunc(func() { close(firstAck) })
	var wg sync.WaitGroup
	for w := range crashWorkers {
		rng := rand.New(rand.NewChaCha8(crashSeed(h.seed, cycle, w)))
		wg.Go(func() { (&crashWorker{t: t, m: m, c: c, rng: rng, cycle: cycle, id: w}).run() })
	}
	select {
	case <-firstAck:
	case <-time.After(20 * time.Second):
		t.Errorf("cycle %d: no request acknowledged within 20 s", cycle)
	}
	delay := time.Duration(50+h.rng.IntN(351)) * time.Millisecond
	select {
	case <-time.After(delay):
	case <-p.exited:
		t.Errorf("cycle %d: the server exited on its own during the traffic (%v); log:\n%s", cycle, p.waitErr, tailFile(h.logPath, 30))
	}
	m.killed.Store(true) // from here on a failed request is in doubt
	p.kill()
	wg.Wait()
	t.Logf("cycle %d: killed %v after the first acknowledgement", cycle, delay)

	// The restart runs the start-up housekeeping; then stop it gracefully so that
	// the stores can be opened by the test.
	p = h.start()
	waitHousekeeping(t, p.url) // leftovers are removed in the background
	d, err := crashClient(p.url).DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String(crashVault)})
	if err != nil {
		t.Errorf("DescribeVault after restart: %v", err)
	}
	p.stop()
	h.model.verify(t, h.dataDir, cycle, d)
}

func crashSeed(seed uint64, cycle, worker int) [32]byte {
	var s [32]byte
	copy(s[:], fmt.Sprintf("%016x/%03d/%03d", seed, cycle, worker))
	return s
}

func crashClient(url string) *glacier.Client {
	return glacier.New(glacier.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(crashKeyID, crashSecret, ""),
		HTTPClient:       &http.Client{Timeout: time.Minute},
		RetryMaxAttempts: 1, // a retried upload could land twice: every outcome must be the test's to judge
	})
}

// crashProc is one run of the binary.
type crashProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	exited  chan struct{}
	waitErr error
}

// start runs `permafrost serve` on a free port and waits until it answers.
func (h *crashHarness) start() *crashProc {
	t := h.t
	t.Helper()
	for attempt := 0; ; attempt++ {
		addr := freeLoopbackAddr(t)
		logf, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(h.bin, "serve", "--listen", addr, "--data-dir", h.dataDir, "--log-format", "json")
		cmd.Env = h.env
		cmd.Stdout = logf
		cmd.Stderr = logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start %s: %v", h.bin, err)
		}
		logf.Close()
		p := &crashProc{t: t, cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
		go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
		t.Cleanup(p.kill)
		if p.waitReady(20 * time.Second) {
			return p
		}
		if attempt < 3 && strings.Contains(tailFile(h.logPath, 5), "address already in use") {
			continue // the free port was taken meanwhile
		}
		t.Fatalf("server did not come up on %s (exit: %v)\nlog:\n%s", addr, p.waitErr, tailFile(h.logPath, 30))
	}
}

// waitReady polls until the server answers HTTP at all; false if it exits
// or the time runs out.
func (p *crashProc) waitReady(limit time.Duration) bool {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return false
		default:
		}
		if resp, err := hc.Get(p.url + "/"); err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()
	return false
}

// kill SIGKILLs the process (if it still runs) and waits for it.
func (p *crashProc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and expects a clean exit.
func (p *crashProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			p.t.Errorf("server exited with %v after SIGTERM, want status 0", p.waitErr)
		}
	case <-time.After(40 * time.Second):
		p.kill()
		p.t.Fatalf("server did not exit within 40 s of SIGTERM")
	}
}

func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// checkLog asserts that every line the server logged is a JSON object
// with a level and a message (--log-format json).
func (h *crashHarness) checkLog() {
	f, err := os.Open(h.logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			h.t.Errorf("log line %d is not a JSON log record: %q", lines, sc.Text())
		}
	}
	if lines == 0 {
		h.t.Errorf("the server logged nothing")
	}
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// The model: what the test knows about every archive and upload.

type crashState int

const (
	crashPresent         crashState = iota // 201 received (or found after a doubtful request)
	crashDeleting                          // DeleteArchive in flight
	crashDeleted                           // 204 received (or found gone after a doubtful delete)
	crashDeleteInDoubt                     // DeleteArchive in flight at a kill
	crashUploadOpen                        // initiated and not being worked on
	crashUploadBusy                        // a worker is sending parts or completing it
	crashCompleteInDoubt                   // CompleteMultipartUpload in flight at a kill
	crashCompleted                         // completion acknowledged (or found)
	crashAborting                          // AbortMultipartUpload in flight
	crashAbortInDoubt                      // AbortMultipartUpload in flight at a kill
	crashAborted                           // abort acknowledged (or found)
	crashUnresolved                        // doubtful single upload not yet looked for
	crashLanded                            // doubtful single upload found in the store
	crashAbsent                            // doubtful single upload not in the store
)

type crashArchive struct {
	size  int64
	hash  treehash.Hash
	state crashState
	// rehashed: its bytes were re-read and matched after a restart once.
	rehashed bool
}

type crashPart struct {
	size  int64
	hash  treehash.Hash
	acked bool
}

type crashUpload struct {
	state     crashState
	size      int64
	hash      treehash.Hash
	parts     map[int64]*crashPart // by start: every part sent, acknowledged or not
	archiveID string
}

// crashDoubtful is a single-request upload that was in flight at a kill:
// its archive may or may not exist, and the test never learnt its id.
type crashDoubtful struct {
	size  int64
	hash  treehash.Hash
	state crashState // unresolved, landed or absent
}

type crashModel struct {
	killed   atomic.Bool
	firstAck func()

	mu       sync.Mutex
	archives map[string]*crashArchive
	uploads  map[string]*crashUpload
	doubtful []*crashDoubtful
	stats    struct{ uploads, completes, deletes, aborts, inDoubt int }
	// rehashAll: this cycle re-reads every archive's bytes; otherwise
	// archives re-read before get their metadata, blob sizes and stored
	// leaves checked (the long soak re-reads everything periodically, so
	// its cost stays linear in the cycles).
	rehashAll bool
}

func newCrashModel() *crashModel {
	return &crashModel{archives: map[string]*crashArchive{}, uploads: map[string]*crashUpload{}}
}

func (m *crashModel) countArchives(s crashState) int {
	n := 0
	for _, a := range m.archives {
		if a.state == s {
			n++
		}
	}
	return n
}

func (m *crashModel) countDoubtful(s crashState) int {
	n := 0
	for _, d := range m.doubtful {
		if d.state == s {
			n++
		}
	}
	return n
}

// crashWorker sends requests until the kill.
type crashWorker struct {
	t     *testing.T
	m     *crashModel
	c     *glacier.Client
	rng   *rand.Rand
	cycle int
	id    int
	n     int
}

func (w *crashWorker) run() {
	for !w.m.killed.Load() {
		w.n++
		switch r := w.rng.IntN(100); {
		case r < 45:
			w.upload()
		case r < 65:
			w.multipart()
		case r < 70:
			if !w.abort() {
				w.upload()
			}
		default:
			if !w.delete() {
				w.upload()
			}
		}
	}
}

// inDoubt tells what a failed request means; it takes m.mu, so callers
// must not hold it. A request that fails after
// the kill began is in doubt. Anything else (an error answer at all, or a
// broken connection before the kill) is a server bug.
func (w *crashWorker) inDoubt(op string, err error) bool {
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if errors.As(err, &ae) || errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		w.t.Errorf("%s: the server answered an error to a valid request: %v", op, err)
		return false
	}
	if !w.m.killed.Load() {
		w.t.Errorf("%s failed before the kill: %v", op, err)
		return false
	}
	w.m.mu.Lock()
	w.m.stats.inDoubt++
	w.m.mu.Unlock()
	return true
}

func (w *crashWorker) randomBytes(n int64) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 8 {
		v := w.rng.Uint64()
		for j := i; j < i+8 && j < len(b); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// randomSize is 1 B … 3 MiB, weighted towards the edges that matter.
func (w *crashWorker) randomSize() int64 {
	switch r := w.rng.IntN(10); {
	case r == 0:
		return 1 + w.rng.Int64N(16)
	case r < 4:
		return 1 + w.rng.Int64N(64<<10)
	case r == 4:
		return 1<<20 - 1 + w.rng.Int64N(3) // around one leaf
	default:
		return 1 + w.rng.Int64N(3<<20)
	}
}

func (w *crashWorker) desc() *string {
	return aws.String(fmt.Sprintf("crash cycle %d worker %d op %d", w.cycle, w.id, w.n))
}

func (w *crashWorker) upload() {
	data := w.randomBytes(w.randomSize())
	sum := treehash.Sum(data)
	out, err := w.c.UploadArchive(context.Background(), &glacier.UploadArchiveInput{
		VaultName:          aws.String(crashVault),
		ArchiveDescription: w.desc(),
		Checksum:           aws.String(sum.String()),
		Body:               bytes.NewReader(data),
	})
	m := w.m
	if err != nil {
		if w.inDoubt("UploadArchive", err) {
			m.mu.Lock()
			m.doubtful = append(m.doubtful, &crashDoubtful{size: int64(len(data)), hash: sum, state: crashUnresolved})
			m.mu.Unlock()
		}
		return
	}
	id := aws.ToString(out.ArchiveId)
	if len(id) != 138 || aws.ToString(out.Checksum) != sum.String() {
		w.t.Errorf("UploadArchive answered id %q checksum %q, want a 138-character id and %s", id, aws.ToString(out.Checksum), sum)
	}
	m.mu.Lock()
	m.archives[id] = &crashArchive{size: int64(len(data)), hash: sum, state: crashPresent}
	m.stats.uploads++
	m.mu.Unlock()
	m.firstAck()
}

// multipart uploads 2–4 parts of 1 MiB (the last one shorter) and
// completes the upload.
func (w *crashWorker) multipart() {
	const partSize = 1 << 20
	nparts := 2 + w.rng.IntN(3)
	size := int64(nparts-1)*partSize + 1 + w.rng.Int64N(partSize)
	data := w.randomBytes(size)
	sum := treehash.Sum(data)
	ctx := context.Background()
	m := w.m

	init, err := w.c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName:          aws.String(crashVault),
		ArchiveDescription: w.desc(),
		PartSize:           aws.String(strconv.Itoa(partSize)),
	})
	if err != nil {
		w.inDoubt("InitiateMultipartUpload", err) // an open upload without parts is harmless
		return
	}
	uid := aws.ToString(init.UploadId)
	u := &crashUpload{state: crashUploadBusy, size: size, hash: sum, parts: map[int64]*crashPart{}}
	m.mu.Lock()
	m.uploads[uid] = u
	m.mu.Unlock()
	release := func(s crashState) {
		m.mu.Lock()
		u.state = s
		m.mu.Unlock()
	}

	for start := int64(0); start < size; start += partSize {
		if m.killed.Load() {
			release(crashUploadOpen)
			return
		}
		part := data[start:min(start+partSize, size)]
		ph := treehash.Sum(part)
		p := &crashPart{size: int64(len(part)), hash: ph}
		m.mu.Lock()
		u.parts[start] = p
		m.mu.Unlock()
		out, err := w.c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{
			VaultName: aws.String(crashVault),
			UploadId:  aws.String(uid),
			Range:     aws.String(fmt.Sprintf("bytes %d-%d/*", start, start+int64(len(part))-1)),
			Checksum:  aws.String(ph.String()),
			Body:      bytes.NewReader(part),
		})
		if err != nil {
			w.inDoubt("UploadMultipartPart", err)
			release(crashUploadOpen)
			return
		}
		if aws.ToString(out.Checksum) != ph.String() {
			w.t.Errorf("UploadMultipartPart answered checksum %q, want %s", aws.ToString(out.Checksum), ph)
		}
		m.mu.Lock()
		p.acked = true
		m.mu.Unlock()
	}

	out, err := w.c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName:   aws.String(crashVault),
		UploadId:    aws.String(uid),
		ArchiveSize: aws.String(strconv.FormatInt(size, 10)),
		Checksum:    aws.String(sum.String()),
	})
	if err != nil {
		if w.inDoubt("CompleteMultipartUpload", err) {
			release(crashCompleteInDoubt)
		} else {
			release(crashUploadOpen)
		}
		return
	}
	id := aws.ToString(out.ArchiveId)
	if len(id) != 138 || aws.ToString(out.Checksum) != sum.String() {
		w.t.Errorf("CompleteMultipartUpload answered id %q checksum %q, want a 138-character id and %s", id, aws.ToString(out.Checksum), sum)
	}
	m.mu.Lock()
	u.state = crashCompleted
	u.archiveID = id
	m.archives[id] = &crashArchive{size: size, hash: sum, state: crashPresent}
	m.stats.completes++
	m.mu.Unlock()
	m.firstAck()
}

// delete deletes a random acknowledged archive; false if there is none.
func (w *crashWorker) delete() bool {
	m := w.m
	m.mu.Lock()
	var ids []string
	for id, a := range m.archives {
		if a.state == crashPresent {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		m.mu.Unlock()
		return false
	}
	id := ids[w.rng.IntN(len(ids))]
	a := m.archives[id]
	a.state = crashDeleting
	m.mu.Unlock()

	_, err := w.c.DeleteArchive(context.Background(), &glacier.DeleteArchiveInput{
		VaultName: aws.String(crashVault),
		ArchiveId: aws.String(id),
	})
	doubt := err != nil && w.inDoubt("DeleteArchive", err)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err == nil:
		a.state = crashDeleted
		m.stats.deletes++
	case doubt:
		a.state = crashDeleteInDoubt
	default:
		a.state = crashPresent
	}
	return true
}

// abort aborts an upload left open by an earlier kill; false if none.
func (w *crashWorker) abort() bool {
	m := w.m
	m.mu.Lock()
	var ids []string
	for id, u := range m.uploads {
		if u.state == crashUploadOpen {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		m.mu.Unlock()
		return false
	}
	id := ids[w.rng.IntN(len(ids))]
	u := m.uploads[id]
	u.state = crashAborting
	m.mu.Unlock()

	_, err := w.c.AbortMultipartUpload(context.Background(), &glacier.AbortMultipartUploadInput{
		VaultName: aws.String(crashVault),
		UploadId:  aws.String(id),
	})
	doubt := err != nil && w.inDoubt("AbortMultipartUpload", err)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err == nil:
		u.state = crashAborted
		m.stats.aborts++
	case doubt:
		u.state = crashAbortInDoubt
	default:
		u.state = crashUploadOpen
	}
	return true
}

// verify checks the stopped server's data directory against the model and
// resolves every doubt. apiVault is what DescribeVault answered after the
// restart (nil if it failed).
func (m *crashModel) verify(t *testing.T, dataDir string, cycle int, apiVault *glacier.DescribeVaultOutput) {
	m.mu.Lock()
	defer m.mu.Unlock()

	// Before disk.Open, which empties tmp itself.
	tmpDir := filepath.Join(dataDir, "archives", "tmp")
	entries, err := os.ReadDir(tmpDir)
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	for _, e := range entries {
		t.Errorf("cycle %d: %s left in %s after a restart and a clean stop", cycle, e.Name(), tmpDir)
	}

	meta, err := sqlite.Open(filepath.Join(dataDir, "meta.db"))
	if err != nil {
		t.Fatalf("cycle %d: open metadata: %v", cycle, err)
	}
	defer meta.Close()
	files, err := disk.Open(filepath.Join(dataDir, "archives"))
	if err != nil {
		t.Fatalf("cycle %d: open blobs: %v", cycle, err)
	}
	// Small archives are kept in the metadata database (inline): read,
	// list and hash them as the server does.
	blobs := pf.InlineBlobs(files, meta)
	ctx := context.Background()
	owned := map[string]bool{} // blob keys of the archives and parts the test knows
	var wantCount, wantSize int64

	// Uploads first: a completion in doubt may add an archive.
	for uid, u := range m.uploads {
		got, err := meta.GetUpload(ctx, crashAccount, crashVault, uid)
		if err != nil {
			t.Errorf("cycle %d: upload %s: %v", cycle, uid, err)
			continue
		}
		switch u.state {
		case crashCompleteInDoubt:
			switch got.State {
			case pf.UploadCompleted:
				u.state, u.archiveID = crashCompleted, got.ArchiveID
				m.archives[got.ArchiveID] = &crashArchive{size: u.size, hash: u.hash, state: crashPresent}
			case pf.UploadOpen:
				u.state = crashUploadOpen
			default:
				t.Errorf("cycle %d: upload %s whose completion was in doubt is in state %d", cycle, uid, got.State)
			}
		case crashAbortInDoubt:
			switch got.State {
			case pf.UploadAborted:
				u.state = crashAborted
			case pf.UploadOpen:
				u.state = crashUploadOpen
			default:
				t.Errorf("cycle %d: upload %s whose abort was in doubt is in state %d", cycle, uid, got.State)
			}
		}
		switch u.state {
		case crashCompleted:
			if got.State != pf.UploadCompleted || got.ArchiveID != u.archiveID {
				t.Errorf("cycle %d: completed upload %s: state %d archive %q, want completed with %q", cycle, uid, got.State, got.ArchiveID, u.archiveID)
			}
		case crashAborted:
			if got.State != pf.UploadAborted {
				t.Errorf("cycle %d: aborted upload %s is in state %d", cycle, uid, got.State)
			}
			if parts, err := meta.ListParts(ctx, uid, 0, 0); err != nil || len(parts) > 0 {
				t.Errorf("cycle %d: aborted upload %s still has %d parts (%v)", cycle, uid, len(parts), err)
			}
		case crashUploadOpen:
			if got.State != pf.UploadOpen {
				t.Errorf("cycle %d: upload %s, never completed or aborted, is in state %d", cycle, uid, got.State)
				continue
			}
			m.verifyParts(t, cycle, meta, blobs, uid, u, owned)
		default:
			t.Errorf("cycle %d: upload %s in unexpected test state %d", cycle, uid, u.state)
		}
	}

	for id, a := range m.archives {
		got, err := meta.GetArchive(ctx, id)
		switch a.state {
		case crashPresent:
			if err != nil {
				t.Errorf("cycle %d: acknowledged archive %s (%d bytes) is lost: %v", cycle, id, a.size, err)
				continue
			}
		case crashDeleted:
			if !pf.IsNotFound(err) {
				t.Errorf("cycle %d: archive %s was acknowledged deleted but GetArchive gives %v", cycle, id, err)
			}
			continue
		case crashDeleteInDoubt:
			if pf.IsNotFound(err) {
				a.state = crashDeleted
				continue
			}
			if err != nil {
				t.Errorf("cycle %d: archive %s: %v", cycle, id, err)
				continue
			}
			a.state = crashPresent
		default:
			t.Errorf("cycle %d: archive %s in unexpected test state %d", cycle, id, a.state)
			continue
		}
		wantCount++
		wantSize += a.size
		if m.rehashAll || !a.rehashed {
			verifyCrashArchive(t, cycle, meta, blobs, id, got, a, owned)
			a.rehashed = true
		} else {
			checkCrashArchive(t, cycle, meta, filepath.Join(dataDir, "archives", "blobs"), id, got, a, owned)
		}
	}

	// Every blob is referenced; blobs the test does not know are the only
	// copies of single uploads that were in flight at a kill.
	var foreign []string
	err = blobs.List(ctx, func(key string, _ time.Time) error {
		ref, err := meta.BlobReferenced(ctx, key)
		if err != nil {
			return err
		}
		if !ref {
			t.Errorf("cycle %d: blob %s is referenced by nothing after the start-up sweep", cycle, key)
		}
		if !owned[key] {
			foreign = append(foreign, key)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cycle %d: list blobs: %v", cycle, err)
	}
	matched := map[*crashDoubtful]bool{}
	for _, key := range foreign {
		size, sum, err := crashHashBlob(blobs, key)
		if err != nil {
			t.Errorf("cycle %d: blob %s: %v", cycle, key, err)
			continue
		}
		var d *crashDoubtful
		for _, c := range m.doubtful {
			if !matched[c] && c.size == size && c.hash == sum {
				d = c
				break
			}
		}
		if d == nil {
			t.Errorf("cycle %d: blob %s (%d bytes, tree hash %s) belongs to no acknowledged archive or part and to no request in flight at a kill", cycle, key, size, sum)
			continue
		}
		matched[d] = true
		wantCount++
		wantSize += size
	}
	for _, d := range m.doubtful {
		switch {
		case d.state == crashUnresolved && matched[d]:
			d.state = crashLanded
		case d.state == crashUnresolved:
			d.state = crashAbsent
		case d.state == crashLanded && !matched[d]:
			t.Errorf("cycle %d: an archive of %d bytes (tree hash %s) that had landed from a request in doubt has vanished", cycle, d.size, d.hash)
		case d.state == crashAbsent && matched[d]:
			t.Errorf("cycle %d: an archive of %d bytes (tree hash %s) appeared after an earlier restart had shown it absent", cycle, d.size, d.hash)
		}
	}

	v, err := meta.GetVault(ctx, crashAccount, crashVault)
	if err != nil {
		t.Fatalf("cycle %d: GetVault: %v", cycle, err)
	}
	if v.NumberOfArchives != wantCount || v.SizeInBytes != wantSize {
		t.Errorf("cycle %d: vault counts %d archives / %d bytes, want %d / %d", cycle, v.NumberOfArchives, v.SizeInBytes, wantCount, wantSize)
	}
	// DescribeVault adds Glacier's per-archive overhead to the size.
	if apiVault != nil && (apiVault.NumberOfArchives != v.NumberOfArchives || apiVault.SizeInBytes != v.SizeInBytes+v.NumberOfArchives*pf.PerArchiveOverhead) {
		t.Errorf("cycle %d: DescribeVault answered %d archives / %d bytes, the store holds %d / %d (+%d overhead each)", cycle, apiVault.NumberOfArchives, apiVault.SizeInBytes, v.NumberOfArchives, v.SizeInBytes, pf.PerArchiveOverhead)
	}
	t.Logf("cycle %d: verified %d archives (%d bytes; every byte re-read and hashed: %v), %d blobs", cycle, wantCount, wantSize, m.rehashAll, len(owned)+len(foreign))
}

// verifyParts checks an open upload's stored parts against what was sent.
func (m *crashModel) verifyParts(t *testing.T, cycle int, meta *sqlite.DB, blobs pf.BlobStore, uid string, u *crashUpload, owned map[string]bool) {
	parts, err := meta.ListParts(context.Background(), uid, 0, 0)
	if err != nil {
		t.Errorf("cycle %d: ListParts %s: %v", cycle, uid, err)
		return
	}
	stored := map[int64]bool{}
	for _, p := range parts {
		stored[p.Start] = true
		owned[p.BlobKey] = true
		sent := u.parts[p.Start]
		if sent == nil || sent.size != p.Size || sent.hash != p.TreeHash {
			t.Errorf("cycle %d: upload %s has a part at %d (%d bytes, %s) that was never sent", cycle, uid, p.Start, p.Size, p.TreeHash)
			continue
		}
		size, sum, err := crashHashBlob(blobs, p.BlobKey)
		if err != nil || size != p.Size || sum != p.TreeHash {
			t.Errorf("cycle %d: upload %s part at %d: blob holds %d bytes %s (%v), want %d %s", cycle, uid, p.Start, size, sum, err, p.Size, p.TreeHash)
		}
	}
	for start, p := range u.parts {
		if p.acked && !stored[start] {
			t.Errorf("cycle %d: acknowledged part at %d of upload %s is lost", cycle, start, uid)
		}
	}
}

// verifyCrashArchive re-reads an archive's blobs.
func verifyCrashArchive(t *testing.T, cycle int, meta *sqlite.DB, blobs pf.BlobStore, id string, got pf.Archive, want *crashArchive, owned map[string]bool) {
	if got.Size != want.size || got.TreeHash != want.hash || got.AccountID != crashAccount || got.VaultName != crashVault {
		t.Errorf("cycle %d: archive %s is %d bytes %s in %s/%s, want %d bytes %s", cycle, id, got.Size, got.TreeHash, got.AccountID, got.VaultName, want.size, want.hash)
	}
	all := treehash.New()
	for _, seg := range got.Segments {
		owned[seg.BlobKey] = true
		rc, err := blobs.Open(context.Background(), seg.BlobKey, 0, -1)
		if err != nil {
			t.Errorf("cycle %d: archive %s: blob %s: %v", cycle, id, seg.BlobKey, err)
			return
		}
		h := treehash.New()
		_, err = io.Copy(io.MultiWriter(all, h), rc)
		rc.Close()
		if err != nil || h.Size() != seg.Size || h.TreeHash() != seg.TreeHash {
			t.Errorf("cycle %d: archive %s: blob %s holds %d bytes %s (%v), want %d %s", cycle, id, seg.BlobKey, h.Size(), h.TreeHash(), err, seg.Size, seg.TreeHash)
		}
	}
	if all.Size() != want.size || all.TreeHash() != want.hash {
		t.Errorf("cycle %d: archive %s re-reads as %d bytes %s, want %d %s", cycle, id, all.Size(), all.TreeHash(), want.size, want.hash)
	}
	leaves, err := meta.ArchiveLeaves(context.Background(), id)
	if err != nil || int64(len(leaves)) != treehash.LeafCount(want.size) || treehash.Reduce(leaves) != want.hash {
		t.Errorf("cycle %d: archive %s: %d stored leaves reduce to %s (%v), want %d leaves of %s", cycle, id, len(leaves), treehash.Reduce(leaves), err, treehash.LeafCount(want.size), want.hash)
	}
}

// checkCrashArchive checks an archive re-read in an earlier cycle without
// reading its bytes: its metadata and its blobs' sizes.
func checkCrashArchive(t *testing.T, cycle int, meta *sqlite.DB, blobDir, id string, got pf.Archive, want *crashArchive, owned map[string]bool) {
	if got.Size != want.size || got.TreeHash != want.hash || got.AccountID != crashAccount || got.VaultName != crashVault {
		t.Errorf("cycle %d: archive %s is %d bytes %s in %s/%s, want %d bytes %s", cycle, id, got.Size, got.TreeHash, got.AccountID, got.VaultName, want.size, want.hash)
	}
	var total int64
	for _, seg := range got.Segments {
		owned[seg.BlobKey] = true
		if pf.IsInlineKey(seg.BlobKey) {
			data, err := meta.GetInlineBlob(context.Background(), seg.BlobKey)
			if err != nil || int64(len(data)) != seg.Size {
				t.Errorf("cycle %d: archive %s: inline blob %s: %d bytes, %v (want %d bytes)", cycle, id, seg.BlobKey, len(data), err, seg.Size)
				continue
			}
			total += seg.Size
			continue
		}
		fi, err := os.Stat(filepath.Join(blobDir, filepath.FromSlash(seg.BlobKey)))
		if err != nil || fi.Size() != seg.Size {
			t.Errorf("cycle %d: archive %s: blob %s: %v (want %d bytes)", cycle, id, seg.BlobKey, err, seg.Size)
			continue
		}
		total += seg.Size
	}
	if total != want.size {
		t.Errorf("cycle %d: archive %s: blobs hold %d bytes, want %d", cycle, id, total, want.size)
	}
}

func crashHashBlob(blobs pf.BlobStore, key string) (int64, treehash.Hash, error) {
	rc, err := blobs.Open(context.Background(), key, 0, -1)
	if err != nil {
		return 0, treehash.Hash{}, err
	}
	defer rc.Close()
	h := treehash.New()
	if _, err := io.Copy(h, rc); err != nil {
		return 0, treehash.Hash{}, err
	}
	return h.Size(), h.TreeHash(), nil
}
