package glacier

import (
	"context"
	"time"
)

// Retrieval controls: the account's data retrieval policy and provisioned
// capacity (operations.md §12, data-plane.md §8). The accounting models
// are the spec's recommendations:
//
//   - BytesPerHour: every in-progress Standard archive job counts its
//     bytes spread over 4 hours; a new Standard job is refused when the
//     sum including it would exceed the limit.
//   - FreeTier: the Standard bytes initiated in the last 24 hours,
//     including the new job, must stay within the daily free allowance:
//     Service.FreeTierBytesPerDay, or when that is 0, 5% of the account's
//     stored bytes prorated over 30 days.
//   - Expedited admission: while the rolling 5-minute count of Expedited
//     jobs is below 3 per active capacity unit plus the shared pool
//     (Service.ExpeditedSharedPool; negative means unlimited).

// MaxCapacityUnits is how many provisioned capacity units an account may
// hold (limits.md §7).
const MaxCapacityUnits = 2

const retrievalPolicyKey = "retrieval-policy/"

// retrievalAdmission returns the check of the retrieval policy for
// Standard jobs and of the capacity for Expedited ones, or nil when no
// limit applies. The check runs inside the job's creation (createJobIf),
// so the usage it counts includes every job admitted before; what it does
// not count (the policy, the free tier allowance) is read here.
func (s *Service) retrievalAdmission(ctx context.Context, j Job) (func(AdmissionView) error, error) {
	switch j.Tier {
	case TierStandard:
		p, err := s.retrievalPolicy(ctx, j.AccountID)
		if err != nil {
			return nil, err
		}
		switch p.Strategy {
		case "BytesPerHour":
			return func(v AdmissionView) error {
				_, inFlight, err := v.JobsSince(TierStandard, time.Time{}, true)
				if err != nil {
					return err
				}
				if (inFlight+j.RetrievalBytes())/4 > p.BytesPerHour {
					return Errorf(KindPolicyEnforced, "InitiateJob request denied by current data retrieval policy.")
				}
				return nil
			}, nil
		case "FreeTier":
			allowance, err := s.freeTierAllowance(ctx, j.AccountID)
			if err != nil {
				return nil, err
			}
			return func(v AdmissionView) error {
				_, used, err := v.JobsSince(TierStandard, j.CreatedAt.Add(-24*time.Hour), false)
				if err != nil {
					return err
				}
				if used+j.RetrievalBytes() > allowance {
					return Errorf(KindPolicyEnforced, "InitiateJob request denied by current data retrieval policy.")
				}
				return nil
			}, nil
		}
	case TierExpedited:
		if s.ExpeditedSharedPool < 0 {
			return nil, nil
		}
		return func(v AdmissionView) error {
			units, err := v.CapacityUnits(j.CreatedAt)
			if err != nil {
				return err
			}
			n, _, err := v.JobsSince(TierExpedited, j.CreatedAt.Add(-5*time.Minute), false)
			if err != nil {
				return err
			}
			if n >= 3*units+s.ExpeditedSharedPool {
				return Errorf(KindInsufficientCapacity, "There is not enough capacity to process this Expedited job request; retry later or purchase provisioned capacity.")
			}
			return nil
		}, nil
	}
	return nil, nil
}

// freeTierAllowance is the daily free retrieval allowance of an account.
func (s *Service) freeTierAllowance(ctx context.Context, accountID string) (int64, error) {
	if s.FreeTierBytesPerDay > 0 {
		return s.FreeTierBytesPerDay, nil
	}
	var stored int64
	from := ""
	for {
		vs, err := s.Vaults.ListVaults(ctx, accountID, from, 1000)
		if err != nil {
			return 0, err
		}
		for _, v := range vs {
			stored += v.SizeInBytes
		}
		if len(vs) < 1000 {
			break
		}
		from = vs[len(vs)-1].Name + "\x00"
	}
	return stored / 20 / 30, nil
}

// GetDataRetrievalPolicy returns the account's policy; strategy None when
// never set.
func (s *Service) GetDataRetrievalPolicy(ctx context.Context, c *Caller, accountID string) (RetrievalPolicy, error) {
	if err := s.authorize(ctx, s.retrievalAccess(c, "GetDataRetrievalPolicy", accountID)); err != nil {
		return RetrievalPolicy{}, err
	}
	return s.retrievalPolicy(ctx, accountID)
}

