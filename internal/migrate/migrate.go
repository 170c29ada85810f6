// Package migrate copies an installation from one pair of stores to
// another — typically the embedded SQLite + local disk to PostgreSQL + an
// S3-compatible bucket — through the store interfaces only, so any pair of
// implementations works.
//
// Decisions:
//
//   - Everything durable is copied: accounts, access keys, users, vaults
//     with their tags, notification configuration, access policy and lock
//     record (Locked stays Locked), archives with their bytes, inventory
//     snapshots, retrieval policies, provisioned capacity and the test
//     clock's offset. Transient state is not: open multipart uploads, jobs
//     and undelivered notifications (finish or abort uploads and let jobs
//     complete before migrating; the guide says so).
//   - Every archive's bytes are read once from the source, tree-hashed
//     while they stream into the target, and checked against the stored
//     segment and archive tree hashes before the archive's metadata is
//     committed in the target. A mismatch stops the migration with the
//     archive's id: nothing corrupt is copied silently.
//   - Re-running is safe: what already exists in the target (by account id,
//     key id, user name, vault name, archive id) is left as it is. Bytes
//     get fresh blob keys in the target, and each key is recorded as a
//     blob intent in the target (when its store keeps them, as both
//     built-in stores do) before its blob is written, exactly as an
//     upload does: a run interrupted between a blob write and its
//     metadata commit leaves an unreferenced blob and its intent, which
//     the target's next housekeeping pass removes without listing the
//     blob store.
package migrate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// Stores is one side of a migration.
type Stores struct {
	Meta  glacier.Stores // the roles of the metadata store (its Roles())
	Blobs glacier.BlobStore
	// AfterBlobPut, when set on the target, is called after each blob
	// write and before the metadata that references it is committed: a
	// failpoint for crash tests.
	AfterBlobPut func(key string)
}

// Stats counts what a run copied and skipped.
type Stats struct {
	Accounts, Keys, Users, Vaults      int
	Archives, ArchivesSkipped          int
	Bytes                              int64
	Locks, AccessPolicies, Inventories int
}

// Settings the migration copies besides per-account ones.
var globalSettings = []string{"test_clock_offset_ns", regionSetting}

// regionSetting is the installation's region (glacier.RegionSetting): the
// target must not already be fixed to another one.
const regionSetting = glacier.RegionSetting

// Run copies src into dst. Progress is logged to log.
func Run(ctx context.Context, src, dst Stores, log *slog.Logger) (Stats, error) {
	m := &migration{src: src, dst: dst, log: log}
	err := m.run(ctx)
	return m.stats, err
}

type migration struct {
	src, dst Stores
	log      *slog.Logger
	stats    Stats
}

func (m *migration) run(ctx context.Context) error {
	for _, k := range globalSettings {
		if err := m.copySetting(ctx, k); err != nil {
			return err
		}
	}
	accounts, err := m.src.Meta.Identity.ListAccounts(ctx)
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	for _, a := range accounts {
		if err := m.account(ctx, a); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
	}
	return nil
}

func (m *migration) copySetting(ctx context.Context, key string) error {
	v, err := m.src.Meta.Settings.GetSetting(ctx, key)
	if err != nil || v == "" {
		return err
	}
	cur, err := m.dst.Meta.Settings.GetSetting(ctx, key)
	if err != nil {
		return err
	}
	if key == regionSetting && cur != "" && cur != v {
		return fmt.Errorf("the source installation's region is %s but the target's is %s: vault ARNs would change", v, cur)
	}
	if cur != "" {
		return nil
	}
	return m.dst.Meta.Settings.PutSetting(ctx, key, v)
}

// exists turns a "conflict" answer into a skip.
func exists(err error) bool { return glacier.KindOf(err) == glacier.KindConflict }

