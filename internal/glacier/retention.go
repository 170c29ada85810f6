package glacier

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/permafrost/permafrost/internal/vaultlock"
)

// Retainer is a BlobStore that can keep blobs under retention enforced by
// the storage itself (S3 Object Lock): until a blob's date nobody — not
// permafrost, not the bucket's own credentials — can delete or overwrite it.
type Retainer interface {
	// ObjectLock reports whether retention is in force and its mode.
	ObjectLock() (enabled bool, mode string)
	// Retain keeps the blob until the given time; it never shortens a
	// retention already set.
	Retain(ctx context.Context, key string, until time.Time) error
}

// RetentionProgress is the state of applying a vault's retention floor to
// the archives it held when its lock completed (stored as a setting, so
// that the work resumes after a restart and operators can watch it).
type RetentionProgress struct {
	FloorDays int       `json:"floorDays"`
	Archives  int       `json:"archives"` // archives to cover
	Done      int       `json:"done"`
	Last      string    `json:"last,omitempty"` // last archive covered, in scan order
	Finished  bool      `json:"finished"`
	Error     string    `json:"error,omitempty"`
	Updated   time.Time `json:"updated"`
}

// retentionKey is the setting holding a vault's RetentionProgress.
func retentionKey(accountID, vault string) string {
	return "retention/" + accountID + "/" + vault
}

// retainer returns the blob store's Retainer when retention is in force,
// found through wrappers (InlineBlobs, the metrics' counting wrapper).
func (s *Service) retainer() Retainer {
	b := s.Blobs
	for {
		if r, ok := b.(Retainer); ok {
			if on, _ := r.ObjectLock(); !on {
				return nil
			}
			return r
		}
		w, ok := b.(BlobStoreWrapper)
		if !ok {
			return nil
		}
		b = w.UnwrapBlobStore()
	}
}

var floorCache sync.Map // lock policy + vault ARN → vaultlock.Floor

// RetentionFloor returns the retention floor of a vault: what its Locked
// lock policy derives (vaultlock.RetentionFloor); none while the lock is
// not Locked.
func (s *Service) RetentionFloor(ctx context.Context, accountID, vault string) (vaultlock.Floor, *Lock, error) {
	l, err := s.Policies.GetLock(ctx, accountID, vault)
	if err != nil {
		return vaultlock.Floor{}, nil, err
	}
	if l == nil || l.State != LockLocked {
		return vaultlock.Floor{Reasons: []string{"the vault's lock is not Locked"}}, l, nil
	}
	return s.floorOf(l.Policy, s.VaultARN(accountID, vault)), l, nil
}

func (s *Service) floorOf(doc, arn string) vaultlock.Floor {
	k := arn + "\x00" + doc
	if f, ok := floorCache.Load(k); ok {
		return f.(vaultlock.Floor)
	}
	f := vaultlock.RetentionFloor(doc, arn)
	floorCache.Store(k, f)
	noteFloor(f.Days)
	return f
}

// retainCommitted closes the race with a lock completing while an upload
// is in flight: an archive whose blobs got no retention before its commit
// (the vault had no floor then) is checked again after it, so either the
// completed lock's applier saw the archive, or this check sees the lock.
func (s *Service) retainCommitted(ctx context.Context, accountID, vault string, created time.Time, keys []string) {
	if _, err := s.retain(ctx, accountID, vault, created, keys); err != nil {
		s.logger().Error("setting the retention of an archive stored while its vault's lock completed failed", "account", accountID, "vault", vault, "keys", keys, "err", err)
	}
}

// retain puts the blobs of an archive about to be created under retention
// until created + the vault's floor, before the upload is acknowledged, and
// reports whether there was a floor. It does nothing without Object Lock
// or without a floor.
func (s *Service) retain(ctx context.Context, accountID, vault string, created time.Time, keys []string) (bool, error) {
	r := s.retainer()
	if r == nil {
		return false, nil
	}
	f, _, err := s.RetentionFloor(ctx, accountID, vault)
	if err != nil || f.Days == 0 {
		if IsNotFound(err) {
			return false, nil // the store's own write reports the missing vault
		}
		return false, err
	}
	until := created.Add(time.Duration(f.Days) * 24 * time.Hour)
	for _, k := range keys {
		if IsInlineKey(k) {
			s.skipInlineRetention(accountID, vault, k)
			continue
		}
		if err := r.Retain(ctx, k, until); err != nil {
			return true, Wrap(KindUnavailable, err, "setting the archive's retention failed; try again")
		}
	}
	return true, nil
}

