package glacier

import (
	"context"
	"errors"
	"time"
)

// ScrubOptions control a scrub pass.
type ScrubOptions struct {
	// BytesPerSecond bounds the read rate; 0 means unbounded.
	BytesPerSecond int64
	// Progress, if set, is called after each archive.
	Progress func(ScrubProgress)
	// Damaged, if set, is called for each damaged or missing archive.
	Damaged func(DamageRecord)
	// PassDone, if set, is called by ScrubPass when a pass completes.
	PassDone func(ScrubProgress, time.Time)
}

// ScrubProgress is where a scrub pass stands.
type ScrubProgress struct {
	Archives, ArchivesDone int
	Bytes, BytesDone       int64
	Damaged                int
}

// scrubPage is how many archives a scrub pass lists at a time.
const scrubPage = 1000

// scrubTarget is one archive to check.
type scrubTarget struct {
	id, account, vault string
	size               int64
}

// Scrub re-reads every archive of every vault and checks its bytes against
// the leaf hashes stored at upload. Damaged and missing archives are
// logged, counted and recorded (DamagedArchives); an archive recorded
// earlier that now checks good loses its record. Archives deleted during
// the pass are skipped. A blob store that cannot be read stops the pass
// with an error: that is not damage.
func (s *Service) Scrub(ctx context.Context, opt ScrubOptions) (ScrubProgress, error) {
	var p ScrubProgress
	if s.restorer() != nil {
		// Reading an object in an archive storage class needs a restore,
		// paid per GB: a scrub would restore everything every pass.
		return p, Errorf(KindInvalidParameter, "the blob store keeps archives in an archive storage class (GLACIER or DEEP_ARCHIVE), whose bytes cannot be read without a restore; they are not scrubbed (each retrieval job still verifies the bytes it restores)")
	}
	// First the totals (for progress), then vault by vault: memory holds
	// one page of archive ids at a time.
	type vaultRef struct{ account, name string }
	var vaults []vaultRef
	accounts, err := s.Identity.ListAccounts(ctx)
	if err != nil {
		return p, err
	}
	for _, acct := range accounts {
		from := ""
		for {
			vs, err := s.Vaults.ListVaults(ctx, acct.ID, from, 1000)
			if err != nil {
				return p, err
			}
			for _, v := range vs {
				vaults = append(vaults, vaultRef{acct.ID, v.Name})
				err := s.Archives.ScanArchives(ctx, acct.ID, v.Name, func(a Archive) error {
					p.Archives++
					p.Bytes += a.Size
					return nil
				})
				if err != nil && !IsNotFound(err) {
					return p, err
				}
			}
			if len(vs) < 1000 {
				break
			}
			from = vs[len(vs)-1].Name + "\x00"
		}
	}
	if opt.Progress != nil {
		opt.Progress(p)
	}
	known := map[string]bool{}
	if recs, err := s.loadDamage(ctx); err == nil {
		for _, r := range recs {
			known[r.ArchiveID] = true
		}
	}
	pace := pacer(ctx, opt.BytesPerSecond)
	for _, v := range vaults {
		// A page at a time: memory does not grow with the vault.
		var after Archive
		for {
			page, err := s.Archives.ArchivePage(ctx, v.account, v.name, after.CreatedAt, after.ID, scrubPage)
			if IsNotFound(err) {
				break // deleted meanwhile
			}
			if err != nil {
				return p, err
			}
			for _, a := range page {
				if err := s.scrubOne(ctx, scrubTarget{a.ID, v.account, v.name, a.Size}, &p, opt, known, pace); err != nil {
					return p, err
				}
			}
			if len(page) < scrubPage {
				break
			}
			after = page[len(page)-1]
		}
	}
	return p, nil
}

