package policy

import "testing"

// fuzzRequests are the fixed requests every accepted document is
// evaluated against: each principal type, with and without context.
var fuzzRequests = []*Request{
	rq(ownerRoot, del, kv("glacier:ArchiveAgeInDays", "10", "aws:SourceIp", "10.0.0.1", "aws:CurrentTime", "2030-01-01T00:00:00Z")),
	rq(alice, upload, kv("aws:TagKeys", "a", "aws:TagKeys", "b", "glacier:ResourceTag/LegalHold", "", "aws:SecureTransport", "true")),
	rq(carol, "glacier:ListVaults", nil),
	rq(session, "glacier:InitiateJob", kv("aws:EpochTime", "1893456000", "x", "\xff")),
	on(rq(federated, "glacier:ListVaults", map[string][]string{"aws:TagKeys": {}}), "*"),
	{Principal: Principal{}, Action: "", Resource: ""},
}

// FuzzParse checks that Parse never panics, that it refuses with a
// *Error, and that Evaluate never panics on what it accepts.
func FuzzParse(f *testing.F) {
	for _, r := range parseValid {
		f.Add(r.doc)
	}
	for _, r := range parseInvalid {
		f.Add(r.doc)
	}
	for _, group := range [][]evalCase{canonicalCases(), variableCases(), principalCases()} {
		for _, c := range group {
			for _, d := range append(c.identity, c.resource...) {
				f.Add(d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []DocKind{ResourcePolicy, IdentityPolicy} {
			// Analyze never panics and agrees with Parse on validity.
			fs := Analyze(doc, AnalyzeOptions{Kind: kind, Lock: true, Region: "us-east-1", AccountID: owner, Vault: "photos"})
			p, err := Parse(doc, kind)
			if (err != nil) != (len(fs) > 0 && fs[0].Code == "INVALID_POLICY") {
				t.Fatalf("Parse error %v, Analyze findings %v", err, fs)
			}
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %T is not a *Error", err)
				}
				if p != nil {
					t.Fatalf("Parse returned a policy with error %v", err)
				}
				continue
			}
			for _, req := range fuzzRequests {
				var d Decision
				if kind == ResourcePolicy {
					d = Evaluate(req, nil, []*Policy{p})
				} else {
					d = Evaluate(req, []*Policy{p}, nil)
				}
				if d != ImplicitDeny && d != Allow && d != ExplicitDeny {
					t.Fatalf("Evaluate returned %v", d)
				}
			}
		}
	})
}