// retainParts applies retain to the parts of an upload being completed.
func (s *Service) retainParts(ctx context.Context, accountID, vault, uploadID string, created time.Time) (applied bool, keys []string, err error) {
	if s.retainer() == nil {
		return false, nil, nil
	}
	parts, err := s.Uploads.ListParts(ctx, uploadID, 0, MaxParts+1)
	if err != nil {
		if IsNotFound(err) {
			return false, nil, nil
		}
		return false, nil, err
	}
	keys = make([]string, 0, len(parts))
	for _, p := range parts {
		keys = append(keys, p.BlobKey)
	}
	applied, err = s.retain(ctx, accountID, vault, created, keys)
	return applied, keys, err
}

// RetentionStatus returns the progress of applying the vault's floor to
// its existing archives (nil when none was started).
func (s *Service) RetentionStatus(ctx context.Context, accountID, vault string) (*RetentionProgress, error) {
	v, err := s.Settings.GetSetting(ctx, retentionKey(accountID, vault))
	if err != nil || v == "" {
		return nil, err
	}
	var p RetentionProgress
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("retention progress of %s: %w", vault, err)
	}
	return &p, nil
}

func (s *Service) saveRetention(ctx context.Context, accountID, vault string, p RetentionProgress) error {
	p.Updated = time.Now().UTC()
	b, _ := json.Marshal(p)
	return s.Settings.PutSetting(ctx, retentionKey(accountID, vault), string(b))
}

// retentionRunning keeps one applier per vault in this process.
var retentionRunning sync.Map

// ApplyRetention applies a Locked vault's floor to every archive it holds,
// resuming where a previous run stopped (RetentionProgress.Last). It runs
// after CompleteVaultLock and at start-up for unfinished vaults; several
// nodes may run it at once (Retain is idempotent). It returns when done.
func (s *Service) ApplyRetention(ctx context.Context, accountID, vault string) error {
	if _, busy := retentionRunning.LoadOrStore(accountID+"/"+vault, true); busy {
		return nil
	}
	defer retentionRunning.Delete(accountID + "/" + vault)
	r := s.retainer()
	if r == nil {
		return nil
	}
	f, _, err := s.RetentionFloor(ctx, accountID, vault)
	if err != nil {
		if IsNotFound(err) {
			return nil
		}
		return err
	}
	if f.Days == 0 {
		return nil
	}
	prog, err := s.RetentionStatus(ctx, accountID, vault)
	if err != nil {
		return err
	}
	if prog == nil {
		prog = &RetentionProgress{}
	}
	if prog.Finished {
		return nil
	}
	prog.FloorDays = f.Days
	type item struct {
		id      string
		created time.Time
	}
	var items []item
	if err := s.Archives.ScanArchives(ctx, accountID, vault, func(a Archive) error {
		items = append(items, item{a.ID, a.CreatedAt})
		return nil
	}); err != nil {
		return err
	}
	start := 0
	if prog.Last != "" {
		for i, it := range items {
			if it.id == prog.Last {
				start = i + 1
				break
			}
		}
	}
	prog.Archives = len(items)
	prog.Done = start
	prog.Error = ""
	fail := func(err error) error {
		prog.Error = err.Error()
		s.saveRetention(context.WithoutCancel(ctx), accountID, vault, *prog)
		return err
	}
	until := func(c time.Time) time.Time { return c.Add(time.Duration(f.Days) * 24 * time.Hour) }
	for i := start; i < len(items); i++ {
		a, err := s.Archives.GetArchive(ctx, items[i].id)
		if err == nil {
			for _, seg := range a.Segments {
				if IsInlineKey(seg.BlobKey) {
					s.skipInlineRetention(accountID, vault, seg.BlobKey)
					continue
				}
				if err := r.Retain(ctx, seg.BlobKey, until(a.CreatedAt)); err != nil && KindOf(err) != KindNotFound {
					return fail(err)
				}
			}
		} else if !IsNotFound(err) {
			return fail(err)
		}
		prog.Done, prog.Last = i+1, items[i].id
		if (i+1)%100 == 0 {
			if err := s.saveRetention(ctx, accountID, vault, *prog); err != nil {
				return err
			}
		}
	}
	prog.Finished = true
	if err := s.saveRetention(ctx, accountID, vault, *prog); err != nil {
		return err
	}
	s.logger().Info("retention applied to the archives a locked vault held", "account", accountID, "vault", vault, "archives", prog.Done, "floor_days", f.Days)
	return nil
}

