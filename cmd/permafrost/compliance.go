package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/permafrost/permafrost/internal/clock"
	"io"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/audit"
	"github.com/permafrost/permafrost/internal/glacier"
)

const (
	// defaultAuditAnchorInterval is how often the audit chain's head is
	// anchored in the blob store.
	defaultAuditAnchorInterval = 5 * time.Minute
	// defaultAuditRetention: glacier.DefaultAuditRetention.
	defaultAuditRetention = glacier.DefaultAuditRetention
)

// bindComplianceFlags binds the audit settings of serve.
func bindComplianceFlags(fs *flag.FlagSet, cfg *Config) {
	durationFlag(fs, &cfg.AuditAnchorInterval, "audit-anchor-interval", cfg.AuditAnchorInterval, "how often the audit log's chain head is written as an anchor to the blob store (also at clean shutdown)")
	durationFlag(fs, &cfg.AuditRetention, "audit-retention", cfg.AuditRetention, "how long audit anchors are kept under S3 Object Lock retention; never less than the longest vault retention floor")
}

// compliance is the audit anchoring and retention work of a running
// server.
type compliance struct {
	anchorer *audit.Anchorer
	wg       sync.WaitGroup
}

// startCompliance starts anchoring the audit log.
func (m *Main) startCompliance(bg context.Context) {
	if r, ok := m.stores.baseBlobs().(glacier.Retainer); ok {
		if on, mode := r.ObjectLock(); on {
			m.logger.Info("the blob bucket has S3 Object Lock: archives of locked vaults with a retention floor are kept under retention", "mode", mode)
		}
	}
	log, okLog := m.stores.meta.(audit.Log)
	anchors, okAnchors := m.stores.baseBlobs().(audit.AnchorStore)
	if okLog && okAnchors {
		m.compliance.anchorer = &audit.Anchorer{
			Log: log, Store: anchors, Interval: m.Config.AuditAnchorInterval, Logger: m.logger,
			Retention: func() time.Duration { return glacier.AuditRetention(m.Config.AuditRetention) },
		}
		m.compliance.wg.Add(1)
		go func() { defer m.compliance.wg.Done(); m.compliance.anchorer.Run(bg) }()
	}
	// Appliers interrupted by a crash (of this node or another) are
	// finished by the scheduler's "retention" task (scheduleHousekeeping).
}

// closeCompliance waits for the background work and writes the clean
// shutdown's anchor (after the last request has finished).
func (m *Main) closeCompliance() {
	m.compliance.wg.Wait()
	if a := m.compliance.anchorer; a != nil {
		m.compliance.anchorer = nil
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Anchor(ctx); err != nil {
			m.logger.Error("writing the audit anchor at shutdown failed", "err", err)
		}
	}
}

const auditUsage = `Usage:
  permafrost audit verify [--data-dir DIR | --meta URL] [--blobs URL]
  permafrost audit export [--since T] [--until T] [--vault NAME] [--data-dir DIR | --meta URL]

verify checks the whole audit log: every record's hash and its link to its
predecessor, the chain head, and every anchor in the blob store. It prints
the first broken record and exits 1 on any break, 0 otherwise.

export writes the records as JSON lines (CloudTrail-like events with their
sequence number and hashes) for a SIEM. T is RFC 3339 (2026-12-01T00:00:00Z)
or a date (2026-12-01).
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprint(stderr, auditUsage)
		if len(args) > 0 && isHelp(args[0]) {
			return flag.ErrHelp
		}
		return usageError{"audit needs a subcommand: verify or export"}
	}
	sub := args[0]
	fs := flagSet("audit "+sub, "audit "+sub+" [flags]")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bind(fs)
	var since, until, vault string
	if sub == "export" {
		fs.StringVar(&since, "since", "", "only records at or after this time")
		fs.StringVar(&until, "until", "", "only records before this time")
		fs.StringVar(&vault, "vault", "", "only records about this vault")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	st, err := openMetaStore(ctx, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	log, ok := st.meta.(audit.Log)
	if !ok {
		return fmt.Errorf("this metadata store keeps no audit log")
	}
	if sub == "export" {
		from, err := parseTimeFlag("--since", since)
		if err != nil {
			return err
		}
		to, err := parseTimeFlag("--until", until)
		if err != nil {
			return err
		}
		return log.ScanAudit(ctx, 1, func(s audit.Stored) error {
			if (!from.IsZero() && s.Time.Before(from)) || (!to.IsZero() && !s.Time.Before(to)) || (vault != "" && s.Vault != vault) {
				return nil
			}
			_, err := fmt.Fprintf(stdout, "%s\n", audit.ExportLine(s))
			return err
		})
	}
	blobs, err := openBlobs(ctx, sf)
	if err != nil {
		return err
	}
	anchors, _ := blobs.(audit.AnchorStore)
	rep, err := audit.Verify(ctx, log, anchors)
	if err != nil {
		return err
	}
	if rep.Break != nil {
		fmt.Fprintf(stdout, "BROKEN at record %d: %s\n", rep.Break.Seq, rep.Break.Problem)
		if rep.Break.Body != "" {
			fmt.Fprintf(stdout, "record: %s\n", rep.Break.Body)
		}
		return exitError{code: 1, msg: fmt.Sprintf("audit log broken at record %d", rep.Break.Seq)}
	}
	fmt.Fprintf(stdout, "OK: %d records, head %s; %d anchors, the latest vouching for record %d\n", rep.Records, rep.Head.Hash, rep.Anchors, rep.Covered)
	if rep.Anchors == 0 && rep.Records > 0 {
		fmt.Fprintf(stdout, "note: no anchors found: give the installation's --blobs, or wait for the first anchor (--audit-anchor-interval)\n")
	}
	if rep.Covered < rep.Records {
		fmt.Fprintf(stdout, "note: records after %d are not anchored yet (the next anchor covers them)\n", rep.Covered)
	}
	return nil
}

// exitError ends the program with a status and a message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("%s %q: want RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01)", name, v)}
}

const lockUsage = `Usage:
  permafrost lock status --account-id ID --vault NAME [--data-dir DIR | --meta URL] [--blobs URL] [--json]

