package glacier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/selectsql"
)

// Glacier Select (data-plane.md §9): a select job runs an SQL expression
// over one CSV archive and writes the records it selects to an
// S3-compatible bucket through SelectOutput, under <Prefix>/<JobId>/:
// job.txt when the job is accepted, results/ as it runs, then
// result_manifest.txt on success or errors/ and error_manifest.txt on a
// data error. The query streams: one record at a time from the archive's
// blobs to result parts of at most SelectPartSize bytes.

// SelectJobAction is the Action of select jobs.
const SelectJobAction JobAction = "Select"

// SelectPartSize is the largest result object a select job writes; the
// results of a larger output are split over several objects.
var SelectPartSize = 16 << 20

// selectClaim is how long a node owns a running select job before another
// node may take it over; the owner renews it while it runs.
const selectClaim = 2 * time.Minute

// SelectNotEnabled is the message of select jobs refused because no output
// store is configured.
const SelectNotEnabled = "Invalid job type: select jobs are not enabled on this server. The operator enables them with permafrost serve --select-output s3://?endpoint=URL&region=R (or by storing archives on S3 with --blobs s3://...)"

// SelectOutput writes the objects of select jobs.
type SelectOutput interface {
	// Put stores body under key in loc's bucket with loc's storage class,
	// tags, metadata, encryption and ACL (where the target supports them).
	Put(ctx context.Context, loc S3Location, key string, body []byte) error
}

// JobDescriptionWriter is a SelectOutput that writes a select job's
// job.txt itself: the job as DescribeJob describes it, a wire form the
// edge renders (internal/selectout with internal/api's renderer). With
// other outputs job.txt holds the job and archive ids.
type JobDescriptionWriter interface {
	// PutJobDescription stores job.txt in the job's folder
	// (<OutputPath>job.txt, with Put's settings).
	PutJobDescription(ctx context.Context, j Job) error
}

// SelectParameters is the select job's query and formats. The select
// types follow the model's shapes; their JSON tags are the form stored with
// the job (EncodeSelectJob), not the wire, which internal/api owns.
type SelectParameters struct {
	InputSerialization  *InputSerialization  `json:",omitempty"`
	ExpressionType      string               `json:",omitempty"`
	Expression          string               `json:",omitempty"`
	OutputSerialization *OutputSerialization `json:",omitempty"`
}

type InputSerialization struct {
	CSV *CSVInput `json:"csv,omitempty"`
}

type OutputSerialization struct {
	CSV *CSVOutput `json:"csv,omitempty"`
}

type CSVInput struct {
	FileHeaderInfo       string `json:",omitempty"`
	Comments             string `json:",omitempty"`
	QuoteEscapeCharacter string `json:",omitempty"`
	RecordDelimiter      string `json:",omitempty"`
	FieldDelimiter       string `json:",omitempty"`
	QuoteCharacter       string `json:",omitempty"`
}

type CSVOutput struct {
	QuoteFields          string `json:",omitempty"`
	QuoteEscapeCharacter string `json:",omitempty"`
	RecordDelimiter      string `json:",omitempty"`
	FieldDelimiter       string `json:",omitempty"`
	QuoteCharacter       string `json:",omitempty"`
}

// OutputLocation is where a select job writes.
type OutputLocation struct {
	S3 *S3Location `json:",omitempty"`
}

type S3Location struct {
	BucketName        string            `json:",omitempty"`
	Prefix            string            `json:",omitempty"`
	Encryption        *Encryption       `json:",omitempty"`
	CannedACL         string            `json:",omitempty"`
	AccessControlList []Grant           `json:",omitempty"`
	Tagging           map[string]string `json:",omitempty"`
	UserMetadata      map[string]string `json:",omitempty"`
	StorageClass      string            `json:",omitempty"`
}

type Encryption struct {
	EncryptionType string `json:",omitempty"`
	KMSKeyId       string `json:",omitempty"`
	KMSContext     string `json:",omitempty"`
}

type Grant struct {
	Grantee    *Grantee `json:",omitempty"`
	Permission string   `json:",omitempty"`
}

type Grantee struct {
	Type         string `json:",omitempty"`
	DisplayName  string `json:",omitempty"`
	URI          string `json:",omitempty"`
	ID           string `json:",omitempty"`
	EmailAddress string `json:",omitempty"`
}

// SelectJob is what a select job stores beyond the common job fields.
type SelectJob struct {
	Parameters     SelectParameters
	OutputLocation OutputLocation
}

