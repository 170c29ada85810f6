package glacier

import (
	"context"
	"io"
	"strconv"

	"github.com/permafrost/permafrost/internal/treehash"
)

// ByteRange is an inclusive range of a job's output; Last < 0 means to the
// end (an open-ended "bytes=first-").
type ByteRange struct {
	First, Last int64
}

// JobOutput is what GetJobOutput serves. The caller closes Body.
type JobOutput struct {
	Job         Job
	Body        io.ReadCloser
	First, Last int64 // the inclusive range served, relative to the output
	Total       int64 // the whole output's size
	Partial     bool  // a range was asked for and honoured
	// TreeHash is the tree hash of the served bytes when the data-plane.md
	// §5.6 rule allows one (archive jobs, tree-hash-aligned slices).
	TreeHash *treehash.Hash
}

// GetJobOutput opens a succeeded job's output, or a range of it
// (operations.md §11.4). Bytes stream from storage: ranges open the blobs
// at an offset, they never read and discard.
func (s *Service) GetJobOutput(ctx context.Context, c *Caller, accountID, vault, id string, r *ByteRange) (JobOutput, error) {
	if _, err := s.authorizeVault(ctx, c, "GetJobOutput", accountID, vault); err != nil {
		return JobOutput{}, err
	}
	j, err := s.getJob(ctx, accountID, vault, id)
	if err != nil {
		return JobOutput{}, err
	}
	if j.Status != JobSucceeded {
		return JobOutput{}, Errorf(KindInvalidParameter, "The job is not currently available for download: %s", id)
	}
	if j.Action == SelectJobAction {
		return JobOutput{}, Errorf(KindInvalidParameter, "Select jobs write their output to Amazon S3, under %s in bucket %s: %s", j.OutputPath(), j.Select.OutputLocation.S3.BucketName, id)
	}
	out := JobOutput{Job: j, Total: j.OutputSize, Last: j.OutputSize - 1}
	if j.Action == ArchiveRetrieval {
		out.Total = j.RetrievalBytes()
		out.Last = out.Total - 1
	}
	if r != nil {
		if r.First < 0 || r.Last >= 0 && r.Last < r.First {
			// The wire layer never sends such a range (it serves the whole
			// output for a Range it cannot honour); refuse it here rather
			// than read backwards.
			return JobOutput{}, Errorf(KindInvalidParameter, "Invalid range: bytes=%d-%s", r.First, lastString(r.Last))
		}
		if r.First >= out.Total {
			return JobOutput{}, Errorf(KindInvalidParameter, "The start of the range is larger than size of retrieved data: bytes=%d-%s", r.First, lastString(r.Last))
		}
		out.First, out.Partial = r.First, true
		if r.Last >= 0 && r.Last < out.Last {
			out.Last = r.Last
		}
	}
	n := out.Last - out.First + 1
	if j.Action == InventoryRetrieval {
		if n <= 0 {
			out.Body = io.NopCloser(eofReader{})
			return out, nil
		}
		out.Body, err = s.Blobs.Open(ctx, j.OutputKey, out.First, n)
		return out, err
	}

	// Archive offsets of the served slice.
	start, end := j.RangeStart+out.First, j.RangeStart+out.Last
	leaves, err := s.Jobs.JobLeaves(ctx, j.ID)
	if err != nil {
		return JobOutput{}, err
	}
	if j.RangeTreeHash != nil && treehash.IsTreeHashAligned(start, end, j.ArchiveSize) {
		if start == j.RangeStart && end == j.RangeEnd {
			out.TreeHash = j.RangeTreeHash
		} else if h, ok := treehash.RangeTreeHash(leaves, start, end, j.ArchiveSize); ok {
			out.TreeHash = &h
		}
	}
	// Every MiB is checked against its leaf before any of it is served.
	// The first is read now, so that a damaged or missing archive is an
	// error response rather than a cut one.
	a := Archive{ID: j.ArchiveID, AccountID: j.AccountID, VaultName: j.VaultName, Size: j.ArchiveSize, Segments: j.Segments}
	vr, err := s.newVerifiedReader(ctx, a, leaves, start, end, "download")
	if err != nil {
		return JobOutput{}, err
	}
	if err := vr.next(); err != nil {
		vr.Close()
		return JobOutput{}, err
	}
	out.Body = vr
	return out, nil
}

func lastString(last int64) string {
	if last < 0 {
		return ""
	}
	return strconv.FormatInt(last, 10)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// segmentReader reads archive bytes [pos, end) across the archive's
// segments, opening each blob at the needed offset only when the read
// reaches it.
type segmentReader struct {
	ctx   context.Context
	blobs BlobStore
	segs  []Segment
	pos   int64 // next archive offset to read
	end   int64 // exclusive
	cur   io.ReadCloser
	curAt int64 // archive offset where cur ends
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for {
		if r.pos >= r.end {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		if room := r.curAt - r.pos; int64(len(p)) > room {
			p = p[:room]
		}
		n, err := r.cur.Read(p)
		r.pos += int64(n)
		if r.pos >= r.curAt || err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if r.pos < r.curAt {
				return n, Errorf(KindInternal, "archive blob ended early at offset %d", r.pos)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// open opens the segment holding r.pos from the right offset, up to the
// segment's end or r.end.
func (r *segmentReader) open() error {
	var base int64
	for _, s := range r.segs {
		if r.pos < base+s.Size {
			stop := min(base+s.Size, r.end)
			rc, err := r.blobs.Open(r.ctx, s.BlobKey, r.pos-base, stop-r.pos)
			if err != nil {
				return err
			}
			r.cur, r.curAt = rc, stop
			return nil
		}
		base += s.Size
	}
	return Errorf(KindInternal, "archive offset %d is beyond its segments", r.pos)
}

// WriteTo copies the rest of the range segment by segment with io.Copy, so
// a blob reader that can hand its file to the destination (sendfile to a
// socket) does so.
func (r *segmentReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.pos < r.end {
		if r.cur == nil {
			if err := r.open(); err != nil {
				return total, err
			}
		}
		n, err := io.Copy(w, r.cur)
		total += n
		r.pos += n
		r.cur.Close()
		r.cur = nil
		if err != nil {
			return total, err
		}
		if r.pos < r.curAt {
			return total, Errorf(KindInternal, "archive blob ended early at offset %d", r.pos)
		}
	}
	return total, nil
}

func (r *segmentReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
