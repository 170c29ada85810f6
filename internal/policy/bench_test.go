package policy

import (
	"context"
	"testing"
)

// retentionLock is §10.1 as the dev guide writes it (note the key's
// spelling, "ArchiveAgeinDays").
const retentionLock = `{
 "Version":"2012-10-17",
 "Statement":[{
   "Sid": "deny-based-on-archive-age",
   "Principal": "*",
   "Effect": "Deny",
   "Action": "glacier:DeleteArchive",
   "Resource": ["arn:aws:glacier:us-east-1:111122223333:vaults/photos"],
   "Condition": {"NumericLessThan": {"glacier:ArchiveAgeinDays": "365"}}
 }]}`

// BenchmarkEvaluateLockPolicy is the hot path of every DeleteArchive: the
// owner's root against a retention lock, for a young archive (denied) and
// an old one (falls through to root's implicit allow).
func BenchmarkEvaluateLockPolicy(b *testing.B) {
	lock := []*Policy{mustParse(b, retentionLock, ResourcePolicy)}
	for _, c := range []struct {
		name string
		age  string
		want Decision
	}{{"young", "100", ExplicitDeny}, {"old", "400", Allow}} {
		b.Run(c.name, func(b *testing.B) {
			req := rq(ownerRoot, del, map[string][]string{
				KeyArchiveAgeInDays: {c.age},
				KeySourceIP:         {"10.1.2.3"},
				KeySecureTransport:  {"true"},
				KeyCurrentTime:      {"2026-03-01T12:00:00Z"},
			})
			for k, v := range PrincipalContext(ownerRoot) {
				req.Context[k] = v
			}
			b.ReportAllocs()
			for b.Loop() {
				if d := Evaluate(req, nil, lock); d != c.want {
					b.Fatalf("Evaluate = %v, want %v", d, c.want)
				}
			}
		})
	}
}

// BenchmarkEvaluateCrossAccount is a fuller question: a foreign user with
// an identity policy, the access policy and the lock policy.
func BenchmarkEvaluateCrossAccount(b *testing.B) {
	identity := []*Policy{mustParse(b, idAllowAll, IdentityPolicy)}
	resource := []*Policy{
		mustParse(b, doc(st("Allow", `{"AWS":["444455556666","777788889999"]}`, `["glacier:UploadArchive","glacier:InitiateJob"]`, vault, "")), ResourcePolicy),
		mustParse(b, retentionLock, ResourcePolicy),
	}
	req := rq(carol, upload, kv(KeySecureTransport, "true"))
	b.ReportAllocs()
	for b.Loop() {
		if d := Evaluate(req, identity, resource); d != Allow {
			b.Fatalf("Evaluate = %v", d)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, doc string }{
		{"retention", retentionLock},
		{"legal-hold", parseValid[1].doc},
		{"every-operator", parseValid[11].doc},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.doc, ResourcePolicy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvaluateContext is BenchmarkEvaluateCrossAccount through
// EvaluateContext with a cancellable context, as the server calls it: the
// cancellation checks must cost next to nothing.
func BenchmarkEvaluateContext(b *testing.B) {
	identity := []*Policy{mustParse(b, idAllowAll, IdentityPolicy)}
	resource := []*Policy{
		mustParse(b, doc(st("Allow", `{"AWS":["444455556666","777788889999"]}`, `["glacier:UploadArchive","glacier:InitiateJob"]`, vault, "")), ResourcePolicy),
		mustParse(b, retentionLock, ResourcePolicy),
	}
	req := rq(carol, upload, kv(KeySecureTransport, "true"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := EvaluateContext(ctx, req, identity, resource); d != Allow || err != nil {
			b.Fatalf("EvaluateContext = %v, %v", d, err)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	opt := AnalyzeOptions{Kind: ResourcePolicy, Lock: true, Region: "us-east-1", AccountID: owner, Vault: "photos"}
	b.SetBytes(int64(len(retentionLock)))
	b.ReportAllocs()
	for b.Loop() {
		Analyze(retentionLock, opt)
	}
}
