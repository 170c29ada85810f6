package glacier

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/treehash"
)

// Job tiers (data-plane.md §5.2).
const (
	TierExpedited = "Expedited"
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
)

// DefaultJobDelays are the documented lower bounds of each tier's
// completion time; "inventory" is the delay of inventory jobs.
var DefaultJobDelays = map[string]time.Duration{
	TierExpedited: time.Minute,
	TierStandard:  3 * time.Hour,
	TierBulk:      5 * time.Hour,
	"inventory":   3 * time.Hour,
}

// DefaultJobRetention is how long a completed job and its output remain
// available (data-plane.md §5.3).
const DefaultJobRetention = 24 * time.Hour

// JobRequest is InitiateJob's parameters, parsed by the wire layer into
// domain values (data-plane.md §5.1): which members each job type allows,
// the tier, the range's syntax and the inventory filters are checked there.
// The service checks the rest: the description, the topic, the select
// query and output, and what needs the store (the vault, the archive and
// the range against its size, the limits).
type JobRequest struct {
	// Type is ArchiveRetrieval, InventoryRetrieval or SelectJobAction.
	Type        JobAction
	Description string
	SNSTopic    string
	// ArchiveID and Tier (TierExpedited, TierStandard or TierBulk) of
	// archive-retrieval and select jobs.
	ArchiveID string
	Tier      string
	// Range is an archive-retrieval job's RetrievalByteRange; nil for the
	// whole archive.
	Range *RetrievalRange
	// Inventory is an inventory-retrieval job's format and filters.
	Inventory InventoryRequest
	// SelectParameters and OutputLocation of select jobs; nil when absent.
	SelectParameters *SelectParameters
	OutputLocation   *OutputLocation
}

// RetrievalRange is the bytes Start through End (inclusive) of an archive.
type RetrievalRange struct{ Start, End int64 }

func (r RetrievalRange) String() string {
	return strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10)
}

// InventoryRequest is an inventory job's format ("JSON" or "CSV") and
// filters: archives created at or after StartDate and before EndDate
// (zero: unbounded), at most Limit of them (0: all), from Marker on.
type InventoryRequest struct {
	Format             string
	StartDate, EndDate time.Time
	Limit              int
	Marker             string
}

func (s *Service) jobDelay(key string) time.Duration {
	if d, ok := s.JobDelays[key]; ok {
		return d
	}
	return DefaultJobDelays[key]
}

func (s *Service) jobRetention() time.Duration {
	if s.JobRetention > 0 {
		return s.JobRetention
	}
	return DefaultJobRetention
}

// InitiateJob starts an archive-retrieval or inventory-retrieval job
// (operations.md §11.1). Archive jobs are authorized with the archive's
// age (glacier:ArchiveAgeInDays) and pass the data retrieval policy and
// Expedited capacity checks before anything is stored.
func (s *Service) InitiateJob(ctx context.Context, c *Caller, accountID, vault string, r JobRequest) (Job, error) {
	if err := validateVaultName(vault); err != nil {
		return Job{}, err
	}
	now := s.Clock.Now()
	j := Job{
		ID:            newJobID(),
		AccountID:     accountID,
		VaultName:     vault,
		CreatedAt:     now,
		Status:        JobInProgress,
		StatusMessage: "Operation in progress.",
	}
	var err error
	if j.Description, err = validateJobDescription(r.Description); err != nil {
		return Job{}, err
	}
	if j.SNSTopic, err = validateTopic(r.SNSTopic); err != nil {
		return Job{}, err
	}
	if j.SNSTopic != "" {
		if err := s.checkTopicAccount("SNS topic", j.SNSTopic, accountID); err != nil {
			return Job{}, err
		}
	}
	switch r.Type {
	case ArchiveRetrieval:
		return s.initiateArchiveJob(ctx, c, j, r)
	case InventoryRetrieval:
		return s.initiateInventoryJob(ctx, c, j, r)
	case SelectJobAction:
		return s.initiateSelectJob(ctx, c, j, r)
	}
	return Job{}, Errorf(KindInvalidParameter, "Invalid job type: %q", r.Type)
}

// jobTier is the request's tier, Standard when unset.
func jobTier(r JobRequest) (string, error) {
	switch r.Tier {
	case "":
		return TierStandard, nil
	case TierExpedited, TierStandard, TierBulk:
		return r.Tier, nil
	}
	return "", Errorf(KindInvalidParameter, "Invalid tier: %q", r.Tier)
}

