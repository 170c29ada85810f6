package glacier

// The rules the operator's commands and the server's housekeeping apply
// outside any API operation: which leftovers may be removed, how long the
// audit anchors are kept, the stored lock policy an operator analyses.
// cmd/permafrost only supplies the facts (the time, whether the stores
// are shared, the configured retention) and prints the outcome.

import (
	"context"
	"errors"
	"time"
)

// ErrSharedUploadsInFlight is why leftovers of any age may not be removed
// from stores shared with other nodes: another node may hold an upload in
// flight whose blob is written but not yet committed.
var ErrSharedUploadsInFlight = errors.New("stores shared with other nodes may hold uploads in flight")

// LeftoverCutoff returns the time before which unreferenced blobs and
// blob intents are leftovers no upload can still commit, and so may be
// removed (ProcessIntents, Reconcile). ownedSince is when this process
// began to own stores nobody else writes (it holds the data directory's
// lock and has accepted no upload before), zero when it does not own
// them: everything recorded before it is then left by an earlier
// process. On stores shared with other nodes, or without ownership, only
// what is older than SweepGrace is safe, since an upload may take that
// long to commit.
func LeftoverCutoff(now, ownedSince time.Time, shared bool) time.Time {
	if !shared && !ownedSince.IsZero() {
		return ownedSince
	}
	return now.Add(-SweepGrace)
}

// AllLeftoversCutoff is the cutoff for removing leftovers of any age (a
// stopped embedded installation, after a restore): now, by a process that
// owns the stores so that no upload is in flight. It is refused on stores
// shared with other nodes (ErrSharedUploadsInFlight).
func AllLeftoversCutoff(now time.Time, shared bool) (time.Time, error) {
	if shared {
		return time.Time{}, ErrSharedUploadsInFlight
	}
	return now, nil
}

// DefaultAuditRetention is how long audit anchors are kept under Object
// Lock retention unless configured otherwise: seven years (SEC 17a-4 asks
// for six).
const DefaultAuditRetention = 7 * 365 * 24 * time.Hour

// AuditRetention is how long audit anchors are kept under retention: the
// configured time, but never less than the longest retention floor of a
// Locked vault (MaxFloor), so the audit trail of a locked vault's
// archives outlives none of them.
func AuditRetention(configured time.Duration) time.Duration {
	return max(configured, MaxFloor())
}

// StoredLockPolicy returns the lock record stored for a vault as it is,
// whatever its state (an InProgress lock past its expiry included; nil
// when the vault has none), for the operator's analysis of the lock
// policy (permafrost policy validate). ResourceNotFound when the vault
// does not exist. It takes no caller: no API request reaches it.
func (s *Service) StoredLockPolicy(ctx context.Context, accountID, vault string) (*Lock, error) {
	return s.Policies.GetLock(ctx, accountID, vault)
}