// SetDataRetrievalPolicy validates and stores the account's policy
// (operations.md §12.2: exactly one rule; BytesPerHour iff that strategy).
func (s *Service) SetDataRetrievalPolicy(ctx context.Context, c *Caller, accountID string, rules []RetrievalPolicy) error {
	if err := s.authorize(ctx, s.retrievalAccess(c, "SetDataRetrievalPolicy", accountID)); err != nil {
		return err
	}
	if len(rules) != 1 {
		return Errorf(KindInvalidParameter, "Invalid data retrieval policy: it must have exactly one rule, not %d", len(rules))
	}
	p := rules[0]
	switch p.Strategy {
	case "BytesPerHour":
		if p.BytesPerHour < 1 {
			return Errorf(KindInvalidParameter, "Invalid data retrieval policy: BytesPerHour must be between 1 and 9223372036854775807 for the BytesPerHour strategy")
		}
	case "FreeTier", "None":
		if p.BytesPerHour != 0 {
			return Errorf(KindInvalidParameter, "Invalid data retrieval policy: BytesPerHour is only allowed with the BytesPerHour strategy")
		}
	case "":
		return Errorf(KindMissingParameter, "Required parameter missing: Strategy")
	default:
		return Errorf(KindInvalidParameter, "Invalid data retrieval policy: strategy %q must be BytesPerHour, FreeTier or None", p.Strategy)
	}
	return s.Settings.PutSetting(ctx, retrievalPolicyKey+accountID, encodeRetrievalPolicy(p))
}

func (s *Service) retrievalPolicy(ctx context.Context, accountID string) (RetrievalPolicy, error) {
	v, err := s.Settings.GetSetting(ctx, retrievalPolicyKey+accountID)
	if err != nil {
		return RetrievalPolicy{Strategy: "None"}, err
	}
	return decodeRetrievalPolicy(v)
}

func (s *Service) retrievalAccess(c *Caller, action, accountID string) Access {
	return Access{
		Caller:    c,
		Action:    "glacier:" + action,
		AccountID: accountID,
		Resource:  RetrievalPolicyARN(s.Region, accountID),
		Now:       s.Clock.Now(),
	}
}

// PurchaseProvisionedCapacity buys a unit valid for one month
// (data-plane.md §8.3) and returns it.
func (s *Service) PurchaseProvisionedCapacity(ctx context.Context, c *Caller, accountID string) (ProvisionedCapacity, error) {
	now := s.Clock.Now()
	if err := s.authorize(ctx, Access{Caller: c, Action: "glacier:PurchaseProvisionedCapacity", AccountID: accountID, Resource: "*", Now: now}); err != nil {
		return ProvisionedCapacity{}, err
	}
	start := now.UTC().Truncate(time.Second)
	pc := ProvisionedCapacity{ID: base62(24), AccountID: accountID, StartDate: start, ExpiresAt: addMonth(start)}
	err := s.Jobs.PurchaseCapacity(ctx, pc, MaxCapacityUnits)
	if KindOf(err) == KindLimitExceeded {
		return ProvisionedCapacity{}, Errorf(KindLimitExceeded, "You have reached the limit of %d provisioned capacity units for account %s", MaxCapacityUnits, accountID)
	}
	return pc, err
}

// ListProvisionedCapacity returns the account's unexpired units.
func (s *Service) ListProvisionedCapacity(ctx context.Context, c *Caller, accountID string) ([]ProvisionedCapacity, error) {
	now := s.Clock.Now()
	if err := s.authorize(ctx, Access{Caller: c, Action: "glacier:ListProvisionedCapacity", AccountID: accountID, Resource: "*", Now: now}); err != nil {
		return nil, err
	}
	return s.Jobs.ListCapacity(ctx, accountID, now)
}

// addMonth returns the same day-of-month and time one month later, or the
// last day of next month when that day does not exist there.
func addMonth(t time.Time) time.Time {
	y, m, d := t.Date()
	firstOfNext := time.Date(y, m+1, 1, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	last := firstOfNext.AddDate(0, 1, -1).Day()
	return firstOfNext.AddDate(0, 0, min(d, last)-1)
}