status shows a vault's lock state, the retention floor its Locked policy
gives (or why it gives none), whether the blob store enforces it (S3 Object
Lock) and the progress of applying it to the archives the vault held when
the lock completed.
`

func runLock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprint(stderr, lockUsage)
		if len(args) > 0 && isHelp(args[0]) {
			return flag.ErrHelp
		}
		return usageError{"lock needs a subcommand: status"}
	}
	fs := flagSet("lock status", "lock status [flags]")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bind(fs)
	var accountID, vault, region string
	var asJSON bool
	fs.StringVar(&accountID, "account-id", "", "account that owns the vault")
	fs.StringVar(&vault, "vault", "", "vault name")
	stringFlag(fs, &region, "region", glacier.DefaultRegion, "the installation's region (for the vault ARN)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if accountID == "" || vault == "" {
		return usageError{"lock status needs --account-id and --vault"}
	}
	st, err := openMetaStore(ctx, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	region = glacier.RegionOr(ctx, st.meta, region)
	blobs, err := openBlobs(ctx, sf)
	if err != nil {
		return err
	}
	svc := &glacier.Service{Stores: st.serviceStores(false), Blobs: blobs, Region: region, Clock: clock.Real{}}
	floor, l, err := svc.RetentionFloor(ctx, accountID, vault)
	if glacier.IsNotFound(err) {
		return fmt.Errorf("vault %s of account %s does not exist", vault, accountID)
	}
	if err != nil {
		return err
	}
	prog, err := svc.RetentionStatus(ctx, accountID, vault)
	if err != nil {
		return err
	}
	out := struct {
		Vault      string                     `json:"vault"`
		LockState  string                     `json:"lockState"`
		FloorDays  int                        `json:"retentionFloorDays"`
		Reasons    []string                   `json:"reasons"`
		ObjectLock bool                       `json:"objectLock"`
		Mode       string                     `json:"retentionMode,omitempty"`
		Progress   *glacier.RetentionProgress `json:"progress,omitempty"`
	}{Vault: svc.VaultARN(accountID, vault), LockState: "None", FloorDays: floor.Days, Reasons: floor.Reasons, Progress: prog}
	if l != nil {
		out.LockState = l.State.String()
	}
	if r, ok := blobs.(glacier.Retainer); ok {
		out.ObjectLock, out.Mode = r.ObjectLock()
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "vault:            %s\nlock:             %s\n", out.Vault, out.LockState)
	if floor.Days > 0 {
		fmt.Fprintf(stdout, "retention floor:  %d days\n", floor.Days)
	} else {
		fmt.Fprintf(stdout, "retention floor:  none\n")
	}
	for _, r := range floor.Reasons {
		fmt.Fprintf(stdout, "  - %s\n", r)
	}
	switch {
	case out.ObjectLock:
		fmt.Fprintf(stdout, "storage:          S3 Object Lock (%s)\n", out.Mode)
	default:
		fmt.Fprintf(stdout, "storage:          no retention below the API (the blob store has no S3 Object Lock)\n")
	}
	switch {
	case prog == nil && floor.Days > 0 && out.ObjectLock:
		fmt.Fprintf(stdout, "existing archives: not started\n")
	case prog != nil:
		state := "in progress"
		if prog.Finished {
			state = "finished"
		}
		fmt.Fprintf(stdout, "existing archives: %s, %d of %d (updated %s)\n", state, prog.Done, prog.Archives, prog.Updated.Format(time.RFC3339))
		if prog.Error != "" {
			fmt.Fprintf(stdout, "  last error: %s\n", prog.Error)
		}
	}
	return nil
}
