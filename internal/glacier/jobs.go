package glacier

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/inventory"
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

// JobRequest is InitiateJob's parameters as the client sent them; the
// service validates them (data-plane.md §5.1).
type JobRequest struct {
	Type               string
	ArchiveID          *string
	Description        string
	SNSTopic           string
	Tier               string
	RetrievalByteRange *string
	Format             string
	// Inventory is InventoryRetrievalParameters; nil when absent.
	Inventory *InventoryParams
	// Select is set when SelectParameters or OutputLocation were given.
	Select bool
	// SelectParameters and OutputLocation of select jobs; nil when absent.
	SelectParameters *SelectParameters
	OutputLocation   *OutputLocation
}

// InventoryParams are the filters of an inventory job, as strings.
type InventoryParams struct {
	StartDate, EndDate, Limit, Marker string
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
	case "archive-retrieval":
		return s.initiateArchiveJob(ctx, c, j, r)
	case "inventory-retrieval":
		return s.initiateInventoryJob(ctx, c, j, r)
	case "select":
		return s.initiateSelectJob(ctx, c, j, r)
	case "":
		return Job{}, Errorf(KindMissingParameter, "Required parameter missing: Type")
	}
	return Job{}, Errorf(KindInvalidParameter, "Invalid job type: %q. It must be archive-retrieval, inventory-retrieval or select", r.Type)
}

func (s *Service) initiateArchiveJob(ctx context.Context, c *Caller, j Job, r JobRequest) (Job, error) {
	j.Action = ArchiveRetrieval
	if r.ArchiveID == nil || *r.ArchiveID == "" {
		return Job{}, Errorf(KindMissingParameter, "Required parameter missing: ArchiveId")
	}
	if r.Format != "" || r.Inventory != nil {
		return Job{}, Errorf(KindInvalidParameter, "Invalid parameter: Format and InventoryRetrievalParameters are not allowed for archive-retrieval jobs")
	}
	if r.Select {
		return Job{}, Errorf(KindInvalidParameter, "Invalid parameter: SelectParameters and OutputLocation are only allowed for select jobs")
	}
	switch r.Tier {
	case "":
		j.Tier = TierStandard
	case TierExpedited, TierStandard, TierBulk:
		j.Tier = r.Tier
	default:
		return Job{}, Errorf(KindInvalidParameter, "Invalid tier: %q. It must be Expedited, Standard or Bulk", r.Tier)
	}

	a, err := s.authorizeArchiveJob(ctx, c, j.AccountID, j.VaultName, *r.ArchiveID)
	if err != nil {
		return Job{}, err
	}

	j.ArchiveID, j.ArchiveSize, j.ArchiveTreeHash, j.ArchiveDescription = a.ID, a.Size, a.TreeHash, a.Description
	j.RangeStart, j.RangeEnd = 0, a.Size-1
	if r.RetrievalByteRange != nil {
		if j.RangeStart, j.RangeEnd, err = parseRetrievalRange(*r.RetrievalByteRange, a.Size); err != nil {
			return Job{}, err
		}
	}
	if treehash.IsTreeHashAligned(j.RangeStart, j.RangeEnd, a.Size) {
		if j.RangeStart == 0 && j.RangeEnd == a.Size-1 {
			h := a.TreeHash
			j.RangeTreeHash = &h
		} else {
			leaves, err := s.Meta.ArchiveLeaves(ctx, a.ID)
			if err != nil {
				return Job{}, err
			}
			if h, ok := treehash.RangeTreeHash(leaves, j.RangeStart, j.RangeEnd, a.Size); ok {
				j.RangeTreeHash = &h
			}
		}
	}
	if err := s.admitRetrieval(ctx, j); err != nil {
		return Job{}, err
	}
	j.DueAt = j.CreatedAt.Add(s.jobDelay(j.Tier))
	return s.createJob(ctx, j)
}

