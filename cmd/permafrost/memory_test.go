package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/treehash"
)

// TestUploadMemoryStaysFlat uploads 1 GiB in one UploadArchive request
// and 1 GiB as a multipart upload of 64 MiB parts to an in-process server,
// with bodies generated on the fly, and samples the process's heap while
// the bytes flow: client and server together must stay within tens of MiB
// of the baseline. A server (or test) that buffers a body shows up as a
// jump of hundreds of MiB. Both archives must end up stored with the right
// size and tree hash. The multipart archive is then retrieved with a job
// and downloaded, with the same bound on the heap.
func TestUploadMemoryStaysFlat(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 256 << 20
	}
	const (
		partSize  = 64 << 20
		maxGrowth = 64 << 20 // peak heap in use above the baseline
		seed      = 0x5eed_f1a7
	)
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	vault := aws.String("memory")
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: vault}); err != nil {
		t.Fatal(err)
	}

	// The tree hash, from a first pass over the generator. Both archives
	// hold the same bytes; the parts' hashes come from the leaves.
	start := time.Now()
	h := treehash.New()
	if _, err := io.CopyBuffer(h, &flatReader{seed: seed, size: size}, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	want, leaves := h.TreeHash(), h.Leaves()
	t.Logf("hashed %d MiB locally in %v: %s", size>>20, time.Since(start).Round(time.Millisecond), want)

	runtime.GC()
	base := heapInUse()
	sampler := startHeapSampler(20 * time.Millisecond)

	start = time.Now()
	up, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{
		VaultName:          vault,
		ArchiveDescription: aws.String("one request"),
		Checksum:           aws.String(want.String()),
		Body:               &flatReader{seed: seed, size: size},
	})
	if err != nil {
		sampler.stop()
		t.Fatalf("UploadArchive of %d MiB: %v", size>>20, err)
	}
	single := time.Since(start)
	if got := aws.ToString(up.Checksum); got != want.String() {
		t.Errorf("UploadArchive checksum = %s, want %s", got, want)
	}

	start = time.Now()
	init, err := c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName:          vault,
		ArchiveDescription: aws.String("multipart"),
		PartSize:           aws.String(strconv.Itoa(partSize)),
	})
	if err != nil {
		sampler.stop()
		t.Fatal(err)
	}
	for off := int64(0); off < size; off += partSize {
		end := min(off+partSize, size)
		ph := treehash.Reduce(leaves[off>>20 : (end+treehash.ChunkSize-1)>>20])
		out, err := c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{
			VaultName: vault,
			UploadId:  init.UploadId,
			Range:     aws.String(fmt.Sprintf("bytes %d-%d/*", off, end-1)),
			Checksum:  aws.String(ph.String()),
			Body:      &flatReader{seed: seed, base: off, size: end - off},
		})
		if err != nil {
			sampler.stop()
			t.Fatalf("UploadMultipartPart at %d: %v", off, err)
		}
		if got := aws.ToString(out.Checksum); got != ph.String() {
			t.Errorf("part at %d: checksum = %s, want %s", off, got, ph)
		}
	}
	done, err := c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName:   vault,
		UploadId:    init.UploadId,
		ArchiveSize: aws.String(strconv.FormatInt(size, 10)),
		Checksum:    aws.String(want.String()),
	})
	peak, samples := sampler.stop()
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	multi := time.Since(start)

	growth := int64(peak) - int64(base)
	t.Logf("%d MiB in one request: %v; in %d MiB parts: %v", size>>20, single.Round(time.Millisecond), partSize>>20, multi.Round(time.Millisecond))
	t.Logf("heap in use: baseline %.1f MiB, peak %.1f MiB, peak-baseline %.1f MiB (%d samples)",
		float64(base)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20), samples)
	if samples < 10 {
		t.Errorf("only %d heap samples were taken: the measurement saw too little", samples)
	}
	if growth > maxGrowth {
		t.Errorf("heap in use grew by %.1f MiB during the uploads, want at most %d MiB: a body is being buffered", float64(growth)/(1<<20), maxGrowth>>20)
	}

	for _, id := range []string{aws.ToString(up.ArchiveId), aws.ToString(done.ArchiveId)} {
		a, err := ts.stores.meta.Roles().Archives.GetArchive(ctx, id)
		if err != nil {
			t.Errorf("archive %s: %v", id, err)
			continue
		}
		var segs int64
		for _, s := range a.Segments {
			segs += s.Size
		}
		if a.Size != size || a.TreeHash != want || segs != size {
			t.Errorf("archive %q stored as %d bytes (segments %d) %s, want %d %s", a.Description, a.Size, segs, a.TreeHash, size, want)
		}
	}

	// Getting it back: an Expedited retrieval of the multipart archive,
	// completed by advancing the test clock, streamed through a hasher.
	job, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{
		VaultName:     vault,
		JobParameters: &types.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: done.ArchiveId, Tier: aws.String("Expedited")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.advance(t, 61*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := c.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: vault, JobId: job.JobId})
		if err != nil {
			t.Fatal(err)
		}
		if d.Completed {
			if d.StatusCode != types.StatusCodeSucceeded {
				t.Fatalf("retrieval job ended %s: %s", d.StatusCode, aws.ToString(d.StatusMessage))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the retrieval job did not complete within 30 s of the clock reaching its due time")
		}
		time.Sleep(50 * time.Millisecond)
	}
	runtime.GC()
	base = heapInUse()
	sampler = startHeapSampler(20 * time.Millisecond)
	start = time.Now()
	out, err := c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: vault, JobId: job.JobId})
	if err != nil {
		sampler.stop()
		t.Fatal(err)
	}
	got := treehash.New()
	n, err := io.CopyBuffer(got, out.Body, make([]byte, 1<<20))
	out.Body.Close()
	peak, samples = sampler.stop()
	if err != nil || n != size || got.TreeHash() != want || aws.ToString(out.Checksum) != want.String() {
		t.Errorf("GetJobOutput: %d bytes, tree hash %s, header %s, err %v; want %d bytes with %s", n, got.TreeHash(), aws.ToString(out.Checksum), err, size, want)
	}
	growth = int64(peak) - int64(base)
	t.Logf("GetJobOutput of %d MiB: %v; heap in use grew by %.1f MiB (%d samples)", size>>20, time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20), samples)
	if growth > maxGrowth {
		t.Errorf("heap in use grew by %.1f MiB while the archive was downloaded, want at most %d MiB: the output is being buffered", float64(growth)/(1<<20), maxGrowth>>20)
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// heapSampler records the peak of HeapInuse until stopped.
type heapSampler struct {
	quit    chan struct{}
	wg      sync.WaitGroup
	peak    uint64
	samples int
}

func startHeapSampler(every time.Duration) *heapSampler {
	s := &heapSampler{quit: make(chan struct{})}
	s.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			s.peak = max(s.peak, heapInUse())
			s.samples++
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

// startLiveHeapSampler is startHeapSampler measuring the live heap: it
// collects garbage before each sample, so the peak is what is retained
// (a buffered archive), not garbage the collector has not reached yet,
// whose amount depends on when the collector last ran.
func startLiveHeapSampler(every time.Duration) *heapSampler {
	s := &heapSampler{quit: make(chan struct{})}
	s.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			runtime.GC()
			s.peak = max(s.peak, heapInUse())
			s.samples++
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

// stop ends sampling (idempotent) and returns the peak and sample count.
func (s *heapSampler) stop() (uint64, int) {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.wg.Wait()
	return s.peak, s.samples
}

// flatReader is a seekable stream of size pseudo-random bytes: the bytes
// [base, base+size) of an endless stream determined by seed, so that a
// part of an archive is generated independently of the bytes before it.
// It holds no buffer.
type flatReader struct {
	seed uint64
	base int64
	size int64
	off  int64
}

// flatWord is splitmix64 of the word index: fast, and every 8-byte word
// is computed independently.
func flatWord(seed, i uint64) uint64 {
	z := seed + (i+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func flatByte(seed uint64, pos int64) byte {
	return byte(flatWord(seed, uint64(pos)/8) >> (8 * (pos % 8)))
}

func (r *flatReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if rem := r.size - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	pos := r.base + r.off
	n := 0
	for ; n < len(p) && (pos+int64(n))%8 != 0; n++ {
		p[n] = flatByte(r.seed, pos+int64(n))
	}
	for ; n+8 <= len(p); n += 8 {
		binary.LittleEndian.PutUint64(p[n:], flatWord(r.seed, uint64(pos+int64(n))/8))
	}
	for ; n < len(p); n++ {
		p[n] = flatByte(r.seed, pos+int64(n))
	}
	r.off += int64(n)
	return n, nil
}

func (r *flatReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("flatReader: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("flatReader: negative position")
	}
	r.off = offset
	return offset, nil
}
