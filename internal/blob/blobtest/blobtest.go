// Package blobtest is the conformance suite of glacier.BlobStore: every
// implementation's tests call Run, so that all of them keep the contract in
// internal/glacier/store.go the same way (go-cloud's blob/drivertest is the
// model).
//
// Beyond the interface comments, the suite pins down what they leave open:
//
//   - Open with offset == size gives an empty reader; offset > size is an
//     error of KindInvalidParameter; a negative offset is an error; a length
//     reaching past the end gives the bytes up to the end.
//   - Put of an existing key fails and leaves the stored blob as it was; of
//     concurrent Puts of one key exactly one succeeds.
//   - Keys outside the syntax (segments of [a-z0-9-] joined by single '/')
//     are refused by every method with an error.
//   - Put streams: storing 64 MiB must not grow the Go heap by half of that.
//
// Subtests do not run in parallel: the memory check needs a quiet heap and
// the machines running the suite are small.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Run runs the suite. open must return a new, empty store for each call;
// it cleans up after itself with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) glacier.BlobStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s glacier.BlobStore)
	}{
		{"PutOpen", testPutOpen},
		{"PutReaderShapes", testPutReaderShapes},
		{"OpenRange", testOpenRange},
		{"OpenRangeEmptyBlob", testOpenRangeEmptyBlob},
		{"OpenMissing", testOpenMissing},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStops", testListStops},
		{"PutExisting", testPutExisting},
		{"PutSameKeyRace", testPutSameKeyRace},
		{"PutReaderError", testPutReaderError},
		{"PutCancelled", testPutCancelled},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentPutDelete", testConcurrentPutDelete},
		{"LargeStreaming", testLargeStreaming},
		{"InvalidKeys", testInvalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testPutOpen(t *testing.T, s glacier.BlobStore) {
	for _, tc := range []struct {
		key  string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("hello, glacier")},
		{"nested/multi-mib", RandomBytes(1, 3<<20+17)},
	} {
		Put(t, s, tc.key, tc.data)
		if got := Read(t, s, tc.key, 0, -1); !bytes.Equal(got, tc.data) {
			t.Errorf("Open(%s): %s", tc.key, diff(got, tc.data))
		}
	}
}

// testPutReaderShapes feeds Put readers that return few bytes at a time and
// data together with io.EOF.
func testPutReaderShapes(t *testing.T, s glacier.BlobStore) {
	data := RandomBytes(2, 100_003)
	for _, tc := range []struct {
		key string
		r   io.Reader
	}{
		{"one-byte", iotest.OneByteReader(bytes.NewReader(data[:5000]))},
		{"half-data-eof", iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(data)))},
	} {
		want := data
		if tc.key == "one-byte" {
			want = data[:5000]
		}
		n, err := s.Put(context.Background(), tc.key, tc.r)
		if err != nil {
			t.Fatalf("Put(%s): %v", tc.key, err)
		}
		if n != int64(len(want)) {
			t.Errorf("Put(%s) = %d bytes, want %d", tc.key, n, len(want))
		}
		if got := Read(t, s, tc.key, 0, -1); !bytes.Equal(got, want) {
			t.Errorf("Open(%s): %s", tc.key, diff(got, want))
		}
	}
}

func testOpenRange(t *testing.T, s glacier.BlobStore) {
	const size = 300_003
	data := RandomBytes(3, size)
	Put(t, s, "range/blob", data)
	for _, tc := range []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, data},
		{1, -1, data[1:]},
		{size - 1, -1, data[size-1:]},
		{size, -1, nil},
		{size, 5, nil},
		{100, 0, nil},
		{0, 0, nil},
		{100, 1000, data[100:1100]},
		{0, size, data},
		{1 << 17, 1 << 16, data[1<<17 : 1<<17+1<<16]},
		{1000, size, data[1000:]},
		{size - 10, 100, data[size-10:]},
	} {
		got := Read(t, s, "range/blob", tc.offset, tc.length)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Open(offset %d, length %d): %s", tc.offset, tc.length, diff(got, tc.want))
		}
	}
	for _, tc := range []struct{ offset, length int64 }{{size + 1, -1}, {size + 1, 0}, {size + 1000, 10}} {
		rc, err := s.Open(context.Background(), "range/blob", tc.offset, tc.length)
		if err == nil {
			rc.Close()
		}
		if k := glacier.KindOf(err); k != glacier.KindInvalidParameter {
			t.Errorf("Open(offset %d beyond size %d, length %d): err %v of kind %v, want %v", tc.offset, size, tc.length, err, k, glacier.KindInvalidParameter)
		}
	}
	if rc, err := s.Open(context.Background(), "range/blob", -1, -1); err == nil {
		rc.Close()
		t.Errorf("Open(offset -1): no error")
	}
}

