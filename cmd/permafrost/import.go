package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsglacier "github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"

	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

const importUsage = `Usage:
  permafrost import --endpoint URL --source-region R --vault NAME [--source-account-id ID]
                    --to-account-id ID [--to-vault NAME] [--tier Bulk|Standard|Expedited]
                    [--concurrency N] [--poll-interval D] [--copy-lock] [--dry-run] [--json]
                    [--data-dir DIR | --meta URL] [--blobs URL]

Brings a vault of any Glacier endpoint (AWS, another permafrost) into this
installation with every archive's ORIGINAL id, description, creation date
and size: it takes an inventory job on the source, retrieves each archive,
verifies its bytes against the inventory's SHA256TreeHash and size, and
stores it in the destination vault (created if missing). The vault's tags,
access policy and notification configuration are copied, with ARNs naming
the source account and region rewritten to the destination's (other
accounts' ARNs are kept).

The source's credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID
and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...); --endpoint defaults to AWS's
own endpoint for --source-region. Jobs can take hours on AWS: the import
waits, polling every --poll-interval, and says what it waits for.

Progress lives in the destination store: a re-run after a crash, Ctrl-C or
kill continues where it stopped, reuses the source jobs it started, never
downloads an archive it already verified and never duplicates one. An
archive id that exists with different content is an error, never
overwritten. It works while the destination server runs.

--copy-lock reproduces a Locked vault lock of the source on the destination
vault once all archives are in. THIS IS IRREVERSIBLE: a locked vault's lock
policy can never be changed or removed, and it governs the imported
archives (glacier:ArchiveAgeInDays counts from their original dates).

Flags:
`

// importOpts are the import command's settings.
type importOpts struct {
	endpoint, sourceRegion, vault, sourceAccount string
	toAccount, toVault, tier                     string
	concurrency                                  int
	poll                                         time.Duration
	copyLock, dryRun, asJSON                     bool
}

// importInventory is a Glacier inventory job's JSON output.
type importInventory struct {
	VaultARN      string
	InventoryDate string
	ArchiveList   []importInventoryArchive
}

type importInventoryArchive struct {
	ArchiveId          string
	ArchiveDescription string
	CreationDate       string
	Size               int64
	SHA256TreeHash     string
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, importUsage)
		newImportFlags(stdout, &importOpts{}, &storeFlags{}).PrintDefaults()
		return nil
	}
	var o importOpts
	var sf storeFlags
	fs := newImportFlags(stderr, &o, &sf)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	imp := &importer{o: o, out: stdout, errOut: stderr, terminal: !o.asJSON && isTerminal(stdout)}
	err := imp.run(ctx, sf)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("import interrupted (%v); its progress is kept: run the same command again to continue", ctx.Err())
	}
	return err
}

func newImportFlags(out io.Writer, o *importOpts, sf *storeFlags) *flag.FlagSet {
	fs := flagSet("import", "import --endpoint URL --source-region R --vault NAME --to-account-id ID [flags]")
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, importUsage); fs.PrintDefaults() }
	sf.bind(fs)
	fs.StringVar(&o.endpoint, "endpoint", "", "the source's Glacier endpoint URL; empty for AWS's endpoint of --source-region")
	fs.StringVar(&o.sourceRegion, "source-region", "", "the source's region (signs the requests)")
	fs.StringVar(&o.vault, "vault", "", "the source vault's name")
	fs.StringVar(&o.sourceAccount, "source-account-id", "-", "the source vault's account ('-': the credentials' own)")
	fs.StringVar(&o.toAccount, "to-account-id", "", "the destination account (must exist here)")
	fs.StringVar(&o.toVault, "to-vault", "", "the destination vault's name (default: the source's)")
	fs.StringVar(&o.tier, "tier", "Bulk", "retrieval tier of the source jobs: Bulk, Standard or Expedited")
	fs.IntVar(&o.concurrency, "concurrency", 4, "archives retrieved at once (each holds one source job)")
	fs.DurationVar(&o.poll, "poll-interval", 5*time.Minute, "how often the source's jobs are checked (minutes suit AWS)")
	fs.BoolVar(&o.copyLock, "copy-lock", false, "reproduce the source's Locked vault lock on the destination (IRREVERSIBLE)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the archive count, bytes and the jobs it would start; change nothing")
	fs.BoolVar(&o.asJSON, "json", false, "print progress and the summary as JSON lines")
	return fs
}

