package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// scrubDamaged is one line of the scrub report.
type scrubDamaged struct {
	AccountID string `json:"account_id"`
	Vault     string `json:"vault"`
	ArchiveID string `json:"archive_id"`
	Problem   string `json:"problem"`
}

// scrubReport is the --json output.
type scrubReport struct {
	Archives int            `json:"archives"`
	Bytes    int64          `json:"bytes"`
	Damaged  []scrubDamaged `json:"damaged"`
	Seconds  float64        `json:"seconds"`
}

// runScrub is `permafrost scrub`: every archive's bytes re-read now and
// checked against the hashes stored at upload. It reads beside a running
// server (it never sweeps or deletes), prints each damaged or missing
// archive and exits 1 if there is any.
func runScrub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sf storeFlags
	var asJSON bool
	var rate int64
	fs := flagSet("scrub", "scrub [flags]")
	fs.SetOutput(stderr)
	sf.bind(fs)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	int64Flag(fs, &rate, "scrub-rate", 0, "read at most this many bytes per second; 0 reads as fast as the store allows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sf.ReadSide = true
	st, err := openStores(ctx, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := operatorService(st)

	report := scrubReport{Damaged: []scrubDamaged{}}
	tty := isTerminal(stderr) && !asJSON
	started := time.Now()
	var last time.Time
	progress := func(p glacier.ScrubProgress) {
		if !tty || time.Since(last) < 200*time.Millisecond && p.ArchivesDone < p.Archives {
			return
		}
		last = time.Now()
		pct := 100.0
		if p.Bytes > 0 {
			pct = 100 * float64(p.BytesDone) / float64(p.Bytes)
		}
		fmt.Fprintf(stderr, "\rscrub: %d/%d archives, %s of %s (%.0f%%), %d damaged ", p.ArchivesDone, p.Archives, humanBytes(p.BytesDone), humanBytes(p.Bytes), pct, p.Damaged)
	}
	p, err := svc.Scrub(ctx, glacier.ScrubOptions{
		BytesPerSecond: rate,
		Progress:       progress,
		Damaged: func(r glacier.DamageRecord) {
			d := scrubDamaged{AccountID: r.AccountID, Vault: r.VaultName, ArchiveID: r.ArchiveID, Problem: r.Problem}
			report.Damaged = append(report.Damaged, d)
			if !asJSON {
				if tty {
					fmt.Fprint(stderr, "\r\033[K")
				}
				fmt.Fprintf(stdout, "DAMAGED account %s vault %s archive %s: %s\n", d.AccountID, d.Vault, d.ArchiveID, d.Problem)
			}
		},
	})
	if tty {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	report.Archives, report.Bytes, report.Seconds = p.Archives, p.Bytes, time.Since(started).Seconds()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "checked %d archives (%s) in %v: %d damaged or missing\n", report.Archives, humanBytes(report.Bytes), time.Since(started).Round(time.Millisecond), len(report.Damaged))
	}
	if len(report.Damaged) > 0 {
		return scrubFailed(len(report.Damaged))
	}
	return nil
}

// scrubFailed is the exit status 1 of a scrub that found damage.
type scrubFailed int

func (n scrubFailed) Error() string {
	return fmt.Sprintf("%d archive(s) damaged or missing", int(n))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
