package glacier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// Integrity: archive bytes are checked against the per-MiB leaf hashes
// stored when they were uploaded, MiB by MiB, before a retrieval job
// succeeds (verifyRange), while GetJobOutput streams (verifiedReader: no
// byte leaves before the MiB holding it matched its leaf), and by the
// scrubber (ScrubArchive). What is found damaged is logged with the
// archive id, counted, and recorded in the metadata store
// (DamagedArchives), where it stays until the archive checks good again or
// is deleted.

// DamageError is wrapped by the error (KindInternal, 500) reported when stored
// bytes do not match their hashes.
type DamageError struct {
	ArchiveID string
	Problem   string // what is wrong, for people
}

func (e *DamageError) Error() string {
	return "archive " + e.ArchiveID + " is damaged: " + e.Problem
}

// DamageRecord is one archive found damaged or missing.
type DamageRecord struct {
	ArchiveID string    `json:"archive_id"`
	AccountID string    `json:"account_id"`
	VaultName string    `json:"vault"`
	Problem   string    `json:"problem"`
	FoundAt   time.Time `json:"found_at"`
	FoundBy   string    `json:"found_by"` // retrieval, download or scrub
}

// damageSetting is the metadata setting holding the damage records (a
// JSON list); damage is rare, so one small record suffices.
const damageSetting = "integrity.damaged_archives"

// maxDamageRecords bounds the record; the count keeps counting.
const maxDamageRecords = 10000

// integrityStats are this process's counters.
type integrityStats struct {
	damageFound     atomic.Int64
	archivesChecked atomic.Int64
	bytesChecked    atomic.Int64
	mu              sync.Mutex // serializes updates of the record
}

// IntegrityCounters are the counters a metrics endpoint can export.
type IntegrityCounters struct {
	DamageFound     int64 // damaged or missing archives found by this process
	ArchivesChecked int64 // archives the scrubber checked completely
	BytesChecked    int64 // bytes verified against leaves (all paths)
}

// IntegrityCounters returns this process's integrity counters.
func (s *Service) IntegrityCounters() IntegrityCounters {
	return IntegrityCounters{
		DamageFound:     s.integrity.damageFound.Load(),
		ArchivesChecked: s.integrity.archivesChecked.Load(),
		BytesChecked:    s.integrity.bytesChecked.Load(),
	}
}

// DamagedArchives returns the archives recorded as damaged or missing that
// still exist, for operators (health output, metrics, scrub).
func (s *Service) DamagedArchives(ctx context.Context) ([]DamageRecord, error) {
	recs, err := s.loadDamage(ctx)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		if _, err := s.Archives.GetArchive(ctx, r.ArchiveID); IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) loadDamage(ctx context.Context) ([]DamageRecord, error) {
	v, err := s.Settings.GetSetting(ctx, damageSetting)
	if err != nil || v == "" {
		return nil, err
	}
	var recs []DamageRecord
	if err := json.Unmarshal([]byte(v), &recs); err != nil {
		return nil, fmt.Errorf("damage record: %w", err)
	}
	return recs, nil
}

