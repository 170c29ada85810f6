package policy

import (
	"reflect"
	"testing"
)

func TestPrincipalContext(t *testing.T) {
	rows := []struct {
		name string
		p    Principal
		want map[string][]string
	}{
		{"root", ownerRoot, map[string][]string{
			"aws:PrincipalArn": {"arn:aws:iam::111122223333:root"}, "aws:PrincipalAccount": {owner},
			"aws:PrincipalType": {"Account"}, "aws:userid": {owner},
		}},
		{"user", alice, map[string][]string{
			"aws:PrincipalArn": {alice.ARN}, "aws:PrincipalAccount": {owner}, "aws:PrincipalType": {"User"},
			"aws:userid": {"AIDAALICE0000000000"}, "aws:username": {"alice"},
			"aws:PrincipalTag/team": {"archive"}, "aws:PrincipalTag/Wild": {"*"},
		}},
		{"role-session-reports-role", session, map[string][]string{
			"aws:PrincipalArn": {"arn:aws:iam::444455556666:role/Uploader"}, "aws:PrincipalAccount": {other},
			"aws:PrincipalType": {"AssumedRole"}, "aws:userid": {"AROAUPLOADER:s1"},
		}},
		{"empty-tag-value-kept", Principal{AccountID: owner, Type: TypeUser, Tags: map[string]string{"k": ""}}, map[string][]string{
			"aws:PrincipalAccount": {owner}, "aws:PrincipalType": {"User"}, "aws:PrincipalTag/k": {""},
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if got := PrincipalContext(r.p); !reflect.DeepEqual(got, r.want) {
				t.Errorf("PrincipalContext = %v\nwant %v", got, r.want)
			}
		})
	}
}

// TestLookup checks the order of §4.1's case-insensitive key lookup.
func TestLookup(t *testing.T) {
	rows := []struct {
		name string
		key  string
		ctx  map[string][]string
		want []string
	}{
		{"canonical", "glacier:archiveageindays", kv("glacier:ArchiveAgeInDays", "1"), []string{"1"}},
		{"as-written", "Vendor:Key", kv("Vendor:Key", "1", "vendor:key", "2"), []string{"1"}},
		{"lower", "Vendor:Key", kv("vendor:key", "2"), []string{"2"}},
		{"scan", "vendor:key", kv("VENDOR:KEY", "3"), []string{"3"}},
		{"tag-name-canonical-prefix", "GLACIER:RESOURCETAG/Hold", kv("glacier:ResourceTag/Hold", "4"), []string{"4"}},
		{"tag-name-any-case", "glacier:ResourceTag/hold", kv("glacier:ResourceTag/HOLD", "5"), []string{"5"}},
		{"absent", "vendor:key", kv("other", "x"), nil},
		{"aws-resource-tag-alias", "aws:ResourceTag/hold", kv("glacier:ResourceTag/Hold", "6"), []string{"6"}},
		{"aws-resource-tag-own-value-first", "aws:ResourceTag/hold", kv("aws:ResourceTag/hold", "7", "glacier:ResourceTag/Hold", "6"), []string{"7"}},
		{"glacier-resource-tag-no-reverse-alias", "glacier:ResourceTag/hold", kv("aws:ResourceTag/hold", "7"), nil},
		{"principal-fallback", "AWS:USERNAME", nil, []string{"alice"}},
		{"principal-tag-fallback", "aws:principaltag/TEAM", nil, []string{"archive"}},
		{"context-beats-principal", "aws:username", kv("aws:username", "override"), []string{"override"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := evaluation{req: rq(alice, del, r.ctx)}
			k := newKeyRef(r.key)
			if got := e.lookup(&k); !reflect.DeepEqual(got, r.want) {
				t.Errorf("lookup(%q) = %v, want %v", r.key, got, r.want)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	rows := []struct {
		in       string
		literal  string // resolved for alice, literal mode; "-" for a nil template
		asGlob   string // resolved in glob mode
		resolved bool
	}{
		{"plain", "-", "", true},
		{"${unterminated", "-", "", true},
		{"${bad name}", "-", "", true},
		{"${}", "-", "", true},
		{"u-${aws:username}", "u-alice", "u-alice", true},
		{"${aws:username}/${aws:userid}", "alice/AIDAALICE0000000000", "alice/AIDAALICE0000000000", true},
		{"a${*}b${?}c${$}", "a*b?c$", `a\*b\?c$`, true},
		{"x*${aws:PrincipalTag/Wild}", "x**", `x*\*`, true},
		{"${aws:PrincipalTag/none, 'dflt'}", "dflt", "dflt", true},
		{"${aws:PrincipalTag/none,'a:b'}", "a:b", `a\:b`, true},
		{"${aws:PrincipalTag/none, dflt}", "-", "", true},
		{"${aws:PrincipalTag/none}", "", "", false},
		{`back\${aws:username}`, `back\alice`, `back\\alice`, true},
	}
	e := evaluation{req: rq(alice, del, nil)}
	for _, r := range rows {
		tm := parseTemplate(r.in)
		if r.literal == "-" {
			if tm != nil {
				t.Errorf("parseTemplate(%q) = %+v, want nil", r.in, tm)
			}
			continue
		}
		if tm == nil {
			t.Errorf("parseTemplate(%q) = nil", r.in)
			continue
		}
		lit, ok1 := tm.resolve(&e, false)
		gl, ok2 := tm.resolve(&e, true)
		if ok1 != r.resolved || ok2 != r.resolved || ok1 && (lit != r.literal || gl != r.asGlob) {
			t.Errorf("resolve(%q) = %q, %v / %q, %v; want %q / %q, %v", r.in, lit, ok1, gl, ok2, r.literal, r.asGlob, r.resolved)
		}
	}
}
