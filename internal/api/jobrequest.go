package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/inventory"
)

// jobRequest parses InitiateJob's parameters into the domain's request
// (data-plane.md §5.1): the job type and tier into their constants, the
// retrieval byte range into numbers, the inventory format, dates, limit
// and marker into their values, and which members each type allows. The
// select members are decoded by decodeSelect; what needs the store (the
// archive, its size) or is the domain's own rule (description, topic, the
// select query) the service checks.
func jobRequest(in JobParameters) (glacier.JobRequest, error) {
	req := glacier.JobRequest{Description: in.Description, SNSTopic: in.SNSTopic}
	if err := decodeSelect(in, &req); err != nil {
		return req, err
	}
	selectGiven := present(in.SelectParameters) || present(in.OutputLocation)
	var err error
	switch in.Type {
	case "archive-retrieval":
		req.Type = glacier.ArchiveRetrieval
		if in.ArchiveId == nil || *in.ArchiveId == "" {
			return req, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: ArchiveId")
		}
		if in.Format != "" || in.InventoryRetrievalParameters != nil {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: Format and InventoryRetrievalParameters are not allowed for archive-retrieval jobs")
		}
		if selectGiven {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: SelectParameters and OutputLocation are only allowed for select jobs")
		}
		req.ArchiveID = *in.ArchiveId
		if req.Tier, err = jobTier(in.Tier); err != nil {
			return req, err
		}
		if in.RetrievalByteRange != nil {
			if req.Range, err = retrievalRange(*in.RetrievalByteRange); err != nil {
				return req, err
			}
		}
	case "inventory-retrieval":
		req.Type = glacier.InventoryRetrieval
		if in.ArchiveId != nil {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: ArchiveId is not allowed for inventory-retrieval jobs")
		}
		if in.RetrievalByteRange != nil {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: RetrievalByteRange is only allowed for archive-retrieval jobs")
		}
		if selectGiven {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: SelectParameters and OutputLocation are only allowed for select jobs")
		}
		if req.Inventory, err = inventoryRequest(in.Format, in.InventoryRetrievalParameters); err != nil {
			return req, err
		}
	case "select":
		req.Type = glacier.SelectJobAction
		if in.ArchiveId == nil || *in.ArchiveId == "" {
			return req, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: ArchiveId")
		}
		if in.RetrievalByteRange != nil {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: RetrievalByteRange is only allowed for archive-retrieval jobs")
		}
		if in.Format != "" || in.InventoryRetrievalParameters != nil {
			return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid parameter: Format and InventoryRetrievalParameters are not allowed for select jobs")
		}
		req.ArchiveID = *in.ArchiveId
		if req.Tier, err = jobTier(in.Tier); err != nil {
			return req, err
		}
	case "":
		return req, glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: Type")
	default:
		return req, glacier.Errorf(glacier.KindInvalidParameter, "Invalid job type: %q. It must be archive-retrieval, inventory-retrieval or select", in.Type)
	}
	return req, nil
}

// jobTier parses a job's Tier; Standard when absent.
func jobTier(t string) (string, error) {
	switch t {
	case "":
		return glacier.TierStandard, nil
	case glacier.TierExpedited, glacier.TierStandard, glacier.TierBulk:
		return t, nil
	}
	return "", glacier.Errorf(glacier.KindInvalidParameter, "Invalid tier: %q. It must be Expedited, Standard or Bulk", t)
}

// retrievalRange parses RetrievalByteRange "start-end" with start <= end;
// the service checks it against the archive (data-plane.md §5.5).
func retrievalRange(s string) (*glacier.RetrievalRange, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
		return nil, glacier.Errorf(glacier.KindInvalidParameter, "Invalid RetrievalByteRange: %q. It must be <start>-<end> with start <= end", s)
	}
	return &glacier.RetrievalRange{Start: start, End: end}, nil
}

// inventoryRequest parses an inventory job's Format and
// InventoryRetrievalParameters (data-plane.md §6.4).
func inventoryRequest(format string, p *InventoryRetrievalJobInput) (glacier.InventoryRequest, error) {
	var r glacier.InventoryRequest
	switch format {
	case "", "JSON":
		r.Format = "JSON"
	case "CSV":
		r.Format = "CSV"
	default:
		return r, glacier.Errorf(glacier.KindInvalidParameter, "Invalid format: %q. It must be JSON or CSV", format)
	}
	if p == nil {
		return r, nil
	}
	var err error
	if r.StartDate, err = inventoryDate("StartDate", p.StartDate); err != nil {
		return r, err
	}
	if r.EndDate, err = inventoryDate("EndDate", p.EndDate); err != nil {
		return r, err
	}
	if !r.StartDate.IsZero() && !r.EndDate.IsZero() && !r.StartDate.Before(r.EndDate) {
		return r, glacier.Errorf(glacier.KindInvalidParameter, "Invalid inventory retrieval parameters: StartDate %s must be before EndDate %s", p.StartDate, p.EndDate)
	}
	if p.Limit != "" {
		n, err := strconv.Atoi(p.Limit)
		if err != nil || n < 1 {
			return r, glacier.Errorf(glacier.KindInvalidParameter, "Invalid limit: %q. It must be an integer of at least 1", p.Limit)
		}
		r.Limit = n
	}
	if p.Marker != "" {
		if err := inventory.ParseMarker(p.Marker); err != nil {
			return r, glacier.Errorf(glacier.KindInvalidParameter, "Invalid marker: %q", p.Marker)
		}
		r.Marker = p.Marker
	}
	return r, nil
}

// inventoryDate parses an ISO-8601 date-time of an inventory filter.
func inventoryDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, glacier.Errorf(glacier.KindInvalidParameter, "Invalid %s: %q is not an ISO 8601 date-time such as 2013-03-20T17:03:43Z", name, s)
	}
	return t.UTC(), nil
}