func testOpenRangeEmptyBlob(t *testing.T, s glacier.BlobStore) {
	Put(t, s, "empty", nil)
	for _, length := range []int64{-1, 0, 10} {
		if got := Read(t, s, "empty", 0, length); len(got) != 0 {
			t.Errorf("Open(empty, 0, %d) = %d bytes, want 0", length, len(got))
		}
	}
	rc, err := s.Open(context.Background(), "empty", 1, -1)
	if err == nil {
		rc.Close()
	}
	if k := glacier.KindOf(err); k != glacier.KindInvalidParameter {
		t.Errorf("Open(empty, offset 1): err %v of kind %v, want %v", err, k, glacier.KindInvalidParameter)
	}
}

func testOpenMissing(t *testing.T, s glacier.BlobStore) {
	Put(t, s, "present/blob", []byte("x"))
	for _, key := range []string{"missing", "no/such/key", "present/other", "present"} {
		NotVisible(t, s, key)
	}
}

func testDelete(t *testing.T, s glacier.BlobStore) {
	ctx := context.Background()
	Put(t, s, "del/a", []byte("a"))
	Put(t, s, "del/b", []byte("b"))
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatalf("Delete(del/a): %v", err)
	}
	NotVisible(t, s, "del/a")
	if got := Read(t, s, "del/b", 0, -1); string(got) != "b" {
		t.Errorf("del/b after deleting del/a = %q, want %q", got, "b")
	}
	if got := Keys(t, s); !slices.Equal(got, []string{"del/b"}) {
		t.Errorf("List after Delete = %q, want [del/b]", got)
	}
	for _, key := range []string{"del/a", "never/was", "never", "del"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%s) of a missing blob: %v, want nil", key, err)
		}
	}
	// The prefix emptied by the last Delete can be used again.
	if err := s.Delete(ctx, "del/b"); err != nil {
		t.Fatalf("Delete(del/b): %v", err)
	}
	NotVisible(t, s, "del/b")
	Put(t, s, "del/c", []byte("c"))
	if got := Read(t, s, "del/c", 0, -1); string(got) != "c" {
		t.Errorf("del/c = %q, want %q", got, "c")
	}
	if got := Keys(t, s); !slices.Equal(got, []string{"del/c"}) {
		t.Errorf("List = %q, want [del/c]", got)
	}
}

func testList(t *testing.T, s glacier.BlobStore) {
	if got := Keys(t, s); len(got) != 0 {
		t.Fatalf("List of a new store = %q, want nothing", got)
	}
	want := []string{"top", "one/two", "one/three", "one/four/five", "one/empty", "six/seven/eight/nine"}
	before := time.Now()
	for i, key := range want {
		var data []byte
		if key != "one/empty" {
			data = RandomBytes(uint64(10+i), 1000+i)
		}
		Put(t, s, key, data)
	}
	slices.Sort(want)
	if got := Keys(t, s); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	// Loose bounds: a remote store's clock may differ from ours.
	err := s.List(context.Background(), func(key string, modTime time.Time) error {
		if modTime.Before(before.Add(-24*time.Hour)) || modTime.After(time.Now().Add(24*time.Hour)) {
			t.Errorf("List: %s modified at %v, want about %v", key, modTime, before)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
}

func testListStops(t *testing.T, s glacier.BlobStore) {
	for _, key := range []string{"a", "b/c", "d"} {
		Put(t, s, key, []byte(key))
	}
	stop := errors.New("blobtest: stop")
	calls := 0
	err := s.List(context.Background(), func(string, time.Time) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("List with fn failing: err %v, want the error of fn", err)
	}
	if calls != 1 {
		t.Errorf("List called fn %d times after it failed, want 1", calls)
	}
}

func testPutExisting(t *testing.T, s glacier.BlobStore) {
	Put(t, s, "dup/key", []byte("first"))
	if _, err := s.Put(context.Background(), "dup/key", bytes.NewReader([]byte("second"))); err == nil {
		t.Errorf("Put of an existing key: no error")
	}
	if got := Read(t, s, "dup/key", 0, -1); string(got) != "first" {
		t.Errorf("after a second Put, blob = %q, want %q", got, "first")
	}
}

func testPutSameKeyRace(t *testing.T, s glacier.BlobStore) {
	const n = 4
	datas := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		datas[i] = RandomBytes(uint64(20+i), 50_000+i)
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), "race/key", bytes.NewReader(datas[i]))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("concurrent Puts of one key: %d and %d both succeeded", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("concurrent Puts of one key: none succeeded: %v", errs)
	}
	if got := Read(t, s, "race/key", 0, -1); !bytes.Equal(got, datas[winner]) {
		t.Errorf("blob is not the successful Put's data: %s", diff(got, datas[winner]))
	}
}

// readFailure is the error of a reader that fails on purpose.
type readFailure struct{ at int64 }

func (e *readFailure) Error() string { return fmt.Sprintf("blobtest: reader fails at byte %d", e.at) }

func testPutReaderError(t *testing.T, s glacier.BlobStore) {
	data := RandomBytes(4, 3<<20)
	for _, at := range []int64{0, 1000, 3 << 19} {
		key := fmt.Sprintf("fail/at-%d", at)
		fail := &readFailure{at: at}
		r := io.MultiReader(bytes.NewReader(data[:at]), iotest.ErrReader(fail))
		_, err := s.Put(context.Background(), key, r)
		if !errors.Is(err, fail) {
			t.Errorf("Put(%s) with a failing reader: err %v, want the reader's error", key, err)
		}
		var got *readFailure
		if !errors.As(err, &got) || got != fail {
			t.Errorf("Put(%s): errors.As does not find the reader's error in %v", key, err)
		}
		NotVisible(t, s, key)
		// Nothing half-stored blocks the key.
		Put(t, s, key, data[:100])
		if got := Read(t, s, key, 0, -1); !bytes.Equal(got, data[:100]) {
			t.Errorf("Put(%s) after a failed Put: %s", key, diff(got, data[:100]))
		}
	}
	if got := Keys(t, s); len(got) != 3 {
		t.Errorf("List = %q, want the 3 keys stored after the failures", got)
	}
}

// cancellingReader delivers data and cancels its context after after bytes,
// then goes on delivering.
type cancellingReader struct {
	r      io.Reader
	n      int64
	after  int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func testPutCancelled(t *testing.T, s glacier.BlobStore) {
	data := RandomBytes(5, 4<<20)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "cancel/before", bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: err %v, want context.Canceled", err)
	}
	NotVisible(t, s, "cancel/before")

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	r := &cancellingReader{r: bytes.NewReader(data), after: 256 << 10, cancel: cancel}
	if _, err := s.Put(ctx, "cancel/midway", r); !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled midway: err %v, want context.Canceled", err)
	}
	NotVisible(t, s, "cancel/midway")
	if got := Keys(t, s); len(got) != 0 {
		t.Errorf("List after cancelled Puts = %q, want nothing", got)
	}
}

