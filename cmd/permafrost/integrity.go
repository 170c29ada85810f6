package main

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// damagedShown is how many damaged archives the health output names; the
// count is always complete.
const damagedShown = 10

// damagedArchivesInfo is the health output's "damaged_archives": the
// installation's record of damaged or missing archives, so an operator sees
// them without reading logs.
func (m *Main) damagedArchivesInfo(ctx context.Context) (any, error) {
	recs, err := m.service.DamagedArchives(ctx)
	if err != nil {
		return nil, err
	}
	type shown struct {
		Account string    `json:"account_id"`
		Vault   string    `json:"vault"`
		Archive string    `json:"archive_id"`
		Problem string    `json:"problem"`
		Found   time.Time `json:"found_at"`
	}
	out := struct {
		Count    int     `json:"count"`
		Archives []shown `json:"archives,omitempty"`
	}{Count: len(recs)}
	for _, r := range recs[:min(len(recs), damagedShown)] {
		out.Archives = append(out.Archives, shown{r.AccountID, r.VaultName, r.ArchiveID, r.Problem, r.FoundAt})
	}
	return out, nil
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
