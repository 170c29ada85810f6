package postgres

import (
	"context"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Reads made on every request whose cached copy is stale (the
// authorization cache reloads an access key, a vault with its policies,
// whenever the account's stamp moved — and every archive written moves
// it): one statement each, outside any transaction, so one round trip
// instead of BEGIN, the reads and COMMIT. A single statement reads one
// snapshot, subqueries included, taken after it started: it sees every
// commit made before it, as view's transaction did.

// readOne runs fn (one statement on the pool), retrying it when that is
// safe and may help (retryable: a pooled connection found dead before the
// request was sent), and classifies the error.
func (db *DB) readOne(ctx context.Context, op string, fn func() error) error {
	if db.closed.Load() {
		return glacier.Errorf(glacier.KindInternal, "postgres: %s: the store is closed", op)
	}
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if attempt >= maxAttempts || !retryable(err) || ctx.Err() != nil || db.closed.Load() {
			return classifyCtx(ctx, op, err)
		}
		select {
		case <-ctx.Done():
			return classifyCtx(ctx, op, err)
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// extraScanner scans a row's first columns with the caller's destinations
// and the columns after them into extra.
type extraScanner struct {
	s     scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// vaultPoliciesQuery reads a vault with its access policy, lock record
// and tags in one statement (one snapshot).
const vaultPoliciesQuery = `SELECT ` + vaultColumnsV + `,
	(SELECT p.policy FROM vault_access_policies p WHERE p.vault_id = v.id),
	l.policy, l.state, l.lock_id, l.created_at, l.expires_at,
	ARRAY(SELECT t.key FROM vault_tags t WHERE t.vault_id = v.id ORDER BY t.key),
	ARRAY(SELECT t.value FROM vault_tags t WHERE t.vault_id = v.id ORDER BY t.key)
	FROM vaults v LEFT JOIN vault_locks l ON l.vault_id = v.id
	WHERE v.account_id = $1 AND v.name = $2`

// vaultColumnsV is vaultColumns qualified with the alias v.
const vaultColumnsV = `v.id, v.account_id, v.name, v.created_at, v.number_of_archives, v.size_in_bytes, v.last_write_at, v.last_inventory_at,
	v.inventory_key, v.inventory_count, v.inventory_size`

// VaultPolicies returns the vault's record and what authorizing a request
// on it reads, as of one snapshot.
func (db *DB) VaultPolicies(ctx context.Context, accountID, vault string) (glacier.VaultPolicies, error) {
	var vp glacier.VaultPolicies
	err := db.readOne(ctx, "vault policies", func() error {
		vp = glacier.VaultPolicies{}
		var id int64
		var policy, lockPolicy, lockID *string
		var lockState *int16
		var lock glacier.Lock
		var keys, values []string
		err := scanVault(extraScanner{db.pool.QueryRow(ctx, vaultPoliciesQuery, accountID, vault),
			[]any{&policy, &lockPolicy, &lockState, &lockID, timeCol{&lock.CreatedAt}, timeCol{&lock.ExpiresAt}, &keys, &values}},
			&id, &vp.Vault)
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "vault %s not found in account %s", vault, accountID)
		}
		if err != nil {
			return err
		}
		if policy != nil {
			vp.AccessPolicy = *policy
		}
		if lockState != nil {
			lock.Policy, lock.State, lock.ID = *lockPolicy, glacier.LockState(*lockState), *lockID
			vp.Lock = &lock
		}
		vp.Tags = make(map[string]string, len(keys))
		for i, k := range keys {
			vp.Tags[k] = values[i]
		}
		return nil
	})
	return vp, err
}

// GetAccessKey returns the key with that id; KindNotFound if none.
func (db *DB) GetAccessKey(ctx context.Context, id string) (glacier.AccessKey, error) {
	var k glacier.AccessKey
	err := db.readOne(ctx, "get access key", func() error {
		err := scanAccessKey(db.pool.QueryRow(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id), &k)
		if errNotFound(err) {
			return glacier.Errorf(glacier.KindNotFound, "access key %s not found", id)
		}
		return err
	})
	return k, err
}