func (m *migration) account(ctx context.Context, a glacier.Account) error {
	if err := m.dst.Meta.Identity.CreateAccount(ctx, a); err == nil {
		m.stats.Accounts++
	} else if !exists(err) {
		return err
	}
	users, err := m.src.Meta.Identity.ListUsers(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := m.dst.Meta.Identity.CreateUser(ctx, u); err == nil {
			m.stats.Users++
		} else if !exists(err) {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	keys, err := m.src.Meta.Identity.ListAccessKeys(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := m.dst.Meta.Identity.CreateAccessKey(ctx, k); err == nil {
			m.stats.Keys++
		} else if !exists(err) {
			return fmt.Errorf("access key %s: %w", k.ID, err)
		}
	}
	if err := m.copySetting(ctx, "retrieval-policy/"+a.ID); err != nil {
		return err
	}
	if err := m.capacity(ctx, a.ID); err != nil {
		return err
	}
	from := ""
	for {
		vs, err := m.src.Meta.Vaults.ListVaults(ctx, a.ID, from, 100)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if err := m.vault(ctx, v); err != nil {
				return fmt.Errorf("vault %s: %w", v.Name, err)
			}
		}
		if len(vs) < 100 {
			return nil
		}
		from = vs[len(vs)-1].Name + "\x00"
	}
}

func (m *migration) capacity(ctx context.Context, accountID string) error {
	now := time.Now()
	units, err := m.src.Meta.Jobs.ListCapacity(ctx, accountID, now)
	if err != nil {
		return err
	}
	have, err := m.dst.Meta.Jobs.ListCapacity(ctx, accountID, now)
	if err != nil {
		return err
	}
	for _, u := range units {
		if !containsCapacity(have, u.ID) {
			if err := m.dst.Meta.Jobs.PurchaseCapacity(ctx, u, len(units)); err != nil {
				return fmt.Errorf("provisioned capacity %s: %w", u.ID, err)
			}
		}
	}
	return nil
}

func containsCapacity(list []glacier.ProvisionedCapacity, id string) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

func (m *migration) vault(ctx context.Context, v glacier.Vault) error {
	nv := glacier.Vault{AccountID: v.AccountID, Name: v.Name, CreatedAt: v.CreatedAt}
	if _, created, err := m.dst.Meta.Vaults.CreateVault(ctx, nv, 1<<30); err != nil {
		return err
	} else if created {
		m.stats.Vaults++
	}
	tags, err := m.src.Meta.Vaults.GetTags(ctx, v.AccountID, v.Name)
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		if err := m.dst.Meta.Vaults.AddTags(ctx, v.AccountID, v.Name, tags, 1<<30); err != nil {
			return err
		}
	}
	if cfg, err := m.src.Meta.Vaults.GetNotificationConfig(ctx, v.AccountID, v.Name); err == nil {
		if err := m.dst.Meta.Vaults.SetNotificationConfig(ctx, v.AccountID, v.Name, cfg); err != nil {
			return err
		}
	} else if !glacier.IsNotFound(err) {
		return err
	}
	if p, err := m.src.Meta.Policies.GetAccessPolicy(ctx, v.AccountID, v.Name); err == nil {
		if err := m.dst.Meta.Policies.SetAccessPolicy(ctx, v.AccountID, v.Name, p); err != nil {
			return err
		}
		m.stats.AccessPolicies++
	} else if !glacier.IsNotFound(err) {
		return err
	}
	if err := m.lock(ctx, v); err != nil {
		return err
	}
	var archives []glacier.Archive
	if err := m.src.Meta.Archives.ScanArchives(ctx, v.AccountID, v.Name, func(a glacier.Archive) error {
		archives = append(archives, glacier.Archive{ID: a.ID})
		return nil
	}); err != nil {
		return err
	}
	for _, a := range archives {
		if err := m.archive(ctx, a.ID); err != nil {
			return fmt.Errorf("archive %s: %w", a.ID, err)
		}
	}
	return m.inventory(ctx, v)
}

// lock copies the lock record as it is, unless the target has one.
func (m *migration) lock(ctx context.Context, v glacier.Vault) error {
	l, err := m.src.Meta.Policies.GetLock(ctx, v.AccountID, v.Name)
	if err != nil || l == nil {
		return err
	}
	return m.dst.Meta.Policies.UpdateLock(ctx, v.AccountID, v.Name, func(cur *glacier.Lock) (*glacier.Lock, error) {
		if cur != nil {
			return cur, nil
		}
		m.stats.Locks++
		return l, nil
	})
}