func testConcurrentPuts(t *testing.T, s glacier.BlobStore) {
	const workers, perWorker = 8, 3
	want := map[string][]byte{}
	for w := range workers {
		for k := range perWorker {
			seed := uint64(100 + w*perWorker + k)
			want[fmt.Sprintf("conc/w%d/k%d", w, k)] = RandomBytes(seed, 64<<10+w)
			want[fmt.Sprintf("conc/shared/w%d-k%d", w, k)] = RandomBytes(seed+1000, 10_000+k)
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(keys); i += workers {
				if _, err := s.Put(context.Background(), keys[i], bytes.NewReader(want[keys[i]])); err != nil {
					errs <- fmt.Errorf("Put(%s): %w", keys[i], err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, k := range keys {
		if got := Read(t, s, k, 0, -1); !bytes.Equal(got, want[k]) {
			t.Errorf("Open(%s): %s", k, diff(got, want[k]))
		}
	}
	if got := Keys(t, s); !slices.Equal(got, keys) {
		t.Errorf("List = %q, want %q", got, keys)
	}
}

// testConcurrentPutDelete churns blobs under shared prefixes, so that
// prefixes empty and fill again while other Puts use them.
func testConcurrentPutDelete(t *testing.T, s glacier.BlobStore) {
	const workers, rounds = 4, 15
	var (
		mu   sync.Mutex
		kept []string
	)
	errs := make(chan error, workers*rounds)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			for i := range rounds {
				key := fmt.Sprintf("churn/p%d/w%d-%d", i%2, w, i)
				data := []byte(key)
				if _, err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
					errs <- fmt.Errorf("Put(%s): %w", key, err)
					continue
				}
				if w == 0 && i%5 == 0 {
					mu.Lock()
					kept = append(kept, key)
					mu.Unlock()
					continue
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- fmt.Errorf("Delete(%s): %w", key, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	slices.Sort(kept)
	for _, k := range kept {
		if got := Read(t, s, k, 0, -1); string(got) != k {
			t.Errorf("Open(%s) = %q, want %q", k, got, k)
		}
	}
	if got := Keys(t, s); !slices.Equal(got, kept) {
		t.Errorf("List = %q, want %q", got, kept)
	}
}

func testLargeStreaming(t *testing.T, s glacier.BlobStore) {
	const size = 64 << 20
	r := NewPatternReader(size)
	var peak uint64
	var ms runtime.MemStats
	r.onMiB = func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	n, err := s.Put(context.Background(), "large/stream", r)
	if err != nil {
		t.Fatalf("Put(64 MiB): %v", err)
	}
	if n != size {
		t.Fatalf("Put(64 MiB) = %d bytes, want %d", n, size)
	}
	t.Logf("heap in use grew by %d KiB during Put(64 MiB)", (max(peak, base)-base)>>10)
	if peak > base && peak-base > size/2 {
		t.Errorf("Put(64 MiB) grew the heap by %d MiB: it buffers instead of streaming", (peak-base)>>20)
	}

	want := sha256.New()
	io.Copy(want, NewPatternReader(size))
	rc, err := s.Open(context.Background(), "large/stream", 0, -1)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	got := sha256.New()
	m, err := io.Copy(got, rc)
	if err != nil {
		t.Fatalf("reading the blob: %v", err)
	}
	if m != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("read back %d bytes with SHA-256 %x, want %d bytes with %x", m, got.Sum(nil), size, want.Sum(nil))
	}
	if got := Read(t, s, "large/stream", 50<<20+3, 10); !bytes.Equal(got, patternAt(50<<20+3, 10)) {
		t.Errorf("Open(50 MiB + 3, 10) = %x, want %x", got, patternAt(50<<20+3, 10))
	}
}

func testInvalidKeys(t *testing.T, s glacier.BlobStore) {
	ctx := context.Background()
	for _, key := range []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "../a", "a/..", "a/../b", "./a", "a/./b",
		"../../etc/passwd", "A", "a_b", "a.b", "a b", `a\b`, "a\x00b", "é", "a\n",
	} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte("x"))); err == nil {
			t.Errorf("Put(%q): no error", key)
		}
		if rc, err := s.Open(ctx, key, 0, -1); err == nil {
			rc.Close()
			t.Errorf("Open(%q): no error", key)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q): no error", key)
		}
	}
	if got := Keys(t, s); len(got) != 0 {
		t.Errorf("List after refused Puts = %q, want nothing", got)
	}
}

// Put stores data under key and fails the test if that fails.
func Put(t testing.TB, s glacier.BlobStore, key string, data []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%s) = %d bytes, want %d", key, n, len(data))
	}
}

