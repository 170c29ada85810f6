// Package authcache keeps in memory what every request reads to be
// authenticated and authorized — access keys, users, each vault's record
// with its access policy, lock and tags, and the first pages of vault
// lists — in front of the store roles that hold them (glacier.IdentityStore,
// glacier.VaultStore, glacier.PolicyStore), with exact invalidation. The
// other roles are not wrapped.
//
// Exactness comes from the store, not from this process: the store keeps
// counters per account (its "authorization stamp" and "data stamp",
// migration 0010 of both engines, 0012 on PostgreSQL) that move in the
// same transaction as any change to the account, its keys, users, vaults,
// policies, locks and tags — whichever connection, process or node commits
// it; the data stamp moves with the vaults' counters too. Each
// cached value is tagged with the account's stamp read *before* the value
// was read from the store, and is used only while a fresh read of the stamp
// (one indexed single-row statement per use, outside any transaction)
// still returns that tag. So a request that starts after a change
// committed anywhere reads the new stamp, finds every older copy stale and
// reads the store: it never sees the old state. A stamp that moved while a
// value was being read tags the value with the older stamp, so the copy is
// never used. What is saved is the rest: the transactions of several
// statements, the parsing of their rows, and the allocation.
//
// On SQLite the stamps are not read from the database at all: the store
// keeps two change counters in a file beside it, mapped by every process
// that opens it (the server and the operator commands), raised around
// write transactions (internal/meta/sqlite/sharedstamp.go). Checking one
// is two atomic loads. The authorization stamp moves with every write but
// archive creations and deletions and blob intents; the data stamp
// (DataStamper) with every write. Keys, users and a vault's policies, lock
// and tags are checked against the first, so uploads leave them cached; a
// vault's record (its counters) and vault lists against the second: when
// only the data stamp moved, the vault's record alone is read again (one
// statement) and joined to its policies, still current. On PostgreSQL the
// stamps are the two counters of the account's row in auth_stamps, split
// the same way: a (authorization) moves with every change but a vault's
// counters and last write (archive creations and deletions, whose group
// commit updates each vault's counters once per batch), v (data) with
// everything. One statement reads both (PairStamper), one round trip per
// use; concurrent requests of one account share those round trips, each
// getting a read that started after it asked (stampflight.go), which
// carries both stamps.
//
// Not found is never cached. Cached values are shared between requests:
// callers must not modify the maps, slices or pointers they get.
package authcache