// OutputPath is the job's folder in the bucket: <Prefix>/<JobId>/.
func (j Job) OutputPath() string {
	if j.Select == nil || j.Select.OutputLocation.S3 == nil {
		return ""
	}
	p := j.Select.OutputLocation.S3.Prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p + j.ID + "/"
}

// EncodeSelectJob is the stored form of a job's select parameters ("" for
// other jobs); DecodeSelectJob reads it back.
func EncodeSelectJob(s *SelectJob) string {
	if s == nil {
		return ""
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return string(b)
}

func DecodeSelectJob(v string) (*SelectJob, error) {
	if v == "" {
		return nil, nil
	}
	var s SelectJob
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("stored select parameters: %w", err)
	}
	return &s, nil
}

// Enumerations of the model (botocore glacier-2012-06-01).
var (
	selectStorageClasses = []string{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA"}
	selectCannedACLs     = []string{"private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"}
	selectPermissions    = []string{"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"}
	selectGranteeTypes   = []string{"AmazonCustomerByEmail", "CanonicalUser", "Group"}
)

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

// maxSelectPrefix is limits.md's bound on OutputLocation.S3.Prefix.
const maxSelectPrefix = 512

// validateSelect checks the parameters and returns the parsed query and
// the normalized formats.
func validateSelect(p *SelectParameters, o *OutputLocation) (*SelectJob, error) {
	if o == nil || o.S3 == nil {
		return nil, Errorf(KindMissingParameter, "Required parameter missing: OutputLocation.S3")
	}
	loc := *o.S3
	switch {
	case loc.BucketName == "":
		return nil, Errorf(KindMissingParameter, "Required parameter missing: OutputLocation.S3.BucketName")
	case loc.Prefix == "":
		return nil, Errorf(KindMissingParameter, "Required parameter missing: OutputLocation.S3.Prefix")
	case len(loc.Prefix) > maxSelectPrefix:
		return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.Prefix: %d bytes is longer than the maximum of %d", len(loc.Prefix), maxSelectPrefix)
	case loc.StorageClass != "" && !oneOf(loc.StorageClass, selectStorageClasses):
		return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.StorageClass: %q. It must be one of %s", loc.StorageClass, strings.Join(selectStorageClasses, ", "))
	case loc.CannedACL != "" && !oneOf(loc.CannedACL, selectCannedACLs):
		return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.CannedACL: %q. It must be one of %s", loc.CannedACL, strings.Join(selectCannedACLs, ", "))
	}
	if err := checkBucketName(loc.BucketName); err != nil {
		return nil, err
	}
	if e := loc.Encryption; e != nil {
		switch e.EncryptionType {
		case "", "AES256":
			if e.KMSKeyId != "" || e.KMSContext != "" {
				return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.Encryption: KMSKeyId and KMSContext are only allowed with EncryptionType aws:kms")
			}
		case "aws:kms":
		default:
			return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.Encryption.EncryptionType: %q. It must be AES256 or aws:kms", e.EncryptionType)
		}
	}
	for i, g := range loc.AccessControlList {
		if g.Grantee == nil || g.Grantee.Type == "" {
			return nil, Errorf(KindMissingParameter, "Required parameter missing: OutputLocation.S3.AccessControlList[%d].Grantee.Type", i)
		}
		if !oneOf(g.Grantee.Type, selectGranteeTypes) {
			return nil, Errorf(KindInvalidParameter, "Invalid grantee type: %q. It must be one of %s", g.Grantee.Type, strings.Join(selectGranteeTypes, ", "))
		}
		if g.Permission != "" && !oneOf(g.Permission, selectPermissions) {
			return nil, Errorf(KindInvalidParameter, "Invalid permission: %q. It must be one of %s", g.Permission, strings.Join(selectPermissions, ", "))
		}
		who := map[string]string{"CanonicalUser": g.Grantee.ID, "Group": g.Grantee.URI, "AmazonCustomerByEmail": g.Grantee.EmailAddress}[g.Grantee.Type]
		if who == "" {
			return nil, Errorf(KindMissingParameter, "Required parameter missing: the %s grantee of AccessControlList[%d] needs its ID, URI or EmailAddress", g.Grantee.Type, i)
		}
	}
	for k := range loc.Tagging {
		if k == "" || len(k) > 128 {
			return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.Tagging: tag keys are 1 to 128 characters")
		}
	}
	for k := range loc.UserMetadata {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return nil, Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.UserMetadata key: %q", k)
		}
	}

	if p == nil {
		return nil, Errorf(KindMissingParameter, "Required parameter missing: SelectParameters")
	}
	sp := *p
	switch sp.ExpressionType {
	case "SQL":
	case "":
		return nil, Errorf(KindMissingParameter, "Required parameter missing: SelectParameters.ExpressionType")
	default:
		return nil, Errorf(KindInvalidParameter, "Invalid ExpressionType: %q. It must be SQL", sp.ExpressionType)
	}
	if strings.TrimSpace(sp.Expression) == "" {
		return nil, Errorf(KindMissingParameter, "Required parameter missing: SelectParameters.Expression")
	}
	if _, err := selectsql.Parse(sp.Expression); err != nil {
		return nil, Errorf(KindInvalidParameter, "Invalid Select expression: %v", err)
	}
	if _, _, err := selectFormats(sp); err != nil {
		return nil, err
	}
	return &SelectJob{Parameters: sp, OutputLocation: OutputLocation{S3: &loc}}, nil
}

