package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/permafrost/permafrost/internal/glacier"
)

// JobParameters is InitiateJob's body (operations.md §11.1).
type JobParameters struct {
	Format                       string
	Type                         string
	ArchiveId                    *string
	Description                  string
	SNSTopic                     string
	RetrievalByteRange           *string
	Tier                         string
	InventoryRetrievalParameters *InventoryRetrievalJobInput
	SelectParameters             json.RawMessage
	OutputLocation               json.RawMessage
}

type InventoryRetrievalJobInput struct {
	StartDate string
	EndDate   string
	Limit     string
	Marker    string
}

// GlacierJobDescription is DescribeJob's body, the element of
// ListJobsOutput.JobList and the notification message.
type GlacierJobDescription struct {
	JobId                        string
	JobDescription               *string
	Action                       string
	ArchiveId                    *string
	VaultARN                     string
	CreationDate                 string
	Completed                    bool
	StatusCode                   string
	StatusMessage                string
	ArchiveSizeInBytes           *int64
	InventorySizeInBytes         *int64
	SNSTopic                     *string
	CompletionDate               *string
	SHA256TreeHash               *string
	ArchiveSHA256TreeHash        *string
	RetrievalByteRange           *string
	Tier                         *string                           `json:",omitempty"`
	InventoryRetrievalParameters *InventoryRetrievalJobDescription `json:",omitempty"`
	JobOutputPath                *string                           `json:",omitempty"`
	SelectParameters             json.RawMessage                   `json:",omitempty"`
	OutputLocation               json.RawMessage                   `json:",omitempty"`
}

type InventoryRetrievalJobDescription struct {
	Format    string
	StartDate *string `json:",omitempty"`
	EndDate   *string `json:",omitempty"`
	Limit     *string `json:",omitempty"`
	Marker    *string
}

type ListJobsOutput struct {
	JobList []GlacierJobDescription
	Marker  *string
}

// inventoryDateFormat is ISO-8601 to the second, as inventory filters are
// written (data-plane.md §6.4).
const inventoryDateFormat = "2006-01-02T15:04:05Z"

// JobDescription maps a job to its wire shape (data-plane.md §5.4).
func JobDescription(svc *glacier.Service, j glacier.Job) GlacierJobDescription {
	d := GlacierJobDescription{
		JobId:          j.ID,
		JobDescription: optString(j.Description),
		Action:         string(j.Action),
		VaultARN:       svc.VaultARN(j.AccountID, j.VaultName),
		CreationDate:   formatTime(j.CreatedAt),
		Completed:      j.Status != glacier.JobInProgress,
		StatusCode:     string(j.Status),
		StatusMessage:  j.StatusMessage,
		SNSTopic:       optString(j.SNSTopic),
		CompletionDate: optTime(j.CompletedAt),
	}
	switch j.Action {
	case glacier.ArchiveRetrieval:
		d.ArchiveId = &j.ArchiveID
		d.ArchiveSizeInBytes = &j.ArchiveSize
		d.ArchiveSHA256TreeHash = optString(j.ArchiveTreeHash.String())
		d.RetrievalByteRange = optString(strconv.FormatInt(j.RangeStart, 10) + "-" + strconv.FormatInt(j.RangeEnd, 10))
		if j.RangeTreeHash != nil {
			d.SHA256TreeHash = optString(j.RangeTreeHash.String())
		}
		d.Tier = optString(j.Tier)
	case glacier.InventoryRetrieval:
		if d.Completed && j.Status == glacier.JobSucceeded {
			d.InventorySizeInBytes = &j.OutputSize
		}
		p := &InventoryRetrievalJobDescription{Format: j.Format}
		if !j.StartDate.IsZero() {
			p.StartDate = optString(j.StartDate.UTC().Format(inventoryDateFormat))
		}
		if !j.EndDate.IsZero() {
			p.EndDate = optString(j.EndDate.UTC().Format(inventoryDateFormat))
		}
		if j.Limit > 0 {
			p.Limit = optString(strconv.Itoa(j.Limit))
		}
		// Before completion Marker echoes the input; after, it is the
		// continuation token, null at the end (data-plane.md §6.4).
		if d.Completed {
			p.Marker = optString(j.NextMarker)
		} else {
			p.Marker = optString(j.Marker)
		}
		d.InventoryRetrievalParameters = p
	case glacier.SelectJobAction:
		describeSelect(&d, j)
	}
	return d
}

// JobMessage returns the renderer of a finished job's notification
// message and of a select job's job.txt: the job's DescribeJob JSON
// (data-plane.md §7). It is given to the edges that send them (the
// notifier, the select output), never to the service.
func JobMessage(svc *glacier.Service) func(glacier.Job) string {
	return func(j glacier.Job) string {
		b, err := json.Marshal(JobDescription(svc, j))
		if err != nil {
			panic(err) // wire structs always marshal
		}
		return string(b)
	}
}