import (
	"context"
	"sync"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Stamper is what a store offers for the cache to be exact. A negative
// stamp means "changing now": nothing is cached under it or matched by it.
type Stamper interface {
	AuthStamp(ctx context.Context, accountID string) (int64, error)
}

// DataStamper is a store whose AuthStamp leaves out changes that
// authorization never reads (an archive created or deleted, moving its
// vault's counters): DataStamp moves with those too, and with everything
// AuthStamp moves with. A store without it has one stamp for both.
type DataStamper interface {
	DataStamp(ctx context.Context, accountID string) (int64, error)
}

// PairStamper is a DataStamper that reads both stamps at once (one
// statement): the shared reads of stampflight.go then carry both, so a
// request that needs both costs one read.
type PairStamper interface {
	Stamps(ctx context.Context, accountID string) (auth, data int64, err error)
}

// maxEntries bounds each map; a full map is cleared (cheap and rare).
const maxEntries = 8192

// maxListLimit is the largest ListVaults page kept.
const maxListLimit = 1001

// Cache is the memory the wrapped roles share: one stamp source, one lock,
// a map per cached read.
type Cache struct {
	stamps Stamper
	data   DataStamper // nil: AuthStamp covers the counters too
	pair   bool        // data is a PairStamper: the shared reads carry both stamps
	shared bool        // stamps read from the store: concurrent reads shared (stampflight.go)

	flights stampFlights

	mu     sync.RWMutex
	keys   map[string]entry[glacier.AccessKey]
	users  map[[2]string]entry[glacier.User]
	vaults map[[2]string]entry[glacier.VaultPolicies]
	lists  map[listKey]entry[[]glacier.Vault]
}

type entry[T any] struct {
	stamp int64 // the authorization stamp read before val
	data  int64 // the data stamp read before val (vault records and lists)
	val   T
}

type listKey struct {
	account, from string
	limit         int
}

// newCache returns an empty cache checked against stamps, with the data
// stamp and in-memory reads when the stamp source offers them.
func newCache(stamps Stamper) *Cache {
	ds, _ := stamps.(DataStamper)
	_, pair := stamps.(PairStamper)
	ms, _ := stamps.(memoryStamper)
	return &Cache{
		stamps: stamps,
		data:   ds,
		pair:   ds != nil && pair,
		shared: ms == nil || !ms.StampsInMemory(),
		keys:   make(map[string]entry[glacier.AccessKey]),
		users:  make(map[[2]string]entry[glacier.User]),
		vaults: make(map[[2]string]entry[glacier.VaultPolicies]),
		lists:  make(map[listKey]entry[[]glacier.Vault]),
	}
}

// Wrap returns st with the cache in front of the authorization reads of
// its Identity (GetAccessKey, GetUser), Vaults (ListVaults) and Policies
// (VaultPolicies) roles; the other roles are returned as they are. Without
// stamps (nil) there is nothing to keep the cache exact, and st is
// returned unchanged. stamps is usually the store itself; when it is also
// a DataStamper, uploads leave policies cached (see the package comment).
func Wrap(st glacier.Stores, stamps Stamper) glacier.Stores {
	if stamps == nil {
		return st
	}
	c := newCache(stamps)
	st.Policies = &Policies{st.Policies, st.Vaults, c}
	st.Identity = &Identity{st.Identity, c}
	st.Vaults = &Vaults{st.Vaults, c}
	return st
}

// Identity is a glacier.IdentityStore whose GetAccessKey and GetUser are
// cached; its other methods are the store's.
type Identity struct {
	glacier.IdentityStore
	c *Cache
}

// Vaults is a glacier.VaultStore whose ListVaults is cached; its other
// methods are the store's.
type Vaults struct {
	glacier.VaultStore
	c *Cache
}

// Policies is a glacier.PolicyStore whose VaultPolicies is cached; its
// other methods are the store's. It reads a vault's record alone from
// vaults (uncached) when only the data stamp moved.
type Policies struct {
	glacier.PolicyStore
	vaults glacier.VaultStore
	c      *Cache
}

func put[K comparable, T any](s *Cache, m map[K]entry[T], k K, stamp, data int64, v T) {
	if stamp < 0 || data < 0 { // a write was in flight: the value may be older than the stamp says
		return
	}
	s.mu.Lock()
	if len(m) >= maxEntries {
		clear(m)
	}
	m[k] = entry[T]{stamp, data, v}
	s.mu.Unlock()
}

// authStamp reads the account's authorization stamp: a read that starts
// after the call, shared with concurrent callers when it costs a round
// trip.
func (s *Cache) authStamp(ctx context.Context, accountID string) (int64, error) {
	if s.shared {
		return s.flights.read(ctx, s.stamps, accountID)
	}
	return s.stamps.AuthStamp(ctx, accountID)
}

// stampsOf returns the account's authorization and data stamps, read in
// that order (one read when the store has one stamp for both, or reads
// both at once).
func (s *Cache) stampsOf(ctx context.Context, accountID string) (auth, data int64, err error) {
	if s.shared && s.pair {
		res := s.flights.readBoth(ctx, s.stamps, accountID)
		return res.auth, res.data, res.err
	}
	auth, err = s.authStamp(ctx, accountID)
	if err != nil || s.data == nil {
		return auth, auth, err
	}
	data, err = s.data.DataStamp(ctx, accountID)
	return auth, data, err
}

// GetAccessKey returns the key from memory when its account's stamp has
// not moved since it was read.
func (w *Identity) GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error) {
	s := w.c
	s.mu.RLock()
	e, ok := s.keys[id]
	s.mu.RUnlock()
	if ok {
		now, err := s.authStamp(ctx, e.val.AccountID)
		if err != nil {
			return glacier.AccessKey{}, err
		}
		if now >= 0 && now == e.stamp {
			return e.val, nil
		}
	}
	k, err := w.IdentityStore.GetAccessKey(ctx, id)
	if err != nil {
		return k, err
	}
	// The key's account is known only now: read the stamp, then the key
	// again, so that the copy kept is one read after that stamp.
	stamp, err := s.authStamp(ctx, k.AccountID)
	if err != nil {
		return k, nil
	}
	again, err := w.IdentityStore.GetAccessKey(ctx, id)
	if err != nil {
		return again, err
	}
	if again.AccountID == k.AccountID {
		put(s, s.keys, id, stamp, 0, again)
	}
	return again, nil
}