// archive copies one archive's bytes, verifying them, then its metadata.
func (m *migration) archive(ctx context.Context, id string) error {
	if _, err := m.dst.Meta.Archives.GetArchive(ctx, id); err == nil {
		m.stats.ArchivesSkipped++
		return nil
	} else if !glacier.IsNotFound(err) {
		return err
	}
	a, err := m.src.Meta.Archives.GetArchive(ctx, id)
	if err != nil {
		return err
	}
	leaves, err := m.src.Meta.Archives.ArchiveLeaves(ctx, id)
	if err != nil {
		return err
	}
	var all []treehash.Hash
	var written []string
	for i := range a.Segments {
		seg := &a.Segments[i]
		key, h, err := m.copyBlob(ctx, seg.BlobKey, false)
		if err != nil {
			m.deleteBlobs(ctx, written)
			return fmt.Errorf("segment %d: %w", i, err)
		}
		written = append(written, key)
		if h.Size() != seg.Size || h.TreeHash() != seg.TreeHash {
			m.deleteBlobs(ctx, written)
			return fmt.Errorf("segment %d is corrupt: %d bytes with tree hash %s, the metadata says %d bytes with %s",
				i, h.Size(), h.TreeHash(), seg.Size, seg.TreeHash)
		}
		seg.BlobKey, seg.Leaves = key, h.Leaves()
		all = append(all, seg.Leaves...)
	}
	if got := treehash.Reduce(all); got != a.TreeHash || !equalHashes(all, leaves) {
		m.deleteBlobs(ctx, written)
		return fmt.Errorf("archive is corrupt: its bytes hash to %s, the metadata says %s", got, a.TreeHash)
	}
	if err := m.dst.Meta.Archives.CreateArchive(ctx, a); err != nil {
		m.deleteBlobs(ctx, written)
		return err
	}
	m.stats.Archives++
	m.stats.Bytes += a.Size
	if m.stats.Archives%1000 == 0 {
		m.log.Info("migrating", "archives", m.stats.Archives, "bytes", m.stats.Bytes)
	}
	return nil
}

// copyBlob streams a source blob into a new target blob, hashing it on the
// way, and returns the new key and the hashes. A readable blob (an
// inventory snapshot) stays out of an archive storage class.
func (m *migration) copyBlob(ctx context.Context, key string, readable bool) (string, *treehash.Hasher, error) {
	r, err := m.src.Blobs.Open(ctx, key, 0, -1)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	h := treehash.New()
	nk := newKey()
	put := m.dst.Blobs.Put
	if rs, ok := m.dst.Blobs.(glacier.Restorer); ok && readable && rs.Archival() {
		put = rs.PutReadable
	}
	if is := m.dst.Meta.Intents; is != nil {
		if err := is.AddBlobIntent(ctx, nk, time.Now()); err != nil {
			return "", nil, fmt.Errorf("recording the blob intent: %w", err)
		}
	}
	if _, err := put(ctx, nk, io.TeeReader(r, h)); err != nil {
		return "", nil, err
	}
	if m.dst.AfterBlobPut != nil {
		m.dst.AfterBlobPut(nk)
	}
	return nk, h, nil
}

// inventory copies the vault's last inventory snapshot, if any.
func (m *migration) inventory(ctx context.Context, v glacier.Vault) error {
	if v.Inventory.Key == "" {
		return nil
	}
	cur, err := m.dst.Meta.Vaults.GetVault(ctx, v.AccountID, v.Name)
	if err != nil || cur.Inventory.Key != "" {
		return err
	}
	key, _, err := m.copyBlob(ctx, v.Inventory.Key, true)
	if err != nil {
		return err
	}
	inv := v.Inventory
	inv.Key = key
	if _, err := m.dst.Meta.Housekeeping.PutInventory(ctx, v.AccountID, v.Name, inv); err != nil {
		m.deleteBlobs(ctx, []string{key})
		return err
	}
	m.stats.Inventories++
	return nil
}

func (m *migration) deleteBlobs(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := m.dst.Blobs.Delete(context.WithoutCancel(ctx), k); err != nil {
			m.log.Warn("could not remove a copied blob; the target's sweep will", "key", k, "err", err)
		}
	}
}

func equalHashes(a, b []treehash.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newKey returns a fresh blob key in the service's key space.
func newKey() string { return glacier.NewBlobKey() }
