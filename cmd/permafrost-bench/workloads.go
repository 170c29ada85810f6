package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
)

// The vaults every server gets: one for uploads and retrieval, one for
// the mixed workload, and a few more so that ListVaults lists a page of
// six (fewer than one page of permafrost's 10, so both servers answer the
// same list).
const (
	benchVault = "bench"
	mixedVault = "mixed"
)

var extraVaults = []string{"meta-1", "meta-2", "meta-3", "meta-4"}

// wantServerWorkloads reports whether any workload driven through the
// API (on a running server) is selected.
func (b *bench) wantServerWorkloads() bool {
	return b.want("upload") || b.want("multipart") || b.want("retrieval") || b.want("metadata") || b.want("mixed") || b.want("replay")
}

// serverWorkloads starts the embedded permafrost and moto and runs every
// selected workload on permafrost, then on moto.
func (b *bench) serverWorkloads(ctx context.Context) error {
	if !b.wantServerWorkloads() {
		return nil
	}
	logs := filepath.Join(b.run, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	opts := b.permafrostOpts(filepath.Join(b.run, "data", "permafrost"), filepath.Join(logs, "permafrost.log"), true)
	if b.motoPath != "" {
		b.logf("starting permafrost and moto")
	} else {
		b.logf("starting permafrost")
	}
	p, err := startPermafrost(ctx, opts)
	if err != nil {
		return err
	}
	defer p.stop()
	b.pf = &server{name: "permafrost", proc: p, procs: []*proc{p}, c: newClient(p.url, 64), maxSize: math.MaxInt64, kept: map[int64]string{}}
	if b.motoPath != "" {
		m, err := startMoto(ctx, b.motoPath, filepath.Join(logs, "moto.log"))
		if err != nil {
			b.motoAbsent = "not run: " + oneLine(err)
			b.logf("moto: %v", err)
		} else {
			defer func() { m.stop(); b.moto = nil }()
			b.motoRan = true
			b.moto = &server{name: "moto", proc: m, procs: []*proc{m}, c: newClient(m.url, 64), maxSize: b.cfg.motoMaxSize, kept: map[int64]string{}}
		}
	}
	if err := b.runWorkloads(ctx); err != nil {
		return err
	}
	// What the servers held at their busiest, over all the workloads above.
	row := Row{ID: "rss/workloads", Section: "Memory", Name: "peak RSS over the workloads above", Unit: "MiB", Memory: true}
	row.PF = peakOf(b.pf)
	row.Moto = missing(b.motoAbsent)
	if b.moto != nil {
		row.Moto = peakOf(b.moto)
		row.Note = "moto holds archives in memory"
	}
	b.addRow(row)
	return ctx.Err()
}

// runWorkloads creates the vaults on b.pf (and moto) and runs the selected
// workloads.
func (b *bench) runWorkloads(ctx context.Context) error {
	for _, s := range b.servers() {
		for _, v := range append([]string{benchVault, mixedVault}, extraVaults...) {
			if _, err := s.c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(v)}); err != nil {
				return fmt.Errorf("%s: CreateVault: %w", s.name, err)
			}
		}
	}
	if b.want("upload") {
		b.logf("uploads")
		b.uploads(ctx)
	}
	if b.want("multipart") {
		b.logf("multipart uploads")
		b.multipart(ctx)
	}
	if b.want("retrieval") {
		b.logf("retrieval")
		b.retrieval(ctx)
	}
	if b.want("metadata") {
		b.logf("metadata request rates")
		b.metadata(ctx)
	}
	if b.want("mixed") {
		b.logf("mixed workload")
		b.mixed(ctx)
	}
	if b.want("replay") {
		b.logf("server-bound rates (wrk replay)")
		if err := b.replay(ctx); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	return ctx.Err()
}

// peakOf is the peak RSS of a server: of its largest node when it has
// several.
func peakOf(s *server) Result {
	var top float64
	for _, p := range s.procs {
		_, peak, err := p.memory()
		if err != nil {
			return missing("error: " + oneLine(err))
		}
		top = max(top, peak)
	}
	return have(summarize([]float64{top}))
}

func (b *bench) servers() []*server {
	if b.moto == nil {
		return []*server{b.pf}
	}
	return []*server{b.pf, b.moto}
}

// permafrostOpts are the start options for a data dir; profiled selects
// the profiling binary when server profiles are on.
func (b *bench) permafrostOpts(dataDir, logPath string, profiled bool) permafrostOpts {
	o := permafrostOpts{bin: b.bin, dataDir: dataDir, logPath: logPath, logLevel: b.cfg.serverLogLevel}
	if profiled && b.prof.enabled {
		o.bin, o.pprofMode = b.pprofBin, b.pprofMode
	}
	return o
}