// handleInitiateJob: POST /{account}/vaults/{vault}/jobs (§11.1).
func (s *Server) handleInitiateJob(w http.ResponseWriter, r *http.Request, c *call) error {
	var in JobParameters
	if err := decodeJSON(r, &in, "Job Parameters"); err != nil {
		return err
	}
	req, err := jobRequest(in)
	if err != nil {
		return err
	}
	j, err := s.Service.InitiateJob(r.Context(), c.caller, c.account, r.PathValue("vault"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/"+j.AccountID+"/vaults/"+j.VaultName+"/jobs/"+j.ID)
	w.Header().Set("x-amz-job-id", j.ID)
	if p := j.OutputPath(); p != "" {
		w.Header().Set("x-amz-job-output-path", p)
	}
	writeEmpty(w, http.StatusAccepted)
	return nil
}

// present reports whether a raw JSON member was given and is not null.
func present(m json.RawMessage) bool {
	return len(m) > 0 && string(m) != "null"
}

// handleDescribeJob: GET /{account}/vaults/{vault}/jobs/{job} (§11.2).
func (s *Server) handleDescribeJob(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.Service.DescribeJob(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("job"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, JobDescription(s.Service, j))
	return nil
}

// handleListJobs: GET /{account}/vaults/{vault}/jobs?marker=&limit=&statuscode=&completed=
// (§11.3). The marker is the id of the first job of the next page.
func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := parseLimit(r, 50, 50)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var f glacier.JobFilter
	switch v := q.Get("statuscode"); v {
	case "":
	case "InProgress", "Succeeded", "Failed":
		f.Status = glacier.JobStatus(v)
	default:
		return glacier.Errorf(glacier.KindInvalidParameter, "The job status code is not valid: %s", v)
	}
	switch v := q.Get("completed"); v {
	case "":
	case "true", "false":
		b := v == "true"
		f.Completed = &b
	default:
		return glacier.Errorf(glacier.KindInvalidParameter, "Invalid completed value: %q. It must be true or false", v)
	}
	jobs, next, err := s.Service.ListJobs(r.Context(), c.caller, c.account, r.PathValue("vault"), f, q.Get("marker"), limit)
	if err != nil {
		return err
	}
	out := ListJobsOutput{JobList: make([]GlacierJobDescription, len(jobs)), Marker: optString(next)}
	for i, j := range jobs {
		out.JobList[i] = JobDescription(s.Service, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleGetJobOutput: GET /{account}/vaults/{vault}/jobs/{job}/output (§11.4).
// The body streams from storage.
func (s *Server) handleGetJobOutput(w http.ResponseWriter, r *http.Request, c *call) error {
	out, err := s.Service.GetJobOutput(r.Context(), c.caller, c.account, r.PathValue("vault"), r.PathValue("job"), parseRange(r.Header.Get("Range")))
	if err != nil {
		return err
	}
	defer out.Body.Close()
	h := w.Header()
	switch {
	case out.Job.Action == glacier.ArchiveRetrieval:
		h.Set("Content-Type", "application/octet-stream")
		if out.Job.ArchiveDescription != "" {
			h.Set("x-amz-archive-description", out.Job.ArchiveDescription)
		}
	case out.Job.Format == "CSV":
		h.Set("Content-Type", "text/csv")
	default:
		h.Set("Content-Type", "application/json")
	}
	if out.TreeHash != nil {
		h.Set("x-amz-sha256-tree-hash", out.TreeHash.String())
	}
	h.Set("Accept-Ranges", "bytes")
	n := out.Last - out.First + 1
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if out.Partial {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(out.First, 10)+"-"+strconv.FormatInt(out.Last, 10)+"/"+strconv.FormatInt(out.Total, 10))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	// Body holds exactly n bytes; io.Copy lets it hand its files to the
	// socket (sendfile) instead of copying through a buffer.
	if written, err := io.Copy(w, out.Body); err != nil || written != n {
		// The status is sent; all that is left is to cut the connection
		// so the client sees a short body rather than a complete one.
		s.logger().Warn("job output interrupted", "request_id", requestID(r.Context()), "job_id", out.Job.ID, "written", written, "of", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// parseRange reads "bytes=<first>-<last>" or "bytes=<first>-"; anything
// else is ignored, as AWS does (operations.md §11.4).
func parseRange(v string) *glacier.ByteRange {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return nil
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok || !digits(a) || b != "" && !digits(b) {
		return nil
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return nil
	}
	last := int64(-1)
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return nil
		}
	}
	return &glacier.ByteRange{First: first, Last: last}
}