func (o *importOpts) check() error {
	switch {
	case o.vault == "":
		return usageError{"import: --vault is required"}
	case o.sourceRegion == "":
		return usageError{"import: --source-region is required"}
	case !glacier.ValidAccountID(o.toAccount):
		return usageError{fmt.Sprintf("import: --to-account-id must be 12 digits, not %q", o.toAccount)}
	case o.sourceAccount != "-" && !glacier.ValidAccountID(o.sourceAccount):
		return usageError{fmt.Sprintf("import: --source-account-id must be 12 digits or -, not %q", o.sourceAccount)}
	case o.tier != "Bulk" && o.tier != "Standard" && o.tier != "Expedited":
		return usageError{fmt.Sprintf("import: --tier must be Bulk, Standard or Expedited, not %q", o.tier)}
	case o.concurrency < 1:
		return usageError{"import: --concurrency must be at least 1"}
	case o.poll <= 0:
		return usageError{"import: --poll-interval must be positive"}
	}
	if o.toVault == "" {
		o.toVault = o.vault
	}
	return nil
}

// importer is one run of the import command.
type importer struct {
	o        importOpts
	out      io.Writer
	errOut   io.Writer
	terminal bool
	outMu    sync.Mutex

	src       *awsglacier.Client
	svc       *glacier.Service
	root      *glacier.Caller
	srcARN    string // the source vault's ARN
	srcAcct   string
	srcRegion string
	dstRegion string
	stateKey  string // this import's key in the progress table

	progressStore importProgress

	// progress
	total, totalBytes int64
	done, doneBytes   atomic.Int64
	skipped           int64
	waiting           atomic.Int64
	started           time.Time
	startBytes        int64
}