// uploads: UploadArchive of 1 MiB, 64 MiB and the large size, one stream.
func (b *bench) uploads(ctx context.Context) {
	b.pipelineCeilings(ctx) // issue #13's references, once per run
	for _, size := range b.sizes() {
		p := b.payload(size)
		id := b.sizeID(size)
		row := Row{ID: "upload/" + id, Section: "Uploads", Unit: "MB/s", Higher: true,
			Name: fmt.Sprintf("UploadArchive %s, single stream", sizeLabel(size)),
			Ceil: append([]string{"write/" + id, "hash1/" + id}, b.s3CeilingIDs(id)...)}
		if n := perRun(size); n > 1 {
			row.Note = fmt.Sprintf("%d uploads per run", n)
		}
		b.both(ctx, row, func(ctx context.Context, s *server) (float64, error) {
			if size > s.maxSize {
				return 0, notSupported("above -moto-max-mib")
			}
			n := perRun(size)
			var ids []string
			d, err := timeIt(func() error {
				for range n {
					id, err := uploadArchive(ctx, s.c, benchVault, p)
					if err != nil {
						return fmt.Errorf("UploadArchive: %w", err)
					}
					ids = append(ids, id)
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
			return mbps(n*size, d), b.cleanUp(ctx, s, size, ids)
		})
	}
}

// cleanUp deletes uploaded archives (untimed), keeping one of the large
// size for the retrieval workload.
func (b *bench) cleanUp(ctx context.Context, s *server, size int64, ids []string) error {
	if size == b.cfg.largeSize && s.kept[size] == "" && len(ids) > 0 {
		s.kept[size] = ids[len(ids)-1]
	}
	var del []string
	for _, id := range ids {
		if id != s.kept[size] {
			del = append(del, id)
		}
	}
	return deleteArchives(ctx, s.c, benchVault, del)
}

// multipart: the large size in parts of -part-mib, 1, 2, 4 and 8 parts in
// flight, from InitiateMultipartUpload to CompleteMultipartUpload.
func (b *bench) multipart(ctx context.Context) {
	large := b.cfg.largeSize
	partSize := min(b.cfg.partSize, large)
	whole := b.payload(large)
	var parts []payload
	for off := int64(0); off < large; off += partSize {
		parts = append(parts, newPayload(b.data[off:min(off+partSize, large)]))
	}
	for _, k := range parallelism {
		row := Row{ID: fmt.Sprintf("multipart/%d", k), Section: "Uploads", Unit: "MB/s", Higher: true,
			Name: fmt.Sprintf("multipart upload %s, %s parts, %d in flight", sizeLabel(large), sizeLabel(partSize), k),
			Ceil: []string{fmt.Sprintf("write-par/%d", k), "hashN/large"}}
		if k == 1 {
			row.Ceil = []string{"write/large", "hash1/large"}
		}
		b.both(ctx, row, func(ctx context.Context, s *server) (float64, error) {
			if large > s.maxSize {
				return 0, notSupported("above -moto-max-mib")
			}
			var archive string
			d, err := timeIt(func() (err error) {
				archive, err = multipartUpload(ctx, s, parts, partSize, whole.tree, k)
				return err
			})
			if err != nil {
				return 0, err
			}
			return mbps(large, d), deleteArchives(ctx, s.c, benchVault, []string{archive})
		})
	}
}

func multipartUpload(ctx context.Context, s *server, parts []payload, partSize int64, tree string, inFlight int) (string, error) {
	init, err := s.c.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{
		VaultName: aws.String(benchVault),
		PartSize:  aws.String(strconv.FormatInt(partSize, 10)),
	})
	if err != nil {
		if s.name == "moto" {
			return "", notSupported("moto has no multipart upload")
		}
		return "", fmt.Errorf("InitiateMultipartUpload: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, inFlight)
	var wg sync.WaitGroup
	var total int64
	for range inFlight {
		wg.Go(func() {
			for i := range next {
				p := parts[i]
				start := int64(i) * partSize
				_, err := s.c.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{
					VaultName: aws.String(benchVault),
					UploadId:  init.UploadId,
					Range:     aws.String(fmt.Sprintf("bytes %d-%d/*", start, start+int64(len(p.data))-1)),
					Checksum:  aws.String(p.tree),
					Body:      bytes.NewReader(p.data),
				}, withPayloadHash(p.linear))
				if err != nil {
					errs <- fmt.Errorf("UploadMultipartPart: %w", err)
					cancel()
					return
				}
			}
		})
	}
feed:
	for i, p := range parts {
		total += int64(len(p.data))
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return "", err
	default:
	}
	out, err := s.c.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{
		VaultName:   aws.String(benchVault),
		UploadId:    init.UploadId,
		ArchiveSize: aws.String(strconv.FormatInt(total, 10)),
		Checksum:    aws.String(tree),
	})
	if err != nil {
		return "", fmt.Errorf("CompleteMultipartUpload: %w", err)
	}
	return aws.ToString(out.ArchiveId), nil
}

// retrieval: an archive-retrieval job for the large archive, then
// GetJobOutput of the whole archive and of random MiB-aligned 1 MiB ranges.
func (b *bench) retrieval(ctx context.Context) {
	large := b.cfg.largeSize
	p := b.payload(large)
	jobs := map[*server]string{}
	job := func(ctx context.Context, s *server) (string, error) {
		if id, ok := jobs[s]; ok {
			return id, nil
		}
		if large > s.maxSize {
			return "", notSupported("above -moto-max-mib")
		}
		if s.kept[large] == "" {
			id, err := uploadArchive(ctx, s.c, benchVault, p)
			if err != nil {
				return "", fmt.Errorf("UploadArchive: %w", err)
			}
			s.kept[large] = id
		}
		out, err := s.c.InitiateJob(ctx, &glacier.InitiateJobInput{
			VaultName: aws.String(benchVault),
			JobParameters: &types.JobParameters{
				Type:      aws.String("archive-retrieval"),
				ArchiveId: aws.String(s.kept[large]),
				Tier:      aws.String("Expedited"),
			},
		})
		if err != nil {
			return "", fmt.Errorf("InitiateJob: %w", err)
		}
		if err := waitJob(ctx, s.c, benchVault, aws.ToString(out.JobId)); err != nil {
			return "", err
		}
		jobs[s] = aws.ToString(out.JobId)
		return jobs[s], nil
	}
	buf := make([]byte, mib)
	whole := func(ctx context.Context, s *server) (float64, error) {
		id, err := job(ctx, s)
		if err != nil {
			return 0, err
		}
		if b.cold {
			dropCaches()
		}
		var n int64
		d, err := timeIt(func() error {
			out, err := s.c.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String(benchVault), JobId: aws.String(id)})
			if err != nil {
				return fmt.Errorf("GetJobOutput: %w", err)
			}
			defer out.Body.Close()
			if out.Checksum != nil && *out.Checksum != p.tree {
				return fmt.Errorf("GetJobOutput: tree hash %s, want %s", *out.Checksum, p.tree)
			}
			n, err = drain(out.Body, buf)
			return err
		})
		if err == nil && n != large {
			err = fmt.Errorf("GetJobOutput returned %d bytes, want %d", n, large)
		}
		return mbps(n, d), err
	}
	ranged := func(ctx context.Context, s *server) (float64, error) {
		id, err := job(ctx, s)
		if err != nil {
			return 0, err
		}
		if b.cold {
			dropCaches()
		}
		rng := rangeOffsets()
		var total int64
		d, err := timeIt(func() error {
			for range randomReads {
				first := rng.Int64N(large/mib) * mib
				out, err := s.c.GetJobOutput(ctx, &glacier.GetJobOutputInput{
					VaultName: aws.String(benchVault), JobId: aws.String(id),
					Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, first+mib-1)),
				})
				if err != nil {
					return fmt.Errorf("GetJobOutput: %w", err)
				}
				n, err := drain(io.LimitReader(out.Body, mib+1), buf)
				out.Body.Close()
				if err != nil {
					return err
				}
				if n != mib {
					if s.name == "moto" && n > mib {
						return notSupported("moto ignores Range (answers the whole archive)")
					}
					return fmt.Errorf("GetJobOutput of 1 MiB returned %d bytes", n)
				}
				total += n
			}
			return nil
		})
		return mbps(total, d), err
	}
	b.withCeiling(ctx, Row{ID: "retrieve/whole", Section: "Retrieval", Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("GetJobOutput, whole %s archive", sizeLabel(large)), Ceil: []string{"read/large"}},
		b.readCeilingRow(), b.seqRead, whole)
	b.withCeiling(ctx, Row{ID: "retrieve/range", Section: "Retrieval", Unit: "MB/s", Higher: true,
		Name: fmt.Sprintf("GetJobOutput, 1 MiB ranges at random MiB offsets (%d per run, one at a time)", randomReads),
		Ceil: []string{"read-rand/1MiB"}},
		b.randReadCeilingRow(), b.randRead, ranged)
}

// withCeiling measures a row like both, but when the ceilings run, each
// permafrost run is preceded by a run of the ceiling, so that a ceiling
// that varies over time (a shared disk) is measured in the same conditions.
func (b *bench) withCeiling(ctx context.Context, row, ceil Row, ceilFn func(context.Context) (float64, error),
	fn func(context.Context, *server) (float64, error)) {
	if b.readFile == "" || b.config != "embedded" {
		b.both(ctx, row, fn)
		return
	}
	res := b.measure(ctx, b.pf, row.Name+" (after its ceiling)", 2, func(ctx context.Context) ([]float64, error) {
		c, err := ceilFn(ctx)
		if err != nil {
			return nil, err
		}
		v, err := fn(ctx, b.pf)
		return []float64{v, c}, err
	})
	row.PF, ceil.PF = res[0], res[1]
	b.report.Ceilings = append(b.report.Ceilings, ceil)
	row.Moto = b.onMoto(ctx, row.Name, func(ctx context.Context) (float64, error) { return fn(ctx, b.moto) })
	b.addRow(row)
}