// GetUser is the store's GetUser, from memory while the account's stamp
// holds.
func (w *Identity) GetUser(ctx context.Context, accountID, name string) (glacier.User, error) {
	s := w.c
	stamp, err := s.authStamp(ctx, accountID)
	if err != nil {
		return glacier.User{}, err
	}
	k := [2]string{accountID, name}
	s.mu.RLock()
	e, ok := s.users[k]
	s.mu.RUnlock()
	if ok && stamp >= 0 && e.stamp == stamp {
		return e.val, nil
	}
	u, err := w.IdentityStore.GetUser(ctx, accountID, name)
	if err != nil {
		return u, err
	}
	put(s, s.users, k, stamp, 0, u)
	return u, nil
}

// VaultPolicies is the store's VaultPolicies, from memory while the
// account's stamps hold. When only the data stamp moved (archives were
// written), the policies, lock and tags are still current: the vault's
// record alone is read again, after both stamps, and the pair kept.
func (w *Policies) VaultPolicies(ctx context.Context, accountID, vault string) (glacier.VaultPolicies, error) {
	s := w.c
	stamp, data, err := s.stampsOf(ctx, accountID)
	if err != nil {
		return glacier.VaultPolicies{}, err
	}
	k := [2]string{accountID, vault}
	s.mu.RLock()
	e, ok := s.vaults[k]
	s.mu.RUnlock()
	if ok && stamp >= 0 && e.stamp == stamp {
		if data >= 0 && e.data == data {
			return e.val, nil
		}
		if s.data != nil {
			v, err := w.vaults.GetVault(ctx, accountID, vault)
			if err != nil {
				return glacier.VaultPolicies{}, err
			}
			vp := e.val
			vp.Vault = v
			put(s, s.vaults, k, stamp, data, vp)
			return vp, nil
		}
	}
	vp, err := w.PolicyStore.VaultPolicies(ctx, accountID, vault)
	if err != nil {
		return vp, err
	}
	put(s, s.vaults, k, stamp, data, vp)
	return vp, nil
}

// ListVaults is the store's ListVaults, from memory while the account's
// stamps hold (the data stamp: lists show counters). The slice returned is
// the one kept, shared by every request until the stamps move: it is never
// modified, and a new read is kept in a new slice, so callers may tell two
// answers apart by the slice alone (glacier.VaultPage).
func (w *Vaults) ListVaults(ctx context.Context, accountID, from string, limit int) ([]glacier.Vault, error) {
	s := w.c
	if limit > maxListLimit {
		return w.VaultStore.ListVaults(ctx, accountID, from, limit)
	}
	stamp, data, err := s.stampsOf(ctx, accountID)
	if err != nil {
		return nil, err
	}
	k := listKey{accountID, from, limit}
	s.mu.RLock()
	e, ok := s.lists[k]
	s.mu.RUnlock()
	if ok && stamp >= 0 && data >= 0 && e.stamp == stamp && e.data == data {
		return e.val, nil
	}
	vs, err := w.VaultStore.ListVaults(ctx, accountID, from, limit)
	if err != nil {
		return vs, err
	}
	put(s, s.lists, k, stamp, data, vs)
	return vs, nil
}