// startRetention logs a vault's floor once its lock is Locked and starts
// applying it to the existing archives in the background.
func (s *Service) startRetention(accountID, vault string) {
	ctx := context.Background()
	f, l, err := s.RetentionFloor(ctx, accountID, vault)
	if err != nil || l == nil || l.State != LockLocked {
		return
	}
	if f.Days == 0 {
		s.logger().Warn("the locked vault's policy gives no retention floor: no storage retention is set", "account", accountID, "vault", vault, "reasons", f.Reasons)
		return
	}
	if s.retainer() == nil {
		s.logger().Warn("the locked vault has a retention floor, but the blob store cannot enforce it (use an S3 bucket with Object Lock)", "account", accountID, "vault", vault, "floor_days", f.Days)
		return
	}
	s.logger().Info("vault locked with a retention floor; applying it to its archives", "account", accountID, "vault", vault, "floor_days", f.Days)
	go func() {
		if err := s.ApplyRetention(ctx, accountID, vault); err != nil {
			s.logger().Error("applying retention failed; it resumes at the next start", "account", accountID, "vault", vault, "err", err)
		}
	}()
}

// ResumeRetention finishes applying retention on every Locked vault with a
// floor whose applier has not finished (after a restart). It returns when
// all are done.
func (s *Service) ResumeRetention(ctx context.Context) error {
	accounts, err := s.Identity.ListAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		from := ""
		for {
			vs, err := s.Vaults.ListVaults(ctx, a.ID, from, 100)
			if err != nil {
				return err
			}
			for _, v := range vs {
				f, _, err := s.RetentionFloor(ctx, a.ID, v.Name)
				if err != nil || f.Days == 0 {
					continue
				}
				if err := s.ApplyRetention(ctx, a.ID, v.Name); err != nil {
					s.logger().Error("applying retention failed", "account", a.ID, "vault", v.Name, "err", err)
				}
			}
			if len(vs) < 100 {
				break
			}
			from = vs[len(vs)-1].Name + "\x00"
		}
	}
	return nil
}

// maxFloorDays is the longest retention floor seen in this process (of a
// Locked vault), for the audit log's own retention.
var maxFloorDays atomic.Int64

// MaxFloor returns the longest retention floor of a Locked vault this
// process has seen (ResumeRetention, at start, looks at every vault).
func MaxFloor() time.Duration {
	return time.Duration(maxFloorDays.Load()) * 24 * time.Hour
}

func noteFloor(days int) {
	for {
		cur := maxFloorDays.Load()
		if int64(days) <= cur || maxFloorDays.CompareAndSwap(cur, int64(days)) {
			return
		}
	}
}

// skipInlineRetention logs an inline blob that storage retention cannot
// cover: its bytes are a row of the metadata database, not an object
// under Object Lock. The service never inlines while retention is in
// force (inlines); such a blob was stored before, or copied in by
// migrate from an installation that inlined.
func (s *Service) skipInlineRetention(accountID, vault, key string) {
	s.logger().Warn("an archive's bytes are kept in the metadata database (inline), where Object Lock retention cannot hold them; only the vault lock's own rules protect it", "account", accountID, "vault", vault, "key", key)
}