// checkBucketName applies S3's bucket naming rules.
func checkBucketName(b string) error {
	ok := len(b) >= 3 && len(b) <= 63
	for i := 0; ok && i < len(b); i++ {
		c := b[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
	}
	if !ok {
		return Errorf(KindInvalidParameter, "Invalid OutputLocation.S3.BucketName: %q is not a bucket name (3 to 63 lower-case letters, digits, '-' and '.')", b)
	}
	return nil
}

// selectFormats returns the normalized CSV options of the parameters.
func selectFormats(p SelectParameters) (selectsql.CSVInput, selectsql.CSVOutput, error) {
	var in selectsql.CSVInput
	var out selectsql.CSVOutput
	if p.InputSerialization != nil && p.InputSerialization.CSV != nil {
		c := p.InputSerialization.CSV
		in = selectsql.CSVInput{FileHeaderInfo: c.FileHeaderInfo, Comments: c.Comments, QuoteEscapeCharacter: c.QuoteEscapeCharacter,
			RecordDelimiter: c.RecordDelimiter, FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
	}
	if p.OutputSerialization != nil && p.OutputSerialization.CSV != nil {
		c := p.OutputSerialization.CSV
		out = selectsql.CSVOutput{QuoteFields: c.QuoteFields, QuoteEscapeCharacter: c.QuoteEscapeCharacter,
			RecordDelimiter: c.RecordDelimiter, FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
	}
	in, err := in.Normalize()
	if err != nil {
		return in, out, Errorf(KindInvalidParameter, "Invalid InputSerialization.csv: %v", err)
	}
	if out, err = out.Normalize(); err != nil {
		return in, out, Errorf(KindInvalidParameter, "Invalid OutputSerialization.csv: %v", err)
	}
	return in, out, nil
}

// initiateSelectJob validates a select job, checks that the output bucket
// takes writes (job.txt) and stores the job.
func (s *Service) initiateSelectJob(ctx context.Context, c *Caller, j Job, r JobRequest) (Job, error) {
	j.Action = SelectJobAction
	if s.SelectOutput == nil {
		return Job{}, Errorf(KindInvalidParameter, "%s", SelectNotEnabled)
	}
	var err error
	if j.Tier, err = jobTier(r); err != nil {
		return Job{}, err
	}
	sel, err := validateSelect(r.SelectParameters, r.OutputLocation)
	if err != nil {
		return Job{}, err
	}
	j.Select = sel

	a, err := s.authorizeArchiveJob(ctx, c, j.AccountID, j.VaultName, r.ArchiveID)
	if err != nil {
		return Job{}, err
	}
	j.ArchiveID, j.ArchiveSize, j.ArchiveTreeHash, j.ArchiveDescription = a.ID, a.Size, a.TreeHash, a.Description
	j.RangeStart, j.RangeEnd = 0, a.Size-1
	// The limits are checked before job.txt is written, so a refused job
	// leaves nothing in the bucket, and again atomically with the insert:
	// only a job that loses a race for the last place between the two
	// leaves its job.txt behind.
	admit, err := s.retrievalAdmission(ctx, j)
	if err != nil {
		return Job{}, err
	}
	if admit != nil {
		if err := admit(metaView{ctx, s.Jobs, j.AccountID}); err != nil {
			return Job{}, err
		}
	}
	j.DueAt = j.CreatedAt.Add(s.jobDelay(j.Tier))

	// job.txt is written before the job exists: a bucket that does not
	// take writes is reported now, as AWS reports permission problems.
	if err := s.putJobDescription(ctx, j); err != nil {
		return Job{}, Errorf(KindInvalidParameter, "Invalid OutputLocation: writing %sjob.txt to bucket %s failed: %v", j.OutputPath(), j.Select.OutputLocation.S3.BucketName, err)
	}
	audit.Note(ctx, "jobId", j.ID)
	if err := s.createJobIf(ctx, j, admit); err != nil {
		if IsNotFound(err) {
			return Job{}, s.vaultNotFound(j.AccountID, j.VaultName)
		}
		return Job{}, err
	}
	// Even a job due at once runs in the scheduler, not in the request:
	// a large archive takes a while.
	s.wakeScheduler()
	return j, nil
}

// putJobDescription writes the select job's job.txt.
func (s *Service) putJobDescription(ctx context.Context, j Job) error {
	if w, ok := s.SelectOutput.(JobDescriptionWriter); ok {
		return w.PutJobDescription(ctx, j)
	}
	b, _ := json.Marshal(struct{ JobId, ArchiveId string }{j.ID, j.ArchiveID})
	return s.putSelectObject(ctx, j, "job.txt", append(b, '\n'))
}

func (s *Service) putSelectObject(ctx context.Context, j Job, name string, body []byte) error {
	return s.SelectOutput.Put(ctx, *j.Select.OutputLocation.S3, j.OutputPath()+name, body)
}

// runSelectJob runs a due select job and sets its final status. It returns
// an error, leaving the job in progress for a later attempt, only when the
// output bucket or the stores fail; data errors fail the job.
func (s *Service) runSelectJob(ctx context.Context, j *Job) error {
	if j.Select == nil || j.Select.OutputLocation.S3 == nil {
		j.Status, j.StatusMessage = JobFailed, "The job's select parameters are missing"
		return nil
	}
	if s.SelectOutput == nil {
		// A node without an output store leaves the job to the nodes
		// that have one (the one that accepted it did).
		return Errorf(KindConflict, "select jobs are not enabled on this node")
	}
	// Lease the job so that other nodes do not run it too; renew the lease
	// while it runs.
	until := s.Clock.Now().Add(selectClaim)
	claimed, err := s.Jobs.ClaimJob(ctx, j.ID, j.DueAt, until)
	if err != nil {
		return err
	}
	if !claimed {
		return Errorf(KindConflict, "running on another node")
	}
	parent := ctx
	runCtx, cancel := context.WithCancel(ctx)
	renewed := make(chan time.Time, 1)
	go func() {
		defer func() { renewed <- until }()
		t := time.NewTicker(selectClaim / 4)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				next := s.Clock.Now().Add(selectClaim)
				ok, err := s.Jobs.ClaimJob(runCtx, j.ID, until, next)
				if err != nil || !ok {
					if runCtx.Err() == nil {
						s.logger().Warn("select job lease lost; stopping", "job_id", j.ID, "err", err)
						cancel()
					}
					return
				}
				until = next
			}
		}
	}()
	defer func() {
		cancel()
		last := <-renewed
		// Stopped by a shutdown: hand the job back at its due time, so
		// that the next node (or this one restarted) resumes it at once.
		if parent.Err() != nil {
			if _, err := s.Jobs.ClaimJob(context.WithoutCancel(parent), j.ID, last, j.DueAt); err != nil {
				s.logger().Warn("releasing the select job's lease failed; it resumes when the lease ends", "job_id", j.ID, "err", err)
			}
		}
	}()
	ctx = runCtx

	sp := j.Select.Parameters
	q, err := selectsql.Parse(sp.Expression)
	if err != nil { // validated at InitiateJob
		j.Status, j.StatusMessage = JobFailed, "Invalid Select expression: "+err.Error()
		return nil
	}
	in, out, err := selectFormats(sp)
	if err != nil {
		j.Status, j.StatusMessage = JobFailed, err.Error()
		return nil
	}
	a, err := s.Archives.GetArchive(ctx, j.ArchiveID)
	if IsNotFound(err) {
		j.Status, j.StatusMessage = JobFailed, "The archive was deleted before the job completed: "+j.ArchiveID
		return s.reportFailure(ctx, j)
	}
	if err != nil {
		return err
	}

	archive := &blobsReader{ctx: ctx, s: s, segs: a.Segments}
	defer archive.Close()
	parts := &partWriter{ctx: ctx, s: s, j: *j}
	st, runErr := selectsql.Run(q, archive, in, parts, out, s.Clock.Now())
	if runErr == nil {
		runErr = parts.Close()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if runErr != nil {
		var outErr *selectOutputError
		if errors.As(runErr, &outErr) && outputGone(outErr.err) {
			return s.selectUnwritable(j, outErr.err)
		}
		if outErr != nil || errors.Is(runErr, errArchiveRead) {
			return runErr // the stores failed: try again later
		}
		j.Status, j.StatusMessage = JobFailed, "Select failed: "+runErr.Error()
		return s.reportFailure(ctx, j)
	}
	var manifest strings.Builder
	for _, k := range parts.keys {
		manifest.WriteString(k + "\n")
	}
	if err := s.putSelectObject(ctx, *j, "result_manifest.txt", []byte(manifest.String())); outputGone(err) {
		return s.selectUnwritable(j, err)
	} else if err != nil {
		return err
	}
	j.Status, j.StatusMessage = JobSucceeded, "Succeeded"
	s.logger().Info("select job done", "job_id", j.ID, "records_read", st.RecordsRead, "records_written", st.RecordsWritten, "bytes_read", st.BytesRead)
	return nil
}

// outputGone reports whether writing failed for a reason retries do not
// fix: the bucket is gone or no longer writable.
func outputGone(err error) bool {
	k := KindOf(err)
	return err != nil && (k == KindNotFound || k == KindAccessDenied)
}

// selectUnwritable fails a job whose output location refuses its writes;
// there is nowhere to put an error report.
func (s *Service) selectUnwritable(j *Job, err error) error {
	msg := MessageOf(err)
	if msg == "" {
		msg = err.Error()
	}
	j.Status, j.StatusMessage = JobFailed, "Select failed: writing the output failed: "+msg
	s.logger().Warn("select job output refused", "job_id", j.ID, "err", err)
	return nil
}

// reportFailure writes the error report of a failed job; an output
// location that refuses it leaves the job failed without one.
func (s *Service) reportFailure(ctx context.Context, j *Job) error {
	err := s.selectFailed(ctx, j)
	if outputGone(err) {
		s.logger().Warn("select job error report refused", "job_id", j.ID, "err", err)
		return nil
	}
	return err
}

// selectFailed writes the error report of a failed select job.
func (s *Service) selectFailed(ctx context.Context, j *Job) error {
	key := "errors/" + j.ID + ".txt"
	if err := s.putSelectObject(ctx, *j, key, []byte(j.StatusMessage+"\n")); err != nil {
		return err
	}
	return s.putSelectObject(ctx, *j, "error_manifest.txt", []byte(j.OutputPath()+key+"\n"))
}

var errArchiveRead = errors.New("reading the archive failed")

// blobsReader reads an archive's segments in order, opening one blob at a
// time.
type blobsReader struct {
	ctx  context.Context
	s    *Service
	segs []Segment
	cur  io.ReadCloser
}

func (r *blobsReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err // stopping: the job stays in progress
	}
	for {
		if r.cur == nil {
			if len(r.segs) == 0 {
				return 0, io.EOF
			}
			rc, err := r.s.Blobs.Open(r.ctx, r.segs[0].BlobKey, 0, -1)
			if err != nil {
				return 0, fmt.Errorf("%w: %v", errArchiveRead, err)
			}
			r.cur, r.segs = rc, r.segs[1:]
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("%w: %v", errArchiveRead, err)
		}
		return n, nil
	}
}

func (r *blobsReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

type selectOutputError struct{ err error }

func (e *selectOutputError) Error() string { return "writing results: " + e.err.Error() }
func (e *selectOutputError) Unwrap() error { return e.err }

// partWriter buffers results and writes them as objects of at most
// SelectPartSize bytes: results/<JobId>_00000.csv and so on.
type partWriter struct {
	ctx  context.Context
	s    *Service
	j    Job
	buf  bytes.Buffer
	keys []string
}

func (w *partWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := SelectPartSize - w.buf.Len()
		if room > len(p) {
			room = len(p)
		}
		w.buf.Write(p[:room])
		p = p[room:]
		if w.buf.Len() >= SelectPartSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *partWriter) flush() error {
	name := fmt.Sprintf("results/%s_%05d.csv", w.j.ID, len(w.keys))
	if err := w.s.putSelectObject(w.ctx, w.j, name, w.buf.Bytes()); err != nil {
		return &selectOutputError{err}
	}
	w.keys = append(w.keys, w.j.OutputPath()+name)
	w.buf.Reset()
	return nil
}

// Close writes the last part; a job that selects nothing writes none.
func (w *partWriter) Close() error {
	if w.buf.Len() == 0 {
		return nil
	}
	return w.flush()
}

// ignoreConflict treats a job claimed by another node as no error.
func ignoreConflict(err error) error {
	if KindOf(err) == KindConflict {
		return nil
	}
	return err
}