func (imp *importer) run(ctx context.Context, sf storeFlags) error {
	o := imp.o
	// The source.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.sourceRegion))
	if err != nil {
		return fmt.Errorf("import: loading the source's AWS configuration: %w", err)
	}
	imp.src = awsglacier.NewFromConfig(cfg, func(op *awsglacier.Options) {
		if o.endpoint != "" {
			op.BaseEndpoint = aws.String(o.endpoint)
		}
	})
	dv, err := imp.src.DescribeVault(ctx, &awsglacier.DescribeVaultInput{AccountId: aws.String(o.sourceAccount), VaultName: aws.String(o.vault)})
	if err != nil {
		return fmt.Errorf("import: describing the source vault %s: %w", o.vault, err)
	}
	imp.srcARN = aws.ToString(dv.VaultARN)
	if region, acct, _, ok := glacier.ParseVaultARN(imp.srcARN); ok {
		imp.srcRegion, imp.srcAcct = region, acct
	}

	// The destination.
	if err := checkInstallation(ctx, sf); err != nil {
		return err
	}
	var st *stores
	if o.dryRun {
		st, err = openMetaStore(ctx, sf)
	} else {
		st, err = openStores(ctx, sf)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	var ok bool
	if imp.progressStore, ok = st.meta.(importProgress); !ok {
		return fmt.Errorf("import: the metadata store cannot record an import's progress")
	}
	imp.dstRegion = glacier.RegionOr(ctx, st.meta, glacier.DefaultRegion)
	imp.svc = &glacier.Service{Stores: st.serviceStores(false), Blobs: st.serviceBlobs(), Clock: clock.Real{}, Region: imp.dstRegion,
		Logger: slog.New(slog.NewTextHandler(imp.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	imp.root = &glacier.Caller{Principal: glacier.RootPrincipal(o.toAccount, "")}
	if os.Getenv(failpointEnv) == "kill-after-blob-write" {
		// Test failpoint: die between an archive's blob write and its
		// metadata commit, as a crash there would.
		imp.svc.AfterBlobPut = func(string) { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	if _, err := imp.svc.Account(ctx, o.toAccount); err != nil {
		if glacier.IsNotFound(err) {
			return fmt.Errorf("import: account %s does not exist here; create it with `permafrost accounts create --account-id %s`", o.toAccount, o.toAccount)
		}
		return err
	}
	h := sha256.Sum256([]byte(strings.Join([]string{o.endpoint, o.sourceRegion, imp.srcARN, o.toAccount, o.toVault}, "\n")))
	imp.stateKey = hex.EncodeToString(h[:16])

	if o.dryRun {
		return imp.dryRun(ctx, dv)
	}

	inv, err := imp.inventory(ctx)
	if err != nil {
		return err
	}
	todo, err := imp.plan(ctx, inv)
	if err != nil {
		return err
	}
	if err := imp.copyVault(ctx); err != nil {
		return err
	}
	if err := imp.importAll(ctx, todo); err != nil {
		return err
	}
	if o.copyLock {
		if err := imp.copyLock(ctx); err != nil {
			return err
		}
	}
	// Done: a later run starts over with a fresh inventory (and finds
	// every archive imported so far in place).
	if err := imp.progressStore.ClearImportProgress(ctx, imp.stateKey); err != nil {
		return err
	}
	imp.summary()
	return nil
}

// event prints one JSON line (--json or not a terminal) or, on a
// terminal, a line of text.
func (imp *importer) event(kind, text string, fields map[string]any) {
	imp.outMu.Lock()
	defer imp.outMu.Unlock()
	if imp.terminal {
		if text != "" { // per-archive events show in the bar
			fmt.Fprintf(imp.out, "\r\033[K%s\n", text)
		}
		return
	}
	m := map[string]any{"event": kind, "time": time.Now().UTC().Format(time.RFC3339)}
	if text != "" {
		m["message"] = text
	}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	fmt.Fprintf(imp.out, "%s\n", b)
}

// importProgress is the destination store's record of imports in
// progress (both stores implement it: table import_progress).
type importProgress interface {
	GetImportProgress(ctx context.Context, importKey, name string) (string, error)
	PutImportProgress(ctx context.Context, importKey, name, value string) error
	ClearImportProgress(ctx context.Context, importKey string) error
}

func (imp *importer) setting(ctx context.Context, name string) string {
	v, _ := imp.progressStore.GetImportProgress(ctx, imp.stateKey, name)
	return v
}

// setSetting records one value of this import's progress ("" removes it).
func (imp *importer) setSetting(ctx context.Context, name, v string) error {
	return imp.progressStore.PutImportProgress(ctx, imp.stateKey, name, v)
}

// dryRun reports what an import would do, starting nothing.
func (imp *importer) dryRun(ctx context.Context, dv *awsglacier.DescribeVaultOutput) error {
	count, size := dv.NumberOfArchives, dv.SizeInBytes
	source := "the source's DescribeVault (as of its last inventory)"
	todo := count
	invJob := 1
	if id := imp.setting(ctx, "inventory-job"); id != "" {
		if inv, err := imp.readInventory(ctx, id); err == nil {
			count, size, todo, invJob = int64(len(inv.ArchiveList)), 0, 0, 0
			source = "the inventory of job " + id
			for _, a := range inv.ArchiveList {
				size += a.Size
				if ia, err := importedArchive(a); err == nil {
					if done, err := imp.svc.ImportState(ctx, imp.o.toAccount, imp.o.toVault, ia); err == nil && !done {
						todo++
					}
				}
			}
		}
	}
	m := map[string]any{"archives": count, "bytes": size, "inventory_jobs": invJob, "retrieval_jobs": todo, "tier": imp.o.tier, "counts_from": source}
	if imp.o.asJSON {
		b, _ := json.Marshal(m)
		fmt.Fprintf(imp.out, "%s\n", b)
		return nil
	}
	fmt.Fprintf(imp.out, "dry run: vault %s holds %d archives, %d bytes (from %s)\nwould start %d inventory job(s) and %d %s archive-retrieval job(s) on the source, and import into vault %s of account %s\n",
		imp.srcARN, count, size, source, invJob, todo, imp.o.tier, imp.o.toVault, imp.o.toAccount)
	return nil
}

// inventory takes (or resumes) the source's inventory job and returns its
// output.
func (imp *importer) inventory(ctx context.Context) (*importInventory, error) {
	id := imp.setting(ctx, "inventory-job")
	for {
		if id == "" {
			out, err := imp.src.InitiateJob(ctx, &awsglacier.InitiateJobInput{
				AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault),
				JobParameters: &gtypes.JobParameters{Type: aws.String("inventory-retrieval"), Format: aws.String("JSON")},
			})
			if err != nil {
				if imp.backoff(ctx, "inventory job", err) {
					continue
				}
				return nil, fmt.Errorf("import: starting the inventory job: %w", err)
			}
			id = aws.ToString(out.JobId)
			if err := imp.setSetting(ctx, "inventory-job", id); err != nil {
				return nil, err
			}
			imp.event("inventory_started", "started inventory job "+id+" on "+imp.srcARN, map[string]any{"job_id": id})
		}
		status, msg, err := imp.waitJob(ctx, id, "the inventory job")
		if err != nil {
			return nil, err
		}
		if status == gtypes.StatusCodeSucceeded {
			inv, err := imp.readInventory(ctx, id)
			if err == nil {
				return inv, nil
			}
			if !isNotFound(err) {
				return nil, err
			}
		} else {
			imp.event("inventory_failed", "inventory job "+id+" failed ("+msg+"); starting another", nil)
		}
		id = "" // failed, or its output expired: take a new one
		imp.setSetting(ctx, "inventory-job", "")
	}
}

func (imp *importer) readInventory(ctx context.Context, id string) (*importInventory, error) {
	out, err := imp.src.GetJobOutput(ctx, &awsglacier.GetJobOutputInput{
		AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault), JobId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	var inv importInventory
	if err := json.NewDecoder(out.Body).Decode(&inv); err != nil {
		return nil, fmt.Errorf("import: reading the inventory of job %s: %w", id, err)
	}
	return &inv, nil
}

// waitJob polls a source job until it is no longer in progress; a job the
// source no longer knows is reported as Failed.
func (imp *importer) waitJob(ctx context.Context, id, what string) (gtypes.StatusCode, string, error) {
	first := true
	for {
		d, err := imp.src.DescribeJob(ctx, &awsglacier.DescribeJobInput{
			AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault), JobId: aws.String(id)})
		if err != nil {
			if isNotFound(err) {
				return gtypes.StatusCodeFailed, "the source no longer knows the job", nil
			}
			if ctx.Err() != nil {
				return "", "", ctx.Err()
			}
			imp.event("retry", fmt.Sprintf("checking %s failed (%v); retrying in %s", what, err, imp.o.poll), nil)
		} else if d.StatusCode != gtypes.StatusCodeInProgress {
			return d.StatusCode, aws.ToString(d.StatusMessage), nil
		} else if first && what == "the inventory job" {
			imp.event("waiting", fmt.Sprintf("waiting for %s %s (started %s; Glacier takes hours), checking every %s", what, id, aws.ToString(d.CreationDate), imp.o.poll), map[string]any{"job_id": id})
		}
		first = false
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(imp.o.poll):
		}
	}
}

// backoff waits after a refusal the source may lift (retrieval policy,
// capacity, throttling, limits) and reports true; other errors false.
func (imp *importer) backoff(ctx context.Context, what string, err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "PolicyEnforcedException", "InsufficientCapacityException", "LimitExceededException",
		"ThrottlingException", "ServiceUnavailableException", "RequestTimeoutException", "SlowDown":
	default:
		return false
	}
	wait := imp.o.poll
	imp.event("backoff", fmt.Sprintf("the source refused the %s (%s: %s); waiting %s before trying again", what, ae.ErrorCode(), ae.ErrorMessage(), wait),
		map[string]any{"code": ae.ErrorCode()})
	select {
	case <-ctx.Done():
		return false
	case <-time.After(wait):
	}
	return true
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}

func importedArchive(a importInventoryArchive) (glacier.ImportedArchive, error) {
	h, err := treehash.ParseHex(a.SHA256TreeHash)
	if err != nil {
		return glacier.ImportedArchive{}, fmt.Errorf("archive %s: tree hash %q: %w", a.ArchiveId, a.SHA256TreeHash, err)
	}
	created, err := time.Parse(time.RFC3339Nano, a.CreationDate)
	if err != nil {
		return glacier.ImportedArchive{}, fmt.Errorf("archive %s: creation date %q: %w", a.ArchiveId, a.CreationDate, err)
	}
	return glacier.ImportedArchive{ID: a.ArchiveId, Description: a.ArchiveDescription, CreatedAt: created.UTC(), Size: a.Size, TreeHash: h}, nil
}

// plan checks every archive against the destination: already imported
// ones are skipped; an id that exists with other content stops the
// import before anything is written.
func (imp *importer) plan(ctx context.Context, inv *importInventory) ([]glacier.ImportedArchive, error) {
	var todo []glacier.ImportedArchive
	var conflicts []string
	for _, a := range inv.ArchiveList {
		ia, err := importedArchive(a)
		if err != nil {
			return nil, fmt.Errorf("import: the source's inventory: %w", err)
		}
		imp.total++
		imp.totalBytes += ia.Size
		done, err := imp.svc.ImportState(ctx, imp.o.toAccount, imp.o.toVault, ia)
		if glacier.KindOf(err) == glacier.KindConflict {
			conflicts = append(conflicts, err.Error())
			continue
		}
		if err != nil {
			return nil, err
		}
		if done {
			imp.skipped++
			imp.done.Add(1)
			imp.doneBytes.Add(ia.Size)
			continue
		}
		todo = append(todo, ia)
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("import: %d archive id(s) exist here with other content; nothing was imported:\n  %s", len(conflicts), strings.Join(conflicts, "\n  "))
	}
	imp.event("plan", fmt.Sprintf("%d archives (%d bytes) in %s; %d already imported, %d to retrieve", imp.total, imp.totalBytes, imp.srcARN, imp.skipped, len(todo)),
		map[string]any{"archives": imp.total, "bytes": imp.totalBytes, "already_imported": imp.skipped, "to_retrieve": len(todo)})
	return todo, nil
}

// rewriteARNs moves the ARNs of a copied document from the source
// account, region and vault to the destination's.
func (imp *importer) rewriteARNs(s string) string {
	return glacier.ARNMove{
		FromAccount: imp.srcAcct, FromRegion: imp.srcRegion, FromVault: imp.o.vault,
		ToAccount: imp.o.toAccount, ToRegion: imp.dstRegion, ToVault: imp.o.toVault,
	}.Rewrite(s)
}

// copyVault creates the destination vault and copies tags, the access
// policy and the notification configuration.
func (imp *importer) copyVault(ctx context.Context) error {
	o := imp.o
	if _, err := imp.svc.CreateVault(ctx, imp.root, o.toAccount, o.toVault); err != nil {
		return fmt.Errorf("import: creating vault %s: %w", o.toVault, err)
	}
	src := func() (*string, *string) { return aws.String(o.sourceAccount), aws.String(o.vault) }
	acct, vault := src()
	tags, err := imp.src.ListTagsForVault(ctx, &awsglacier.ListTagsForVaultInput{AccountId: acct, VaultName: vault})
	if err != nil {
		return fmt.Errorf("import: reading the source's tags: %w", err)
	}
	keys := make([]string, 0, len(tags.Tags))
	for k := range tags.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i := 0; i < len(keys); i += glacier.MaxTagsPerRequest {
		batch := map[string]string{}
		for _, k := range keys[i:min(i+glacier.MaxTagsPerRequest, len(keys))] {
			batch[k] = tags.Tags[k]
		}
		if err := imp.svc.AddTagsToVault(ctx, imp.root, o.toAccount, o.toVault, batch); err != nil {
			return fmt.Errorf("import: copying tags: %w", err)
		}
	}
	pol, err := imp.src.GetVaultAccessPolicy(ctx, &awsglacier.GetVaultAccessPolicyInput{AccountId: acct, VaultName: vault})
	switch {
	case err == nil && pol.Policy != nil:
		if err := imp.svc.SetVaultAccessPolicy(ctx, imp.root, o.toAccount, o.toVault, imp.rewriteARNs(aws.ToString(pol.Policy.Policy))); err != nil {
			return fmt.Errorf("import: copying the access policy: %w", err)
		}
	case err != nil && !isNotFound(err):
		return fmt.Errorf("import: reading the source's access policy: %w", err)
	}
	nc, err := imp.src.GetVaultNotifications(ctx, &awsglacier.GetVaultNotificationsInput{AccountId: acct, VaultName: vault})
	switch {
	case err == nil && nc.VaultNotificationConfig != nil:
		cfg := glacier.NotificationConfig{SNSTopic: imp.rewriteARNs(aws.ToString(nc.VaultNotificationConfig.SNSTopic)), Events: nc.VaultNotificationConfig.Events}
		if err := imp.svc.SetVaultNotifications(ctx, imp.root, o.toAccount, o.toVault, cfg); err != nil {
			imp.event("warning", fmt.Sprintf("the notification configuration (topic %s) was not copied: %v", cfg.SNSTopic, err), nil)
		}
	case err != nil && !isNotFound(err):
		return fmt.Errorf("import: reading the source's notification configuration: %w", err)
	}
	return nil
}

// copyLock reproduces the source's Locked lock on the destination vault.
func (imp *importer) copyLock(ctx context.Context) error {
	o := imp.o
	l, err := imp.src.GetVaultLock(ctx, &awsglacier.GetVaultLockInput{AccountId: aws.String(o.sourceAccount), VaultName: aws.String(o.vault)})
	if isNotFound(err) || err == nil && aws.ToString(l.State) != "Locked" {
		imp.event("lock", "the source vault has no Locked vault lock; none copied", nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("import: reading the source's vault lock: %w", err)
	}
	policy := imp.rewriteARNs(aws.ToString(l.Policy))
	copied, err := imp.svc.CopyVaultLock(ctx, imp.root, o.toAccount, o.toVault, policy)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if copied {
		imp.event("lock", "vault "+o.toVault+" is now Locked with the source's lock policy", nil)
	}
	return nil
}

// importAll retrieves and stores the archives, concurrency at a time.
func (imp *importer) importAll(ctx context.Context, todo []glacier.ImportedArchive) error {
	if err := imp.adoptSourceJobs(ctx, todo); err != nil {
		return err
	}
	imp.started, imp.startBytes = time.Now(), imp.doneBytes.Load()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan glacier.ImportedArchive)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range imp.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				if err := imp.importOne(ctx, a); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	stopProgress := imp.progressLoop()
	go func() {
		defer close(work)
		for _, a := range todo {
			select {
			case work <- a:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	stopProgress()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// adoptSourceJobs records, for archives without a recorded job, a whole-
// archive retrieval job the source already has (in progress or
// succeeded): one a run started just before it was killed, before it could
// record it, or anyone else's — the bytes are the same, and a job saved is
// hours saved.
func (imp *importer) adoptSourceJobs(ctx context.Context, todo []glacier.ImportedArchive) error {
	want := map[string]int64{}
	for _, a := range todo {
		if imp.setting(ctx, "job/"+a.ID) == "" {
			want[a.ID] = a.Size
		}
	}
	if len(want) == 0 {
		return nil
	}
	found := map[string]string{}
	pages := awsglacier.NewListJobsPaginator(imp.src, &awsglacier.ListJobsInput{AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("import: listing the source's jobs: %w", err)
		}
		for _, j := range p.JobList {
			size, ok := want[aws.ToString(j.ArchiveId)]
			if !ok || j.Action != gtypes.ActionCodeArchiveRetrieval || j.StatusCode == gtypes.StatusCodeFailed {
				continue
			}
			if r := aws.ToString(j.RetrievalByteRange); r != "" && r != fmt.Sprintf("0-%d", size-1) {
				continue
			}
			if prev, ok := found[aws.ToString(j.ArchiveId)]; ok && prev != "" && j.StatusCode != gtypes.StatusCodeSucceeded {
				continue // keep a succeeded one
			}
			found[aws.ToString(j.ArchiveId)] = aws.ToString(j.JobId)
		}
	}
	for id, job := range found {
		if err := imp.setSetting(ctx, "job/"+id, job); err != nil {
			return err
		}
	}
	return nil
}

// importOne retrieves one archive through a source job (reusing the one a
// previous run started) and stores it.
func (imp *importer) importOne(ctx context.Context, a glacier.ImportedArchive) error {
	key := "job/" + a.ID
	for attempt := 1; ; attempt++ {
		id := imp.setting(ctx, key)
		if id == "" {
			out, err := imp.src.InitiateJob(ctx, &awsglacier.InitiateJobInput{
				AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault),
				JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(a.ID), Tier: aws.String(imp.o.tier)},
			})
			if err != nil {
				if imp.backoff(ctx, "retrieval job for archive "+a.ID, err) {
					attempt--
					continue
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("import: starting the retrieval of archive %s: %w", a.ID, err)
			}
			id = aws.ToString(out.JobId)
			if err := imp.setSetting(ctx, key, id); err != nil {
				return err
			}
		}
		imp.waiting.Add(1)
		status, msg, err := imp.waitJob(ctx, id, "the retrieval of archive "+a.ID)
		imp.waiting.Add(-1)
		if err != nil {
			return err
		}
		if status == gtypes.StatusCodeSucceeded {
			stored, err := imp.download(ctx, a, id)
			if err == nil {
				imp.setSetting(ctx, key, "")
				imp.done.Add(1)
				imp.doneBytes.Add(a.Size)
				imp.event("archive", "", map[string]any{"archive_id": a.ID, "bytes": a.Size, "stored": stored})
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if glacier.KindOf(err) == glacier.KindConflict || attempt >= 3 {
				return fmt.Errorf("import: archive %s: %w", a.ID, err)
			}
			imp.event("retry", fmt.Sprintf("archive %s: %v; retrying", a.ID, err), nil)
			if !isNotFound(err) {
				continue // download again from the same job
			}
		} else if attempt >= 3 {
			return fmt.Errorf("import: the retrieval job of archive %s failed %d times, last: %s", a.ID, attempt, msg)
		} else {
			imp.event("retry", fmt.Sprintf("the retrieval job %s of archive %s failed (%s); starting another", id, a.ID, msg), nil)
		}
		imp.setSetting(ctx, key, "")
	}
}

// download streams a succeeded job's output into the destination,
// verified against the inventory's size and tree hash.
func (imp *importer) download(ctx context.Context, a glacier.ImportedArchive, jobID string) (bool, error) {
	out, err := imp.src.GetJobOutput(ctx, &awsglacier.GetJobOutputInput{
		AccountId: aws.String(imp.o.sourceAccount), VaultName: aws.String(imp.o.vault), JobId: aws.String(jobID)})
	if err != nil {
		return false, err
	}
	defer out.Body.Close()
	if h := aws.ToString(out.Checksum); h != "" && h != a.TreeHash.String() {
		return false, fmt.Errorf("the job's output has tree hash %s, the inventory says %s", h, a.TreeHash)
	}
	return imp.svc.ImportArchive(ctx, imp.o.toAccount, imp.o.toVault, a, out.Body)
}

// progressLoop shows progress until the returned function is called: a
// live bar on a terminal, a JSON line every few seconds otherwise.
func (imp *importer) progressLoop() func() {
	stop := make(chan struct{})
	finished := make(chan struct{})
	every := 5 * time.Second
	if imp.terminal {
		every = 500 * time.Millisecond
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				imp.progress(true)
				return
			case <-t.C:
				imp.progress(false)
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func (imp *importer) progress(final bool) {
	done, bytes, waiting := imp.done.Load(), imp.doneBytes.Load(), imp.waiting.Load()
	elapsed := time.Since(imp.started).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(bytes-imp.startBytes) / elapsed
	}
	eta := -1.0
	if rate > 0 {
		eta = float64(imp.totalBytes-bytes) / rate
	}
	if !imp.terminal {
		imp.event("progress", "", map[string]any{"archives_done": done, "archives_total": imp.total, "bytes_done": bytes, "bytes_total": imp.totalBytes,
			"bytes_per_second": int64(rate), "eta_seconds": int64(eta), "jobs_waiting": waiting})
		return
	}
	const width = 30
	fill := width
	if imp.totalBytes > 0 {
		fill = int(float64(width) * float64(bytes) / float64(imp.totalBytes))
	}
	etaText := "?"
	if eta >= 0 {
		etaText = (time.Duration(eta) * time.Second).Round(time.Second).String()
	}
	imp.outMu.Lock()
	fmt.Fprintf(imp.out, "\r\033[K[%s%s] %d/%d archives  %s/%s  %s/s  ETA %s  jobs waiting %d",
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, imp.total, humanBytes(bytes), humanBytes(imp.totalBytes), humanBytes(int64(rate)), etaText, waiting)
	if final {
		fmt.Fprintln(imp.out)
	}
	imp.outMu.Unlock()
}

func (imp *importer) summary() {
	text := fmt.Sprintf("imported vault %s into vault %s of account %s: %d archives, %d bytes (%d were already there)",
		imp.srcARN, imp.o.toVault, imp.o.toAccount, imp.done.Load(), imp.doneBytes.Load(), imp.skipped)
	imp.event("done", text, map[string]any{"archives": imp.done.Load(), "bytes": imp.doneBytes.Load(), "already_imported": imp.skipped})
}