func (s *Service) initiateInventoryJob(ctx context.Context, c *Caller, j Job, r JobRequest) (Job, error) {
	j.Action = InventoryRetrieval
	if r.ArchiveID != nil {
		return Job{}, Errorf(KindInvalidParameter, "Invalid parameter: ArchiveId is not allowed for inventory-retrieval jobs")
	}
	if r.RetrievalByteRange != nil {
		return Job{}, Errorf(KindInvalidParameter, "Invalid parameter: RetrievalByteRange is only allowed for archive-retrieval jobs")
	}
	if r.Select {
		return Job{}, Errorf(KindInvalidParameter, "Invalid parameter: SelectParameters and OutputLocation are only allowed for select jobs")
	}
	switch r.Format {
	case "", "JSON":
		j.Format = "JSON"
	case "CSV":
		j.Format = "CSV"
	default:
		return Job{}, Errorf(KindInvalidParameter, "Invalid format: %q. It must be JSON or CSV", r.Format)
	}
	if p := r.Inventory; p != nil {
		var err error
		if j.StartDate, err = parseInventoryDate("StartDate", p.StartDate); err != nil {
			return Job{}, err
		}
		if j.EndDate, err = parseInventoryDate("EndDate", p.EndDate); err != nil {
			return Job{}, err
		}
		if !j.StartDate.IsZero() && !j.EndDate.IsZero() && !j.StartDate.Before(j.EndDate) {
			return Job{}, Errorf(KindInvalidParameter, "Invalid inventory retrieval parameters: StartDate %s must be before EndDate %s", p.StartDate, p.EndDate)
		}
		if p.Limit != "" {
			n, err := strconv.Atoi(p.Limit)
			if err != nil || n < 1 {
				return Job{}, Errorf(KindInvalidParameter, "Invalid limit: %q. It must be an integer of at least 1", p.Limit)
			}
			j.Limit = n
		}
		if p.Marker != "" {
			if err := inventory.ParseMarker(p.Marker); err != nil {
				return Job{}, Errorf(KindInvalidParameter, "Invalid marker: %q", p.Marker)
			}
			j.Marker = p.Marker
		}
	}
	if _, err := s.authorizeVault(ctx, c, "InitiateJob", j.AccountID, j.VaultName); err != nil {
		return Job{}, err
	}
	j.DueAt = j.CreatedAt.Add(s.jobDelay("inventory"))
	return s.createJob(ctx, j)
}

// createJob stores a new job. A job due at once (a zero delay) is finished
// before InitiateJob answers, so development setups see it complete
// immediately; otherwise the scheduler is woken to plan for it.
func (s *Service) createJob(ctx context.Context, j Job) (Job, error) {
	audit.Note(ctx, "jobId", j.ID)
	j.DueAt = s.restoreDue(j) // archive storage classes: restores start at the next scheduler pass
	if err := s.Meta.CreateJob(ctx, j); err != nil {
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
	j, err := s.Meta.GetJob(ctx, accountID, vault, id)
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
	jobs, err := s.Meta.ListJobs(ctx, accountID, vault, f, marker, limit+1)
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

// parseRetrievalRange parses "start-end" and checks data-plane.md §5.5:
// MiB-aligned, start <= end < size.
func parseRetrievalRange(s string, size int64) (int64, int64, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q. It must be <start>-<end> with start <= end", s)
	}
	if end >= size {
		return 0, 0, Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q ends beyond the archive's last byte %d", s, size-1)
	}
	if !treehash.IsMiBAligned(start, end, size) {
		return 0, 0, Errorf(KindInvalidParameter, "Invalid RetrievalByteRange: %q is not megabyte aligned. The start must be a multiple of 1048576 and the end one less than a multiple of 1048576 or the archive's last byte", s)
	}
	return start, end, nil
}

// parseInventoryDate parses an ISO-8601 date-time of an inventory filter.
func parseInventoryDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(KindInvalidParameter, "Invalid %s: %q is not an ISO 8601 date-time such as 2013-03-20T17:03:43Z", name, s)
	}
	return t.UTC(), nil
}

func newJobID() string { return randomURLSafe(uploadIDLen) }

// authorizeArchiveJob looks up the vault and the archive a retrieval or
// select job reads and makes the InitiateJob decision with the archive's
// age. A missing vault or archive is reported only to a caller the
// policies allow to ask (operations.md §2.4).
func (s *Service) authorizeArchiveJob(ctx context.Context, c *Caller, accountID, vault, archiveID string) (Archive, error) {
	v, err := s.Meta.GetVault(ctx, accountID, vault)
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
	a, err := s.Meta.GetArchive(ctx, archiveID)
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