// Read returns the bytes Open gives for the range and fails the test on any
// error.
func Read(t testing.TB, s glacier.BlobStore, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%s, %d, %d): %v", key, offset, length, err)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("closing %s: %v", key, err)
	}
	return data
}

// NotVisible fails the test unless Open reports key as KindNotFound and List
// does not show it.
func NotVisible(t testing.TB, s glacier.BlobStore, key string) {
	t.Helper()
	rc, err := s.Open(context.Background(), key, 0, -1)
	if err == nil {
		rc.Close()
		t.Errorf("Open(%s): found, want KindNotFound", key)
	} else if !glacier.IsNotFound(err) {
		t.Errorf("Open(%s): err %v of kind %v, want %v", key, err, glacier.KindOf(err), glacier.KindNotFound)
	}
	if slices.Contains(Keys(t, s), key) {
		t.Errorf("List shows %s, want it absent", key)
	}
}

// Keys returns the keys List reports, sorted.
func Keys(t testing.TB, s glacier.BlobStore) []string {
	t.Helper()
	var keys []string
	err := s.List(context.Background(), func(key string, _ time.Time) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(keys)
	return keys
}

// RandomBytes returns n pseudo-random bytes determined by seed.
func RandomBytes(seed uint64, n int) []byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// pattern is the period of PatternReader's output: not a power of two, so
// that bytes moved by a buffer's length do not line up again.
var pattern = RandomBytes(0xb10b, 1<<20+7)

// PatternReader generates size bytes of a fixed pseudo-random pattern
// without holding them: the input of streaming tests and benchmarks. It
// does not implement io.WriterTo, so consumers see it as a plain stream.
type PatternReader struct {
	off, size int64
	onMiB     func() // called after each Read that crosses a MiB boundary
}

// NewPatternReader returns a PatternReader of size bytes.
func NewPatternReader(size int64) *PatternReader { return &PatternReader{size: size} }

func (r *PatternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	n := 0
	for n < len(p) {
		i := (r.off + int64(n)) % int64(len(pattern))
		n += copy(p[n:], pattern[i:])
	}
	before := r.off
	r.off += int64(n)
	if r.onMiB != nil && r.off>>20 != before>>20 {
		r.onMiB()
	}
	return n, nil
}

// patternAt returns n bytes of PatternReader's output from off.
func patternAt(off int64, n int) []byte {
	r := &PatternReader{off: off, size: off + int64(n)}
	b, _ := io.ReadAll(r)
	return b
}

// diff describes how got differs from want without printing megabytes.
func diff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}
