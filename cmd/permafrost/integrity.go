package main

import (
	"context"
	"fmt"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// damagedShown is how many damaged archives the health output names, the
// first recorded first; the count is always complete, and the output says
// when the list is cut and how to see every one. However many archives are
// damaged, the health answer stays small.
const damagedShown = 10

// damagedSeeAll is the health output's pointer to the complete list.
const damagedSeeAll = "only the first %d are listed; `permafrost scrub` (with the server's --data-dir, or --meta and --blobs) re-checks every archive and prints each damaged or missing one"

// damagedArchivesInfo is the health output's "damaged_archives": the
// installation's record of damaged or missing archives, so an operator sees
// them without reading logs.
func (m *Main) damagedArchivesInfo(ctx context.Context) (any, error) {
	recs, err := m.service.DamagedArchives(ctx)
	if err != nil {
		return nil, err
	}
	return damagedArchivesReport(recs), nil
}

// damagedReport is the health output's "damaged_archives". Fields are
// only ever added: monitoring reads count and archives.
type damagedReport struct {
	Count    int              `json:"count"`
	Archives []damagedArchive `json:"archives,omitempty"`
	// Truncated and SeeAll are set when more are damaged than named.
	Truncated bool   `json:"truncated,omitempty"`
	SeeAll    string `json:"see_all,omitempty"`
}

type damagedArchive struct {
	Account string    `json:"account_id"`
	Vault   string    `json:"vault"`
	Archive string    `json:"archive_id"`
	Problem string    `json:"problem"`
	Found   time.Time `json:"found_at"`
}

// damagedArchivesReport names the first damagedShown of recs and counts
// them all.
func damagedArchivesReport(recs []glacier.DamageRecord) damagedReport {
	out := damagedReport{Count: len(recs)}
	for _, r := range recs[:min(len(recs), damagedShown)] {
		out.Archives = append(out.Archives, damagedArchive{r.AccountID, r.VaultName, r.ArchiveID, r.Problem, r.FoundAt})
	}
	if len(recs) > damagedShown {
		out.Truncated, out.SeeAll = true, fmt.Sprintf(damagedSeeAll, damagedShown)
	}
	return out
}

// damagedArchiveCount is the metrics' scrape-time source of
// permafrost_damaged_archives.
func (m *Main) damagedArchiveCount() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	recs, err := m.service.DamagedArchives(ctx)
	if err != nil {
		return -1 // the record could not be read; alert rules treat < 0 as unknown
	}
	return int64(len(recs))
}

// scrubHooks feed the background scrubber's progress to the metrics.
func (m *Main) scrubHooks() glacier.ScrubOptions {
	if m.metrics == nil {
		return glacier.ScrubOptions{}
	}
	var archives, bytes int64 // done so far in this pass
	return glacier.ScrubOptions{
		Progress: func(p glacier.ScrubProgress) {
			if int64(p.ArchivesDone) < archives { // a new pass
				archives, bytes = 0, 0
			}
			if d := int64(p.ArchivesDone) - archives; d > 0 {
				for range d - 1 {
					m.metrics.ArchiveScrubbed(0)
				}
				m.metrics.ArchiveScrubbed(p.BytesDone - bytes)
			}
			archives, bytes = int64(p.ArchivesDone), p.BytesDone
			m.metrics.ScrubProgress(p.BytesDone, p.Bytes)
		},
		PassDone: func(p glacier.ScrubProgress, at time.Time) {
			archives, bytes = 0, 0
			m.metrics.ScrubPassDone(at)
		},
	}
}
