package main

// End-to-end tests of the retrieval controls (data-plane.md §8,
// operations.md §12): the data retrieval policy (PolicyEnforcedException)
// and provisioned capacity (InsufficientCapacityException).

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"
)

// retrGetPolicy returns the account's single policy rule.
func retrGetPolicy(t *testing.T, c *glacier.Client) types.DataRetrievalRule {
	t.Helper()
	out, err := c.GetDataRetrievalPolicy(context.Background(), &glacier.GetDataRetrievalPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Policy == nil || len(out.Policy.Rules) != 1 {
		t.Fatalf("GetDataRetrievalPolicy = %+v, want one rule", out.Policy)
	}
	return out.Policy.Rules[0]
}

// retrSetPolicy sets the policy to rules and returns the error.
func retrSetPolicy(c *glacier.Client, rules ...types.DataRetrievalRule) (*glacier.SetDataRetrievalPolicyOutput, error) {
	return c.SetDataRetrievalPolicy(context.Background(), &glacier.SetDataRetrievalPolicyInput{
		Policy: &types.DataRetrievalPolicy{Rules: rules},
	})
}

// retrMustSet sets a policy that must be accepted with 204.
func retrMustSet(t *testing.T, c *glacier.Client, rule types.DataRetrievalRule) {
	t.Helper()
	out, err := retrSetPolicy(c, rule)
	if err != nil {
		t.Fatalf("SetDataRetrievalPolicy %s: %v", aws.ToString(rule.Strategy), err)
	}
	if st := jobHTTPStatus(out.ResultMetadata); st != 204 {
		t.Errorf("SetDataRetrievalPolicy status %d, want 204", st)
	}
}

// retrWantRefused checks a job refused by the retrieval policy.
func retrWantRefused(t *testing.T, c *glacier.Client, what string, p *types.JobParameters) {
	t.Helper()
	_, err := jobInitiateErr(c, "v", p)
	if err == nil {
		t.Errorf("%s: accepted, want PolicyEnforcedException", what)
		return
	}
	t.Run(strings.ReplaceAll(what, " ", "_"), func(t *testing.T) {
		wantAPIError(t, err, "PolicyEnforcedException", 400)
		if !strings.Contains(err.Error(), "data retrieval policy") {
			t.Errorf("message = %v", err)
		}
	})
}

// retrWantAccepted checks a job is accepted.
func retrWantAccepted(t *testing.T, c *glacier.Client, what string, p *types.JobParameters) string {
	t.Helper()
	id, err := jobInitiateErr(c, "v", p)
	if err != nil {
		t.Errorf("%s: %v, want the job accepted", what, err)
	}
	return id
}

func TestDataRetrievalPolicy(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.FreeTierBytesPerDay = 2 * mib }) // default delays: jobs stay in progress
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	// Never set: strategy None, no BytesPerHour.
	if r := retrGetPolicy(t, c); aws.ToString(r.Strategy) != "None" || r.BytesPerHour != nil {
		t.Errorf("default rule = %s / %v, want None without BytesPerHour", aws.ToString(r.Strategy), r.BytesPerHour)
	}
	raw := ts.do(t, "GET", "/-/policies/data-retrieval", nil, nil)
	if raw.Status != 200 || strings.ReplaceAll(string(raw.Body), " ", "") != `{"Policy":{"Rules":[{"Strategy":"None"}]}}` {
		t.Errorf("default policy on the wire: %d %s", raw.Status, raw.Body)
	}

	// Invalid policies are refused and change nothing.
	bph := func(n int64) types.DataRetrievalRule {
		return types.DataRetrievalRule{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(n)}
	}
	for _, e := range []struct {
		what  string
		rules []types.DataRetrievalRule
		codes []string
	}{
		{"two rules", []types.DataRetrievalRule{bph(mib), {Strategy: aws.String("None")}}, []string{"InvalidParameterValueException"}},
		{"no rules", []types.DataRetrievalRule{}, []string{"InvalidParameterValueException", "MissingParameterValueException"}},
		{"BytesPerHour without BytesPerHour", []types.DataRetrievalRule{{Strategy: aws.String("BytesPerHour")}}, []string{"InvalidParameterValueException", "MissingParameterValueException"}},
		{"BytesPerHour 0", []types.DataRetrievalRule{bph(0)}, []string{"InvalidParameterValueException"}},
		{"BytesPerHour negative", []types.DataRetrievalRule{bph(-5)}, []string{"InvalidParameterValueException"}},
		{"FreeTier with BytesPerHour", []types.DataRetrievalRule{{Strategy: aws.String("FreeTier"), BytesPerHour: aws.Int64(mib)}}, []string{"InvalidParameterValueException"}},
		{"None with BytesPerHour", []types.DataRetrievalRule{{Strategy: aws.String("None"), BytesPerHour: aws.Int64(mib)}}, []string{"InvalidParameterValueException"}},
		{"unknown strategy", []types.DataRetrievalRule{{Strategy: aws.String("Unlimited")}}, []string{"InvalidParameterValueException"}},
		{"no strategy", []types.DataRetrievalRule{{}}, []string{"InvalidParameterValueException", "MissingParameterValueException"}},
	} {
		t.Run(strings.ReplaceAll(e.what, " ", "_"), func(t *testing.T) {
			_, err := retrSetPolicy(c, e.rules...)
			var ae smithy.APIError
			if err != nil && errors.As(err, &ae) {
				for _, code := range e.codes {
					if ae.ErrorCode() == code {
						wantAPIError(t, err, code, 400)
						return
					}
				}
			}
			t.Errorf("got %v, want 400 %v", err, e.codes)
		})
	}
	_, err := c.SetDataRetrievalPolicy(ctx, &glacier.SetDataRetrievalPolicyInput{})
	wantAPIError(t, err, "MissingParameterValueException", 400)
	if r := retrGetPolicy(t, c); aws.ToString(r.Strategy) != "None" {
		t.Errorf("after refused sets the rule is %s, want None", aws.ToString(r.Strategy))
	}

	data := randomBytes(5*mib + 12345)
	archiveID := jobUpload(t, c, "v", "policy", data)

	// BytesPerHour: 1 MiB/h. Each in-progress Standard job counts its
	// bytes over 4 hours (the spec's recommended model).
	retrMustSet(t, c, bph(mib))
	if r := retrGetPolicy(t, c); aws.ToString(r.Strategy) != "BytesPerHour" || aws.ToInt64(r.BytesPerHour) != mib {
		t.Errorf("rule = %s / %v, want BytesPerHour 1048576", aws.ToString(r.Strategy), r.BytesPerHour)
	}
	retrWantRefused(t, c, "Standard 5 MiB at 1 MiB per hour", jobArchiveParams(archiveID, "Standard", ""))
	retrWantRefused(t, c, "default tier 5 MiB at 1 MiB per hour", jobArchiveParams(archiveID, "", ""))
	// Bulk and Expedited are not subject to the policy; nor are inventories.
	retrWantAccepted(t, c, "Bulk 5 MiB", jobArchiveParams(archiveID, "Bulk", ""))
	retrWantAccepted(t, c, "Expedited 5 MiB", jobArchiveParams(archiveID, "Expedited", ""))
	retrWantAccepted(t, c, "inventory", &types.JobParameters{Type: aws.String("inventory-retrieval")})
	// Small Standard retrievals fit: 1 MiB and 3 MiB over 4 h are exactly
	// 1 MiB/h; one more MiB exceeds it.
	small := retrWantAccepted(t, c, "Standard 1 MiB", jobArchiveParams(archiveID, "Standard", "0-1048575"))
	retrWantAccepted(t, c, "Standard 3 MiB more", jobArchiveParams(archiveID, "Standard", "1048576-4194303"))
	retrWantRefused(t, c, "Standard 1 MiB beyond the rate", jobArchiveParams(archiveID, "Standard", "4194304-5242879"))
	// A refused job is not created.
	for _, j := range jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v")}) {
		if d := jobDescribe(t, c, "v", j); aws.ToString(d.Tier) == "Standard" && aws.ToString(d.RetrievalByteRange) == "4194304-5242879" {
			t.Errorf("refused job %s was created", j)
		}
	}
	// Once the Standard jobs have completed, the rate is free again.
	ts.advance(t, 3*time.Hour+time.Minute)
	jobWait(t, c, "v", small, types.StatusCodeSucceeded)
	retrWantAccepted(t, c, "Standard 1 MiB after the others completed", jobArchiveParams(archiveID, "Standard", "4194304-5242879"))
	retrWantRefused(t, c, "Standard 5 MiB still too fast", jobArchiveParams(archiveID, "Standard", ""))

	// None: no limit, takes effect at once.
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("None")})
	retrWantAccepted(t, c, "Standard 5 MiB under None", jobArchiveParams(archiveID, "Standard", ""))

	// FreeTier with a 2 MiB daily allowance (--free-tier-bytes-per-day);
	// start a day after the jobs above so they do not count.
	ts.advance(t, 25*time.Hour)
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("FreeTier")})
	if r := retrGetPolicy(t, c); aws.ToString(r.Strategy) != "FreeTier" || r.BytesPerHour != nil {
		t.Errorf("rule = %s / %v, want FreeTier without BytesPerHour", aws.ToString(r.Strategy), r.BytesPerHour)
	}
	retrWantAccepted(t, c, "FreeTier: Standard 1 MiB", jobArchiveParams(archiveID, "Standard", "0-1048575"))
	retrWantRefused(t, c, "FreeTier: Standard 2 MiB more", jobArchiveParams(archiveID, "Standard", "1048576-3145727"))
	retrWantAccepted(t, c, "FreeTier: Bulk 5 MiB", jobArchiveParams(archiveID, "Bulk", ""))
	retrWantAccepted(t, c, "FreeTier: Standard the last 1 MiB of the day", jobArchiveParams(archiveID, "Standard", "1048576-2097151"))
	retrWantRefused(t, c, "FreeTier: allowance used up", jobArchiveParams(archiveID, "Standard", "2097152-3145727"))
	// The next day the allowance is back.
	ts.advance(t, 25*time.Hour)
	retrWantAccepted(t, c, "FreeTier: Standard 2 MiB the next day", jobArchiveParams(archiveID, "Standard", "1048576-3145727"))
}