// updateDamage applies fn to the stored records.
func (s *Service) updateDamage(ctx context.Context, fn func([]DamageRecord) ([]DamageRecord, bool)) error {
	s.integrity.mu.Lock()
	defer s.integrity.mu.Unlock()
	recs, err := s.loadDamage(ctx)
	if err != nil {
		return err
	}
	recs, changed := fn(recs)
	if !changed {
		return nil
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	return s.Settings.PutSetting(context.WithoutCancel(ctx), damageSetting, string(b))
}

// reportDamage logs, counts and records a damaged or missing archive.
func (s *Service) reportDamage(ctx context.Context, a Archive, problem, foundBy string) {
	s.integrity.damageFound.Add(1)
	s.logger().Error("archive damaged: stored bytes do not match the hashes taken at upload",
		"archive_id", a.ID, "vault", s.VaultARN(a.AccountID, a.VaultName), "problem", problem, "found_by", foundBy)
	rec := DamageRecord{ArchiveID: a.ID, AccountID: a.AccountID, VaultName: a.VaultName, Problem: problem, FoundAt: s.Clock.Now().UTC(), FoundBy: foundBy}
	err := s.updateDamage(ctx, func(recs []DamageRecord) ([]DamageRecord, bool) {
		recs = slices.DeleteFunc(recs, func(r DamageRecord) bool { return r.ArchiveID == a.ID })
		if len(recs) >= maxDamageRecords {
			recs = recs[1:]
		}
		return append(recs, rec), true
	})
	if err != nil {
		s.logger().Warn("recording the damaged archive failed", "archive_id", a.ID, "err", err)
	}
}

// clearDamage forgets a record once the archive checked good again.
func (s *Service) clearDamage(ctx context.Context, id string) {
	err := s.updateDamage(ctx, func(recs []DamageRecord) ([]DamageRecord, bool) {
		n := len(recs)
		recs = slices.DeleteFunc(recs, func(r DamageRecord) bool { return r.ArchiveID == id })
		return recs, len(recs) != n
	})
	if err != nil {
		s.logger().Warn("clearing a damage record failed", "archive_id", id, "err", err)
	}
}

// verifyRange reads the archive's bytes covering [first, last] (extended
// to whole MiBs) and checks them against leaves. It returns a *DamageError
// when the bytes are missing, short or different; other errors (a store
// that cannot be reached) are returned as they are. pace, if set, is
// called with each MiB read (the scrubber's rate limit).
func (s *Service) verifyRange(ctx context.Context, a Archive, leaves []treehash.Hash, first, last int64, foundBy string, pace func(int) error) error {
	r, err := s.newVerifiedReader(ctx, a, leaves, first, last, foundBy)
	if err != nil {
		return err
	}
	defer r.Close()
	if pace == nil {
		_, err := r.WriteTo(io.Discard) // reads ahead, hashes on several cores
		return err
	}
	r.pace = pace
	for {
		r.cur = nil
		if r.pos >= r.b {
			return nil
		}
		if err := r.next(); err != nil {
			return err
		}
	}
}

// verifiedReader serves archive bytes [start, end) after checking every
// MiB they touch against its leaf. It reads whole MiBs (the one holding
// start and the one holding end-1 included) and hands out a MiB only after
// it matched: a damaged MiB ends the stream with a *DamageError before any
// of its bytes are served.
type verifiedReader struct {
	s       *Service
	ctx     context.Context
	a       Archive
	leaves  []treehash.Hash
	src     *segmentReader
	a0, b   int64 // whole-MiB span read: [a0, b)
	pos     int64 // archive offset of the next MiB to read
	start   int64 // served span [start, end)
	end     int64
	buf     *[]byte
	cur     []byte // verified bytes not yet handed out
	pace    func(int) error
	foundBy string // "" when the caller reports damage itself
	err     error
	// reported: the damage was reported (once per reader, though the
	// parallel WriteTo may find several bad MiBs at once).
	reported atomic.Bool
}

func (s *Service) newVerifiedReader(ctx context.Context, a Archive, leaves []treehash.Hash, first, last int64, foundBy string) (*verifiedReader, error) {
	if int64(len(leaves)) != treehash.LeafCount(a.Size) {
		return nil, Errorf(KindInternal, "archive %s has %d stored leaf hashes for %d bytes", a.ID, len(leaves), a.Size)
	}
	a0 := first / treehash.ChunkSize * treehash.ChunkSize
	b := min((last/treehash.ChunkSize+1)*treehash.ChunkSize, a.Size)
	r := &verifiedReader{
		s: s, ctx: ctx, a: a, leaves: leaves,
		src: &segmentReader{ctx: ctx, blobs: s.Blobs, segs: a.Segments, pos: a0, end: b},
		a0:  a0, b: b, pos: a0, start: first, end: last + 1,
		buf: chunkPool.Get().(*[]byte), foundBy: foundBy,
	}
	return r, nil
}

// next reads, verifies and exposes the next MiB.
func (r *verifiedReader) next() error {
	if r.err != nil {
		return r.err
	}
	n := min(int64(treehash.ChunkSize), r.b-r.pos)
	chunk := (*r.buf)[:n]
	if r.err = r.readChunk(chunk, r.pos); r.err == nil {
		r.err = r.checkChunk(chunk, r.pos)
	}
	if r.err != nil {
		return r.err
	}
	if r.pace != nil {
		if err := r.pace(int(n)); err != nil {
			r.err = err
			return err
		}
	}
	lo, hi := max(r.start, r.pos), min(r.end, r.pos+n)
	r.cur = chunk[lo-r.pos : hi-r.pos]
	r.pos += n
	return nil
}

// readChunk fills chunk with the archive's bytes at pos from r.src,
// turning a missing or short blob into damage.
func (r *verifiedReader) readChunk(chunk []byte, pos int64) error {
	got, err := io.ReadFull(r.src, chunk)
	return r.readVerdict(chunk, pos, got, err)
}

// readChunkAt is readChunk reading at pos through at (writeAhead's
// parallel reads).
func (r *verifiedReader) readChunkAt(at *segmentsAt, chunk []byte, pos int64) error {
	got, err := at.ReadFullAt(chunk, pos)
	return r.readVerdict(chunk, pos, got, err)
}

// readVerdict turns the outcome of reading got bytes of chunk at pos into
// nil, damage (a missing or short blob) or the read's error.
func (r *verifiedReader) readVerdict(chunk []byte, pos int64, got int, err error) error {
	switch {
	case err == nil:
		return nil
	case IsNotFound(err):
		r.s.logger().Debug("archive blob missing", "archive_id", r.a.ID, "err", err)
		return r.damage(fmt.Sprintf("its bytes from offset %d are missing from the blob store (blob not found)", pos))
	case err == io.ErrUnexpectedEOF || err == io.EOF || KindOf(err) == KindInternal && got < len(chunk):
		return r.damage(fmt.Sprintf("its bytes end early: %d bytes at offset %d where %d were stored (truncated)", int64(got), pos, len(chunk)))
	}
	return err
}

// checkChunk compares the MiB at pos with its leaf.
func (r *verifiedReader) checkChunk(chunk []byte, pos int64) error {
	if treehash.Hash(sha256.Sum256(chunk)) != r.leaves[pos/treehash.ChunkSize] {
		return r.damage(fmt.Sprintf("the MiB at offset %d does not match its SHA-256 stored at upload (bytes changed on storage)", pos))
	}
	r.s.integrity.bytesChecked.Add(int64(len(chunk)))
	return nil
}

func (r *verifiedReader) damage(problem string) error {
	if r.foundBy != "" && r.reported.CompareAndSwap(false, true) {
		r.s.reportDamage(r.ctx, r.a, problem, r.foundBy)
	}
	return &Error{Kind: KindUnavailable, Message: "The archive's stored bytes are damaged and cannot be served: " + problem, Err: &DamageError{ArchiveID: r.a.ID, Problem: problem}}
}

func (r *verifiedReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.pos >= r.b {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// WriteTo hands each verified MiB to w in one write. Past the first MiBs
// it reads ahead and hashes several MiBs at once on other cores, so the
// hash rate of one core does not bound a download; MiBs are still written
// strictly in order, each only after it matched.
func (r *verifiedReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.cur) > 0 {
			n, err := w.Write(r.cur)
			total += int64(n)
			r.cur = r.cur[n:]
			if err != nil {
				return total, err
			}
		}
		if r.pos >= r.b {
			return total, nil
		}
		if r.err == nil && r.pace == nil && r.b-r.pos > 2*treehash.ChunkSize && runtime.GOMAXPROCS(0) > 1 {
			n, err := r.writeAhead(w)
			return total + n, err
		}
		if err := r.next(); err != nil {
			return total, err
		}
	}
}

// aheadDepth is how many MiBs one download holds in flight in writeAhead
// (read, being hashed, or waiting for their turn to be written): its
// whole buffer memory, whatever the archive's size. Enough that the disk
// keeps reading while the socket and the hashers are busy.
const aheadDepth = 8

// aheadReadsAt is the number of writeAhead's workers, so of MiB reads in
// flight at most, when the blob reader reads at offsets.
const aheadReadsAt = 4

// errAheadStopped marks the MiBs writeAhead no longer checks after it stopped.
var errAheadStopped = errors.New("glacier: read-ahead stopped")

// aheadChunk is one MiB in flight in writeAhead.
type aheadChunk struct {
	buf  *[]byte
	n    int64
	pos  int64
	err  error         // the read-or-hash verdict, set before done closes
	done chan struct{} // closed once err is final
}

// writeAhead serves the rest of the span with read-ahead: one goroutine
// reads MiBs in order into at most aheadDepth buffers, hashers (one per
// core, at most 4) check them against their leaves in parallel, and the
// caller's goroutine writes them strictly in order, each only once its
// verdict says it matched. The first failure (damage, a read error, a
// failed write) stops the reader and the hashers; everything started
// returns before writeAhead does.
//
// When the blob store's reader reads at offsets (BlobReaderAt: the disk
// store with O_DIRECT), the reader goroutine only hands out positions and
// buffers, and the workers (aheadReadsAt of them) each read their MiB at
// its offset, then hash it: several reads are in flight at once, which
// direct reads (no kernel read-ahead) need to keep the disk busy. The
// order of writes, the verdicts and the bound on memory are the same.
func (r *verifiedReader) writeAhead(w io.Writer) (int64, error) {
	depth := aheadDepth
	hashers := min(runtime.GOMAXPROCS(0), 4)
	var at *segmentsAt
	if r.s.readsAt() {
		var err error
		if at, err = newSegmentsAt(r.ctx, r.s.Blobs, r.a.Segments, r.pos); err != nil {
			at = nil // the sequential read meets the error again and reports it
		}
	}
	if at != nil {
		defer at.Close()
		hashers = max(hashers, aheadReadsAt)
	}
	free := make(chan *[]byte, depth)
	for range depth {
		free <- chunkPool.Get().(*[]byte)
	}
	order := make(chan *aheadChunk, depth) // to the writer, in archive order
	work := make(chan *aheadChunk, depth)  // to the hashers
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1 + hashers)
	for range hashers {
		go func() {
			defer wg.Done()
			for c := range work {
				select {
				case <-stop: // nothing more is written: skip the hash
					c.err = errAheadStopped
				default:
					if at != nil {
						c.err = r.readChunkAt(at, (*c.buf)[:c.n], c.pos)
					}
					if c.err == nil {
						c.err = r.checkChunk((*c.buf)[:c.n], c.pos)
					}
				}
				close(c.done)
			}
		}()
	}
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		for pos := r.pos; pos < r.b; {
			var buf *[]byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			c := &aheadChunk{buf: buf, n: min(int64(treehash.ChunkSize), r.b-pos), pos: pos, done: make(chan struct{})}
			if at != nil { // the workers read it
				work <- c
				order <- c
				pos += c.n
				continue
			}
			// c belongs to the hashers once sent to work: err is the
			// producer's own copy of the read's verdict.
			err := r.readChunk((*buf)[:c.n], pos)
			if err != nil {
				c.err = err
				close(c.done)
			} else {
				work <- c // never blocks: at most depth chunks exist
			}
			order <- c // never blocks either
			if err != nil {
				return
			}
			pos += c.n
		}
	}()
	var total int64
	var werr error
	for c := range order {
		<-c.done
		if werr == nil {
			if werr = c.err; werr == nil {
				lo, hi := max(r.start, c.pos), min(r.end, c.pos+c.n)
				var n int
				n, werr = w.Write((*c.buf)[lo-c.pos : hi-c.pos])
				total += int64(n)
				if at != nil {
					at.release(c.pos + c.n)
				}
			}
			if werr != nil {
				close(stop)
			}
			r.pos = c.pos + c.n
		}
		free <- c.buf
	}
	wg.Wait()
	for range depth {
		chunkPool.Put(<-free)
	}
	if werr != nil {
		r.err = werr
	}
	return total, werr
}

func (r *verifiedReader) Close() error {
	if r.buf != nil {
		chunkPool.Put(r.buf)
		r.buf, r.cur = nil, nil
	}
	return r.src.Close()
}

// verifyRetrieval checks the bytes an archive retrieval job will serve. It
// returns the job's failure message when they are damaged or missing, ""
// when they match (or the archive is gone, which FinishJob reports), and
// an error when they could not be read (the job is tried again later).
func (s *Service) verifyRetrieval(ctx context.Context, j Job) (string, error) {
	a, err := s.Archives.GetArchive(ctx, j.ArchiveID)
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	leaves, err := s.Archives.ArchiveLeaves(ctx, a.ID)
	if err != nil {
		return "", err
	}
	err = s.verifyRange(ctx, a, leaves, j.RangeStart, j.RangeEnd, "retrieval", nil)
	var de *DamageError
	if errors.As(err, &de) {
		return "The archive's stored bytes are damaged or missing and cannot be retrieved: " + de.Problem, nil
	}
	return "", err
}