func (s *Service) initiateArchiveJob(ctx context.Context, c *Caller, j Job, r JobRequest) (Job, error) {
	j.Action = ArchiveRetrieval
	var err error
	if j.Tier, err = jobTier(r); err != nil {
		return Job{}, err
	}

	a, err := s.authorizeArchiveJob(ctx, c, j.AccountID, j.VaultName, r.ArchiveID)
	if err != nil {
		return Job{}, err
	}

	j.ArchiveID, j.ArchiveSize, j.ArchiveTreeHash, j.ArchiveDescription = a.ID, a.Size, a.TreeHash, a.Description
	j.RangeStart, j.RangeEnd = 0, a.Size-1
	if r.Range != nil {
		if err := checkRetrievalRange(*r.Range, a.Size); err != nil {
			return Job{}, err
		}
		j.RangeStart, j.RangeEnd = r.Range.Start, r.Range.End
	}
	if treehash.IsTreeHashAligned(j.RangeStart, j.RangeEnd, a.Size) {
		if j.RangeStart == 0 && j.RangeEnd == a.Size-1 {
			h := a.TreeHash
			j.RangeTreeHash = &h
		} else {
			leaves, err := s.Archives.ArchiveLeaves(ctx, a.ID)
			if err != nil {
				return Job{}, err
			}
			if h, ok := treehash.RangeTreeHash(leaves, j.RangeStart, j.RangeEnd, a.Size); ok {
				j.RangeTreeHash = &h
			}
		}
	}
	admit, err := s.retrievalAdmission(ctx, j)
	if err != nil {
		return Job{}, err
	}
	j.DueAt = j.CreatedAt.Add(s.jobDelay(j.Tier))
	return s.createJob(ctx, j, admit)
}

func (s *Service) initiateInventoryJob(ctx context.Context, c *Caller, j Job, r JobRequest) (Job, error) {
	j.Action = InventoryRetrieval
	p := r.Inventory
	j.Format, j.StartDate, j.EndDate, j.Limit, j.Marker = p.Format, p.StartDate, p.EndDate, p.Limit, p.Marker
	if j.Format == "" {
		j.Format = "JSON"
	}
	if _, err := s.authorizeVault(ctx, c, "InitiateJob", j.AccountID, j.VaultName); err != nil {
		return Job{}, err
	}
	j.DueAt = j.CreatedAt.Add(s.jobDelay("inventory"))
	return s.createJob(ctx, j, nil)
}

// createJob stores a new job if admit (nil: always) admits it. A job due at once (a zero delay) is finished
// before InitiateJob answers, so development setups see it complete
// immediately; otherwise the scheduler is woken to plan for it.
func (s *Service) createJob(ctx context.Context, j Job, admit func(AdmissionView) error) (Job, error) {
	audit.Note(ctx, "jobId", j.ID)
	j.DueAt = s.restoreDue(j) // archive storage classes: restores start at the next scheduler pass
	if err := s.createJobIf(ctx, j, admit); err != nil {
		if IsNotFound(err) {
			return Job{}, s.vaultNotFound(j.AccountID, j.VaultName)
		}
		return Job{}, err
	}
	if !j.DueAt.After(s.Clock.Now()) && !s.restoring(j) {
		if err := s.finishJob(ctx, j); errors.Is(err, errJobBeingFinished) {
			// The scheduler got to it first: still answer once it is done.
			s.awaitFinishing(ctx, j.ID)
		} else if err != nil {
			s.logger().Warn("job completion failed; the scheduler will retry", "job_id", j.ID, "err", err)
		}
	}
	s.wakeScheduler()
	return j, nil
}

// DescribeJob returns a job (operations.md §11.2); a job whose output has
// expired is not found.
func (s *Service) DescribeJob(ctx context.Context, c *Caller, accountID, vault, id string) (Job, error) {
	if _, err := s.authorizeVault(ctx, c, "DescribeJob", accountID, vault); err != nil {
		return Job{}, err
	}
	return s.getJob(ctx, accountID, vault, id)
}

func (s *Service) getJob(ctx context.Context, accountID, vault, id string) (Job, error) {
	j, err := s.Jobs.GetJob(ctx, accountID, vault, id)
	if err == nil && s.jobExpired(j) {
		err = Errorf(KindNotFound, "expired")
	}
	if IsNotFound(err) {
		return Job{}, Errorf(KindNotFound, "The job ID was not found: %s", id)
	}
	return j, err
}