// retrNextMonth is the expiry of a unit bought at start (data-plane.md
// §8.3): the same day and time one month later, or the last day of that
// month when it is shorter.
func retrNextMonth(start time.Time) time.Time {
	first := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(start.Day(), last), start.Hour(), start.Minute(), start.Second(), 0, time.UTC)
}

// retrList returns the account's provisioned capacity units.
func retrList(t *testing.T, c *glacier.Client) []types.ProvisionedCapacityDescription {
	t.Helper()
	out, err := c.ListProvisionedCapacity(context.Background(), &glacier.ListProvisionedCapacityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out.ProvisionedCapacityList
}

// retrPurchase buys a unit, which must succeed with 201 and an id.
func retrPurchase(t *testing.T, c *glacier.Client) string {
	t.Helper()
	out, err := c.PurchaseProvisionedCapacity(context.Background(), &glacier.PurchaseProvisionedCapacityInput{})
	if err != nil {
		t.Fatalf("PurchaseProvisionedCapacity: %v", err)
	}
	if st := jobHTTPStatus(out.ResultMetadata); st != 201 {
		t.Errorf("PurchaseProvisionedCapacity status %d, want 201", st)
	}
	id := aws.ToString(out.CapacityId)
	if !regexp.MustCompile(`^[A-Za-z0-9]{24}$`).MatchString(id) {
		t.Errorf("capacity id %q, want 24 alphanumeric characters", id)
	}
	return id
}

// retrWantUnit checks a listed unit's dates.
func retrWantUnit(t *testing.T, u types.ProvisionedCapacityDescription, notBefore, notAfter time.Time) {
	t.Helper()
	start := jobParseTime(t, "StartDate", u.StartDate)
	exp := jobParseTime(t, "ExpirationDate", u.ExpirationDate)
	if start.Before(notBefore.Truncate(time.Second)) || start.After(notAfter) {
		t.Errorf("unit %s StartDate %s outside the purchase window %s .. %s", aws.ToString(u.CapacityId), *u.StartDate, notBefore, notAfter)
	}
	if !strings.HasSuffix(*u.ExpirationDate, ".000Z") || !exp.Equal(retrNextMonth(start)) {
		t.Errorf("unit %s: StartDate %s, ExpirationDate %s; want %s", aws.ToString(u.CapacityId), *u.StartDate, *u.ExpirationDate,
			retrNextMonth(start).Format(jobTimeLayout))
	}
}

func TestProvisionedCapacity(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.ExpeditedSharedPool = 0 })
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	archiveID := jobUpload(t, c, "v", "capacity", randomBytes(10000))

	// None yet: an empty list, and with no shared pool no Expedited jobs.
	if l := retrList(t, c); len(l) != 0 {
		t.Fatalf("ListProvisionedCapacity = %+v, want empty", l)
	}
	if raw := ts.do(t, "GET", "/-/provisioned-capacity", nil, nil); raw.Status != 200 || !strings.Contains(string(raw.Body), `"ProvisionedCapacityList":[]`) {
		t.Errorf("empty list on the wire: %d %s", raw.Status, raw.Body)
	}
	_, err := jobInitiateErr(c, "v", jobArchiveParams(archiveID, "Expedited", ""))
	wantAPIError(t, err, "InsufficientCapacityException", 503)
	retrWantAccepted(t, c, "Standard without capacity", jobArchiveParams(archiveID, "Standard", ""))
	retrWantAccepted(t, c, "Bulk without capacity", jobArchiveParams(archiveID, "Bulk", ""))

	// Two units; a third is over the limit.
	before := ts.service.Clock.Now()
	ids := []string{retrPurchase(t, c), retrPurchase(t, c)}
	after := ts.service.Clock.Now()
	if ids[0] == ids[1] {
		t.Errorf("two purchases returned the same id %s", ids[0])
	}
	_, err = c.PurchaseProvisionedCapacity(ctx, &glacier.PurchaseProvisionedCapacityInput{})
	wantAPIError(t, err, "LimitExceededException", 400)
	l := retrList(t, c)
	if len(l) != 2 {
		t.Fatalf("ListProvisionedCapacity = %d units, want 2", len(l))
	}
	var listed []string
	for _, u := range l {
		listed = append(listed, aws.ToString(u.CapacityId))
		retrWantUnit(t, u, before, after)
	}
	if !jobSameSet(listed, ids) {
		t.Errorf("listed units %v, purchased %v", listed, ids)
	}

	// Two units admit 6 Expedited jobs per 5 minutes; the 7th is refused
	// with 503 (the client does not retry: RetryMaxAttempts 1).
	expedite := func(round string) {
		t.Helper()
		for i := range 6 {
			if _, err := jobInitiateErr(c, "v", jobArchiveParams(archiveID, "Expedited", "")); err != nil {
				t.Fatalf("%s: Expedited job %d: %v", round, i+1, err)
			}
		}
		_, err := jobInitiateErr(c, "v", jobArchiveParams(archiveID, "Expedited", ""))
		wantAPIError(t, err, "InsufficientCapacityException", 503)
		// Standard and Bulk are never refused for capacity.
		retrWantAccepted(t, c, round+": Standard at capacity", jobArchiveParams(archiveID, "Standard", ""))
		retrWantAccepted(t, c, round+": Bulk at capacity", jobArchiveParams(archiveID, "Bulk", ""))
	}
	expedite("first 5 minutes")
	n := len(jobListIDs(t, c, glacier.ListJobsInput{VaultName: aws.String("v"), Limit: aws.Int32(50)}))
	if want := 2 + 6 + 2; n != want {
		t.Errorf("%d jobs listed, want %d (refused jobs are not created)", n, want)
	}
	// Five minutes later the window has moved on.
	ts.advance(t, 5*time.Minute)
	expedite("next 5 minutes")

	// Units last a month. Move to the next 31st whose next month is
	// shorter: the old units have expired, a new one expires on the last
	// day of the next month.
	now := ts.service.Clock.Now().UTC()
	target := time.Date(now.Year(), now.Month(), 31, 12, 0, 0, 0, time.UTC)
	for target.Day() != 31 || !target.After(now.Add(32*24*time.Hour)) || retrNextMonth(target).Day() == 31 {
		target = time.Date(target.Year(), target.Month()+1, 31, 12, 0, 0, 0, time.UTC)
	}
	ts.advance(t, target.Sub(now))
	if l := retrList(t, c); len(l) != 0 {
		t.Errorf("units listed after they expired: %+v", l)
	}
	before = ts.service.Clock.Now()
	id := retrPurchase(t, c)
	l = retrList(t, c)
	if len(l) != 1 || aws.ToString(l[0].CapacityId) != id {
		t.Fatalf("after buying again: %+v", l)
	}
	retrWantUnit(t, l[0], before, ts.service.Clock.Now())
	if exp := jobParseTime(t, "ExpirationDate", l[0].ExpirationDate); exp.Day() == 31 || exp.Month() != target.AddDate(0, 0, 1).Month() {
		t.Errorf("a unit bought on %s expires %s, want the last day of the next month", *l[0].StartDate, *l[0].ExpirationDate)
	}
}