// scrubOne checks one archive of a pass.
func (s *Service) scrubOne(ctx context.Context, t scrubTarget, p *ScrubProgress, opt ScrubOptions, known map[string]bool, pace func(int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() {
		p.ArchivesDone++
		p.BytesDone += t.size
		if opt.Progress != nil {
			opt.Progress(*p)
		}
	}()
	a, err := s.Archives.GetArchive(ctx, t.id)
	if IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	leaves, err := s.Archives.ArchiveLeaves(ctx, a.ID)
	if err != nil {
		return err
	}
	err = s.verifyRange(ctx, a, leaves, 0, a.Size-1, "", pace)
	var de *DamageError
	switch {
	case errors.As(err, &de):
		if _, gone := s.Archives.GetArchive(ctx, t.id); IsNotFound(gone) {
			return nil // deleted while being read
		}
		s.reportDamage(ctx, a, de.Problem, "scrub")
		p.Damaged++
		if opt.Damaged != nil {
			opt.Damaged(DamageRecord{ArchiveID: a.ID, AccountID: a.AccountID, VaultName: a.VaultName, Problem: de.Problem, FoundAt: s.Clock.Now().UTC(), FoundBy: "scrub"})
		}
	case err != nil:
		if _, gone := s.Archives.GetArchive(ctx, t.id); IsNotFound(gone) {
			return nil
		}
		return err
	default:
		s.integrity.archivesChecked.Add(1)
		if known[a.ID] {
			s.clearDamage(ctx, a.ID)
		}
	}
	return nil
}

// pacer returns a function that sleeps so that the bytes passed to it
// flow at no more than rate bytes per second (nil when unbounded).
func pacer(ctx context.Context, rate int64) func(int) error {
	if rate <= 0 {
		return nil
	}
	start := time.Now()
	var total int64
	return func(n int) error {
		total += int64(n)
		due := start.Add(time.Duration(float64(total) / float64(rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
		return nil
	}
}

// Scrub schedule defaults: a pass starts a month after the previous one
// started, reading at the rate that spreads the stored bytes over about
// three weeks (never below MinScrubRate).
const (
	DefaultScrubInterval = 30 * 24 * time.Hour
	MinScrubRate         = 1 << 20
	scrubPassSetting     = "integrity.scrub_pass_started"
)

// ScrubPassSetting is the setting the scheduler keeps the last scrub
// pass's start under (RFC 3339), so that the schedule survives restarts.
const ScrubPassSetting = scrubPassSetting

// CanScrub reports whether the archives can be scrubbed: not when they are
// in an archive storage class, readable only after a restore (each
// retrieval job verifies what it restores). It logs why not.
func (s *Service) CanScrub() bool {
	if s.restorer() != nil {
		s.logger().Info("scrubber off: archives are in an archive storage class, readable only after a restore; each retrieval job verifies what it restores")
		return false
	}
	return true
}

// ScrubPass runs one scheduled scrub pass (the scheduler starts one per
// interval, measured from the last pass's start) at rate bytes per second
// (0: the stored bytes spread over 3/4 of the interval, at least
// MinScrubRate). hooks' Progress, Damaged and PassDone, when set, follow
// the pass (metrics).
func (s *Service) ScrubPass(ctx context.Context, interval time.Duration, rate int64, hooks ScrubOptions) error {
	started := time.Now()
	if rate <= 0 {
		rate = MinScrubRate
		if total, err := s.storedBytes(ctx); err == nil && interval > 0 {
			rate = max(rate, int64(float64(total)/(interval.Seconds()*0.75)))
		}
	}
	opt := hooks
	opt.BytesPerSecond = rate
	p, err := s.Scrub(ctx, opt)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		s.logger().Warn("scrub pass failed; the next one will start on schedule", "err", err, "archives_checked", p.ArchivesDone)
		return nil
	}
	s.logger().Info("scrub pass finished", "archives", p.Archives, "bytes", p.Bytes, "damaged", p.Damaged, "took", time.Since(started).Round(time.Second))
	if hooks.PassDone != nil {
		hooks.PassDone(p, time.Now())
	}
	return nil
}

// storedBytes sums the archive bytes of all vaults.
func (s *Service) storedBytes(ctx context.Context) (int64, error) {
	accounts, err := s.Identity.ListAccounts(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, a := range accounts {
		from := ""
		for {
			vs, err := s.Vaults.ListVaults(ctx, a.ID, from, 1000)
			if err != nil {
				return 0, err
			}
			for _, v := range vs {
				total += v.SizeInBytes
			}
			if len(vs) < 1000 {
				break
			}
			from = vs[len(vs)-1].Name + "\x00"
		}
	}
	return total, nil
}