// jobExpired reports whether a completed job's retention has passed.
func (s *Service) jobExpired(j Job) bool {
	return j.Status != JobInProgress && !s.Clock.Now().Before(j.CompletedAt.Add(s.jobRetention()))
}

// ListJobs returns up to limit unexpired jobs of the vault matching f,
// starting at marker (a job id), and the marker of the next page.
func (s *Service) ListJobs(ctx context.Context, c *Caller, accountID, vault string, f JobFilter, marker string, limit int) ([]Job, string, error) {
	if _, err := s.authorizeVault(ctx, c, "ListJobs", accountID, vault); err != nil {
		return nil, "", err
	}
	jobs, err := s.Jobs.ListJobs(ctx, accountID, vault, f, marker, limit+1)
	if IsNotFound(err) {
		return nil, "", Errorf(KindInvalidParameter, "Invalid marker: %q is not a job of this vault", marker)
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(jobs) > limit {
		next, jobs = jobs[limit].ID, jobs[:limit]
	}
	// Jobs past their retention that the scheduler has not purged yet are
	// already gone for clients; the page may come out shorter.
	out := jobs[:0]
	for _, j := range jobs {
		if !s.jobExpired(j) {
			out = append(out, j)
		}
	}
	return out, next, nil
}

// validateJobDescription applies limits.md §3.
func validateJobDescription(d string) (string, error) {
	if len(d) > MaxDescriptionLen {
		return "", Errorf(KindInvalidParameter, "Invalid job description: %d characters is longer than the maximum of %d", len(d), MaxDescriptionLen)
	}
	for i := 0; i < len(d); i++ {
		if d[i] < 0x20 || d[i] > 0x7e {
			return "", Errorf(KindInvalidParameter, "Invalid job description: byte 0x%02x at position %d is not printable ASCII (0x20-0x7E)", d[i], i)
		}
	}
	return d, nil
}

// validateTopic accepts "" or an SNS topic ARN.
func validateTopic(t string) (string, error) {
	if t == "" {
		return "", nil
	}
	if !ValidTopicARN(t) {
		return "", Errorf(KindInvalidParameter, "Invalid SNS topic: %q is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", t)
	}
	return t, nil
}

// checkRetrievalRange checks a range against the archive's size
// (data-plane.md §5.5): within it and MiB-aligned.
func checkRetrievalRange(r RetrievalRange, size int64) error {
	if r.Start < 0 || r.End < r.Start {
		return Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q. It must be <start>-<end> with start <= end", r)
	}
	if r.End >= size {
		return Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q ends beyond the archive's last byte %d", r, size-1)
	}
	if !treehash.IsMiBAligned(r.Start, r.End, size) {
		return Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q is not megabyte aligned. The start must be a multiple of 1048576 and the end one less than a multiple of 1048576 or the archive's last byte", r)
	}
	return nil
}

func newJobID() string { return randomURLSafe(uploadIDLen) }

// authorizeArchiveJob looks up the vault and the archive a retrieval or
// select job reads and makes the InitiateJob decision with the archive's
// age. A missing vault or archive is reported only to a caller the
// policies allow to ask (operations.md §2.4).
func (s *Service) authorizeArchiveJob(ctx context.Context, c *Caller, accountID, vault, archiveID string) (Archive, error) {
	v, err := s.Vaults.GetVault(ctx, accountID, vault)
	access := s.vaultAccess(c, "InitiateJob", accountID, vault, nil)
	if IsNotFound(err) {
		if err := s.authorize(ctx, access); err != nil {
			return Archive{}, err
		}
		return Archive{}, s.vaultNotFound(accountID, vault)
	} else if err != nil {
		return Archive{}, err
	}
	access.Vault = &v
	a, err := s.Archives.GetArchive(ctx, archiveID)
	if err == nil && (a.AccountID != accountID || a.VaultName != vault) {
		err = Errorf(KindNotFound, "not in this vault")
	}
	if IsNotFound(err) {
		if err := s.authorize(ctx, access); err != nil {
			return Archive{}, err
		}
		return Archive{}, Errorf(KindNotFound, "The archive ID was not found: %s", archiveID)
	} else if err != nil {
		return Archive{}, err
	}
	age := ageInDays(a.CreatedAt, access.Now)
	access.ArchiveAge = &age
	return a, s.authorize(ctx, access)
}
