package policy

import "testing"

// evalCase is one authorization question with its expected decision.
type evalCase struct {
	name     string
	identity []string // identity policies of the caller
	resource []string // vault access and lock policies
	req      *Request
	want     Decision
}

// Statement parts used throughout the table.
const (
	anyone   = `"*"`
	all      = `"*"`
	glacierA = `"glacier:*"`
	vault    = `"` + vaultARN + `"`
	del      = "glacier:DeleteArchive"
	upload   = "glacier:UploadArchive"
)

// idAllowAll is an identity policy allowing every Glacier action.
var idAllowAll = doc(st("Allow", "", glacierA, all, ""))

// condCase asks whether cond holds: a resource policy grants everything to
// everyone under cond, and alice (same account, no identity policy) asks,
// so the decision is Allow exactly when the condition is true.
func condCase(name, c string, ctx map[string][]string, holds bool) evalCase {
	want := ImplicitDeny
	if holds {
		want = Allow
	}
	return evalCase{name: name, resource: []string{doc(st("Allow", anyone, all, all, c))}, req: rq(alice, upload, ctx), want: want}
}

func operatorCases() []evalCase {
	const k = "test:Key"
	c := func(op, values string) string { return cond(op, k, values) }
	tags := kv("aws:TagKeys", "team", "aws:TagKeys", "cost")
	empty := map[string][]string{"aws:TagKeys": {}}
	tagCond := func(op, values string) string { return cond(op, "aws:TagKeys", values) }
	return []evalCase{
		// String
		condCase("StringEquals/match", c("StringEquals", `"v"`), kv(k, "v"), true),
		condCase("StringEquals/mismatch", c("StringEquals", `"v"`), kv(k, "w"), false),
		condCase("StringEquals/case-sensitive", c("StringEquals", `"v"`), kv(k, "V"), false),
		condCase("StringEquals/one-of-list", c("StringEquals", `["a","b","v"]`), kv(k, "v"), true),
		condCase("StringEquals/absent", c("StringEquals", `"v"`), nil, false),
		condCase("StringEquals/number-value", c("StringEquals", `42`), kv(k, "42"), true),
		condCase("StringEquals/empty-string", c("StringEquals", `""`), kv(k, ""), true),
		condCase("StringNotEquals/differs", c("StringNotEquals", `"v"`), kv(k, "w"), true),
		condCase("StringNotEquals/equals-one-of-list", c("StringNotEquals", `["a","v"]`), kv(k, "v"), false),
		condCase("StringNotEquals/matches-none-of-list", c("StringNotEquals", `["a","b"]`), kv(k, "v"), true),
		condCase("StringNotEquals/absent", c("StringNotEquals", `"v"`), nil, true),
		condCase("StringEqualsIgnoreCase/match", c("StringEqualsIgnoreCase", `"Archive"`), kv(k, "aRCHIVE"), true),
		condCase("StringEqualsIgnoreCase/mismatch", c("StringEqualsIgnoreCase", `"Archive"`), kv(k, "archives"), false),
		condCase("StringNotEqualsIgnoreCase/same-but-case", c("StringNotEqualsIgnoreCase", `"Archive"`), kv(k, "ARCHIVE"), false),
		condCase("StringNotEqualsIgnoreCase/absent", c("StringNotEqualsIgnoreCase", `"Archive"`), nil, true),
		condCase("StringLike/star", c("StringLike", `"arch*"`), kv(k, "archive"), true),
		condCase("StringLike/star-empty-run", c("StringLike", `"archive*"`), kv(k, "archive"), true),
		condCase("StringLike/question", c("StringLike", `"arch?ve"`), kv(k, "archive"), true),
		condCase("StringLike/question-needs-one", c("StringLike", `"archive?"`), kv(k, "archive"), false),
		condCase("StringLike/question-multibyte", c("StringLike", `"caf?"`), kv(k, "café"), true),
		condCase("StringLike/case-sensitive", c("StringLike", `"Arch*"`), kv(k, "archive"), false),
		condCase("StringLike/inner-stars", c("StringLike", `"*ch*v*"`), kv(k, "archive"), true),
		condCase("StringLike/empty-matches-empty", c("StringLike", `""`), kv(k, ""), true),
		condCase("StringLike/empty-not-x", c("StringLike", `""`), kv(k, "x"), false),
		condCase("StringNotLike/matches", c("StringNotLike", `"arch*"`), kv(k, "archive"), false),
		condCase("StringNotLike/no-match", c("StringNotLike", `"x*"`), kv(k, "archive"), true),
		condCase("StringNotLike/absent", c("StringNotLike", `"x*"`), nil, true),
		condCase("StringEqualsIfExists/absent", c("StringEqualsIfExists", `"v"`), nil, true),
		condCase("StringEqualsIfExists/present-mismatch", c("StringEqualsIfExists", `"v"`), kv(k, "w"), false),
		condCase("StringEqualsIfExists/present-match", c("StringEqualsIfExists", `"v"`), kv(k, "v"), true),
		condCase("StringNotEqualsIfExists/absent", c("StringNotEqualsIfExists", `"v"`), nil, true),
		condCase("StringNotEqualsIfExists/present-equal", c("StringNotEqualsIfExists", `"v"`), kv(k, "v"), false),

		// Numeric
		condCase("NumericEquals/match", c("NumericEquals", `"10"`), kv(k, "10"), true),
		condCase("NumericEquals/decimal-equal", c("NumericEquals", `"10"`), kv(k, "10.0"), true),
		condCase("NumericEquals/json-number", c("NumericEquals", `10`), kv(k, "10"), true),
		condCase("NumericEquals/exponent", c("NumericEquals", `"1e3"`), kv(k, "1000"), true),
		condCase("NumericEquals/plus-sign", c("NumericEquals", `"+5"`), kv(k, "5"), true),
		condCase("NumericEquals/hex-is-not-a-number", c("NumericEquals", `"16"`), kv(k, "0x10"), false),
		condCase("NumericEquals/space-is-not-a-number", c("NumericEquals", `"5"`), kv(k, " 5"), false),
		condCase("NumericEquals/nan-is-not-a-number", c("NumericEquals", `"5"`), kv(k, "NaN"), false),
		condCase("NumericNotEquals/differs", c("NumericNotEquals", `"10"`), kv(k, "11"), true),
		condCase("NumericNotEquals/equal", c("NumericNotEquals", `"10"`), kv(k, "10"), false),
		condCase("NumericNotEquals/absent", c("NumericNotEquals", `"10"`), nil, true),
		condCase("NumericNotEquals/unparsable-request", c("NumericNotEquals", `"10"`), kv(k, "ten"), true),
		condCase("NumericLessThan/below", c("NumericLessThan", `"365"`), kv(k, "364"), true),
		condCase("NumericLessThan/equal", c("NumericLessThan", `"365"`), kv(k, "365"), false),
		condCase("NumericLessThan/decimal", c("NumericLessThan", `"2"`), kv(k, "1.5"), true),
		condCase("NumericLessThan/negative", c("NumericLessThan", `"0"`), kv(k, "-1"), true),
		condCase("NumericLessThan/unparsable-request", c("NumericLessThan", `"365"`), kv(k, "abc"), false),
		condCase("NumericLessThan/unparsable-policy", c("NumericLessThan", `"abc"`), kv(k, "1"), false),
		condCase("NumericLessThan/absent", c("NumericLessThan", `"365"`), nil, false),
		condCase("NumericLessThanEquals/equal", c("NumericLessThanEquals", `"365"`), kv(k, "365"), true),
		condCase("NumericLessThanEquals/above", c("NumericLessThanEquals", `"365"`), kv(k, "365.5"), false),
		condCase("NumericGreaterThan/above", c("NumericGreaterThan", `"365"`), kv(k, "366"), true),
		condCase("NumericGreaterThan/equal", c("NumericGreaterThan", `"365"`), kv(k, "365"), false),
		condCase("NumericGreaterThan/big-ints-exact", c("NumericGreaterThan", `"9007199254740992"`), kv(k, "9007199254740993"), true),
		condCase("NumericGreaterThanEquals/equal", c("NumericGreaterThanEquals", `"365"`), kv(k, "365"), true),
		condCase("NumericGreaterThanEquals/below", c("NumericGreaterThanEquals", `"365"`), kv(k, "364"), false),
		condCase("NumericLessThanIfExists/absent", c("NumericLessThanIfExists", `"365"`), nil, true),
		condCase("NumericLessThanIfExists/present-false", c("NumericLessThanIfExists", `"365"`), kv(k, "400"), false),

		// Date
		condCase("DateGreaterThan/after", c("DateGreaterThan", `"2030-01-01T00:00:00Z"`), kv(k, "2031-06-01T12:00:00Z"), true),
		condCase("DateGreaterThan/before", c("DateGreaterThan", `"2030-01-01T00:00:00Z"`), kv(k, "2029-12-31T23:59:59Z"), false),
		condCase("DateGreaterThan/equal", c("DateGreaterThan", `"2030-01-01T00:00:00Z"`), kv(k, "2030-01-01T00:00:00Z"), false),
		condCase("DateGreaterThanEquals/equal", c("DateGreaterThanEquals", `"2030-01-01T00:00:00Z"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateLessThan/date-only-policy", c("DateLessThan", `"2030-01-01"`), kv(k, "2029-12-31T23:59:59Z"), true),
		condCase("DateLessThan/date-only-is-midnight", c("DateLessThan", `"2030-01-01"`), kv(k, "2030-01-01T00:00:00Z"), false),
		condCase("DateLessThanEquals/equal", c("DateLessThanEquals", `"2030-01-01"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateEquals/offsets", c("DateEquals", `"2030-01-01T01:00:00+01:00"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateEquals/compact-offset", c("DateEquals", `"2029-12-31T19:00:00-0500"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateEquals/fractional-seconds", c("DateEquals", `"2030-01-01T00:00:00.000Z"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateEquals/fraction-differs", c("DateEquals", `"2030-01-01T00:00:00.5Z"`), kv(k, "2030-01-01T00:00:00Z"), false),
		condCase("DateEquals/no-seconds", c("DateEquals", `"2030-01-01T10:30Z"`), kv(k, "2030-01-01T10:30:00Z"), true),
		condCase("DateEquals/epoch-policy", c("DateEquals", `"1893456000"`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateEquals/epoch-json-number", c("DateEquals", `1893456000`), kv(k, "2030-01-01T00:00:00Z"), true),
		condCase("DateGreaterThan/epoch-request", c("DateGreaterThan", `"2030-01-01T00:00:00Z"`), kv(k, "1893456001"), true),
		condCase("DateNotEquals/differs", c("DateNotEquals", `"2030-01-01"`), kv(k, "2030-01-02T00:00:00Z"), true),
		condCase("DateNotEquals/equal", c("DateNotEquals", `"2030-01-01"`), kv(k, "2030-01-01T00:00:00Z"), false),
		condCase("DateNotEquals/absent", c("DateNotEquals", `"2030-01-01"`), nil, true),
		condCase("DateLessThan/unparsable-request", c("DateLessThan", `"2030-01-01"`), kv(k, "yesterday"), false),
		condCase("DateLessThan/invalid-policy-day", c("DateLessThan", `"2030-02-30"`), kv(k, "2000-01-01"), false),
		condCase("DateLessThan/absent", c("DateLessThan", `"2030-01-01"`), nil, false),
		condCase("DateLessThanIfExists/absent", c("DateLessThanIfExists", `"2030-01-01"`), nil, true),

		// Bool
		condCase("Bool/true", c("Bool", `"true"`), kv(k, "true"), true),
		condCase("Bool/json-true", c("Bool", `true`), kv(k, "true"), true),
		condCase("Bool/mismatch", c("Bool", `"true"`), kv(k, "false"), false),
		condCase("Bool/case-insensitive", c("Bool", `"TRUE"`), kv(k, "True"), true),
		condCase("Bool/false", c("Bool", `false`), kv(k, "false"), true),
		condCase("Bool/not-a-bool", c("Bool", `"true"`), kv(k, "yes"), false),
		condCase("Bool/absent", c("Bool", `"false"`), nil, false),
		condCase("BoolIfExists/absent", c("BoolIfExists", `"true"`), nil, true),

		// Binary
		condCase("BinaryEquals/match", c("BinaryEquals", `"aGVsbG8="`), kv(k, "hello"), true),
		condCase("BinaryEquals/unpadded", c("BinaryEquals", `"aGVsbG8"`), kv(k, "hello"), true),
		condCase("BinaryEquals/mismatch", c("BinaryEquals", `"aGVsbG8="`), kv(k, "hellO"), false),
		condCase("BinaryEquals/invalid-base64", c("BinaryEquals", `"!!!"`), kv(k, "!!!"), false),
		condCase("BinaryEquals/absent", c("BinaryEquals", `"aGVsbG8="`), nil, false),

		// IP
		condCase("IpAddress/in-cidr", c("IpAddress", `"10.0.0.0/8"`), kv(k, "10.1.2.3"), true),
		condCase("IpAddress/outside", c("IpAddress", `"10.0.0.0/8"`), kv(k, "11.1.2.3"), false),
		condCase("IpAddress/bare-is-32", c("IpAddress", `"192.0.2.7"`), kv(k, "192.0.2.7"), true),
		condCase("IpAddress/bare-other", c("IpAddress", `"192.0.2.7"`), kv(k, "192.0.2.8"), false),
		condCase("IpAddress/non-canonical-cidr", c("IpAddress", `"10.1.2.3/8"`), kv(k, "10.200.0.1"), true),
		condCase("IpAddress/ipv6-in", c("IpAddress", `"2001:db8::/32"`), kv(k, "2001:db8:1::5"), true),
		condCase("IpAddress/ipv6-out", c("IpAddress", `"2001:db8::/32"`), kv(k, "2001:db9::5"), false),
		condCase("IpAddress/ipv6-bare", c("IpAddress", `"2001:db8::1"`), kv(k, "2001:DB8:0::1"), true),
		condCase("IpAddress/list", c("IpAddress", `["192.168.0.0/16","10.0.0.0/8"]`), kv(k, "10.9.9.9"), true),
		condCase("IpAddress/ipv4-mapped-request", c("IpAddress", `"10.0.0.0/8"`), kv(k, "::ffff:10.1.2.3"), true),
		condCase("IpAddress/family-mismatch", c("IpAddress", `"10.0.0.0/8"`), kv(k, "2001:db8::1"), false),
		condCase("IpAddress/unparsable-request", c("IpAddress", `"10.0.0.0/8"`), kv(k, "not-an-ip"), false),
		condCase("IpAddress/absent", c("IpAddress", `"10.0.0.0/8"`), nil, false),
		condCase("NotIpAddress/outside", c("NotIpAddress", `"10.0.0.0/8"`), kv(k, "192.0.2.1"), true),
		condCase("NotIpAddress/inside", c("NotIpAddress", `"10.0.0.0/8"`), kv(k, "10.0.0.1"), false),
		condCase("NotIpAddress/inside-second-of-list", c("NotIpAddress", `["192.168.0.0/16","10.0.0.0/8"]`), kv(k, "10.0.0.1"), false),
		condCase("NotIpAddress/absent", c("NotIpAddress", `"10.0.0.0/8"`), nil, true),

		// ARN
		condCase("ArnEquals/exact", c("ArnEquals", `"arn:aws:iam::111122223333:user/alice"`), kv(k, alice.ARN), true),
		condCase("ArnEquals/is-like", c("ArnEquals", `"arn:aws:iam::111122223333:user/*"`), kv(k, alice.ARN), true),
		condCase("ArnLike/resource-star", c("ArnLike", `"arn:aws:iam::111122223333:*"`), kv(k, bob.ARN), true),
		condCase("ArnLike/segment-star", c("ArnLike", `"arn:aws:iam::*:user/alice"`), kv(k, alice.ARN), true),
		condCase("ArnLike/star-does-not-cross-colons", c("ArnLike", `"arn:aws:*:user/alice"`), kv(k, alice.ARN), false),
		condCase("ArnLike/case-sensitive", c("ArnLike", `"arn:aws:iam::111122223333:user/Alice"`), kv(k, alice.ARN), false),
		condCase("ArnLike/request-not-arn", c("ArnLike", `"arn:aws:iam::*:user/*"`), kv(k, "alice"), false),
		condCase("ArnLike/absent", c("ArnLike", `"arn:aws:iam::*:user/*"`), nil, false),
		condCase("ArnNotEquals/differs", c("ArnNotEquals", `"arn:aws:iam::111122223333:user/bob"`), kv(k, alice.ARN), true),
		condCase("ArnNotLike/matches", c("ArnNotLike", `"arn:aws:iam::111122223333:user/*"`), kv(k, alice.ARN), false),
		condCase("ArnNotLike/absent", c("ArnNotLike", `"arn:aws:iam::111122223333:user/*"`), nil, true),

		// Null
		condCase("Null/true-absent", c("Null", `"true"`), nil, true),
		condCase("Null/true-present", c("Null", `"true"`), kv(k, "x"), false),
		condCase("Null/true-present-empty-string", c("Null", `"true"`), kv(k, ""), false),
		condCase("Null/false-present", c("Null", `"false"`), kv(k, "x"), true),
		condCase("Null/false-absent", c("Null", `"false"`), nil, false),
		condCase("Null/json-bool", c("Null", `true`), nil, true),
		condCase("Null/empty-slice-is-absent", c("Null", `"true"`), map[string][]string{k: {}}, true),

		// Set qualifiers on the multi-valued aws:TagKeys
		condCase("ForAnyValue/one-matches", tagCond("ForAnyValue:StringEquals", `["cost","owner"]`), tags, true),
		condCase("ForAnyValue/none-matches", tagCond("ForAnyValue:StringEquals", `["owner"]`), tags, false),
		condCase("ForAnyValue/absent", tagCond("ForAnyValue:StringEquals", `["owner"]`), nil, false),
		condCase("ForAnyValue/empty", tagCond("ForAnyValue:StringEquals", `["owner"]`), empty, false),
		condCase("ForAnyValue/like", tagCond("ForAnyValue:StringLike", `"co*"`), tags, true),
		condCase("ForAnyValue/IfExists-absent", tagCond("ForAnyValue:StringEqualsIfExists", `"owner"`), nil, true),
		condCase("ForAnyValue/negated-one-outside", tagCond("ForAnyValue:StringNotEquals", `["team"]`), tags, true),
		condCase("ForAnyValue/negated-all-inside", tagCond("ForAnyValue:StringNotEquals", `["team","cost"]`), tags, false),
		condCase("ForAllValues/all-in-set", tagCond("ForAllValues:StringEquals", `["team","cost","owner"]`), tags, true),
		condCase("ForAllValues/one-outside", tagCond("ForAllValues:StringEquals", `["team"]`), tags, false),
		condCase("ForAllValues/absent", tagCond("ForAllValues:StringEquals", `["team"]`), nil, true),
		condCase("ForAllValues/empty", tagCond("ForAllValues:StringEquals", `["team"]`), empty, true),
		condCase("ForAllValues/negated-none-listed", tagCond("ForAllValues:StringNotEquals", `["secret"]`), tags, true),
		condCase("ForAllValues/negated-one-listed", tagCond("ForAllValues:StringNotEquals", `["cost"]`), tags, false),
		condCase("unqualified/multi-value-any", tagCond("StringEquals", `"cost"`), tags, true),
		condCase("unqualified/negated-multi-value-one-equal", tagCond("StringNotEquals", `"cost"`), tags, false),

		// Key names are case-insensitive, tag name included (§4.1).
		condCase("key-case/policy-spelling", cond("NumericLessThan", "glacier:ArchiveAgeinDays", `"365"`), kv("glacier:ArchiveAgeInDays", "3"), true),
		condCase("key-case/context-lower", cond("NumericLessThan", "glacier:ArchiveAgeInDays", `"365"`), kv("glacier:archiveageindays", "3"), true),
		condCase("key-case/context-upper", cond("IpAddress", "aws:SourceIp", `"10.0.0.0/8"`), kv("AWS:SOURCEIP", "10.0.0.1"), true),
		condCase("key-case/tag-name", cond("StringEquals", "glacier:ResourceTag/legalhold", `"true"`), kv("glacier:ResourceTag/LegalHold", "true"), true),
		condCase("key-alias/aws-resource-tag", cond("StringEquals", "aws:ResourceTag/LegalHold", `"true"`), kv("glacier:ResourceTag/LegalHold", "true"), true),
		condCase("key-case/unknown-key-absent", cond("StringEquals", "glacier:NoSuchKey", `"x"`), kv("glacier:OtherKey", "x"), false),

		// Conditions combine with AND.
		condCase("and/two-operators-true", `{"StringEquals":{"a":"1"},"NumericLessThan":{"b":"5"}}`, kv("a", "1", "b", "4"), true),
		condCase("and/two-operators-one-false", `{"StringEquals":{"a":"1"},"NumericLessThan":{"b":"5"}}`, kv("a", "1", "b", "6"), false),
		condCase("and/two-keys-one-false", `{"StringEquals":{"a":"1","b":"2"}}`, kv("a", "1", "b", "3"), false),
		condCase("and/empty-condition-block", `{}`, nil, true),
	}
}

func actionResourceCases() []evalCase {
	ident := func(name, action, resource string, req *Request, want Decision) evalCase {
		return evalCase{name: name, identity: []string{doc(st("Allow", "", action, resource, ""))}, req: req, want: want}
	}
	raw := func(name, stmt string, req *Request, want Decision) evalCase {
		return evalCase{name: name, identity: []string{doc(stmt)}, req: req, want: want}
	}
	a := rq(alice, del, nil)
	const vaults = "arn:aws:glacier:us-east-1:111122223333:vaults/"
	return []evalCase{
		ident("action/exact", `"glacier:DeleteArchive"`, vault, a, Allow),
		ident("action/case-insensitive-policy", `"glacier:deletearchive"`, vault, a, Allow),
		ident("action/case-insensitive-prefix", `"GLACIER:DELETE*"`, vault, a, Allow),
		ident("action/service-star", glacierA, vault, a, Allow),
		ident("action/star", `"*"`, vault, a, Allow),
		ident("action/prefix", `"glacier:Delete*"`, vault, rq(alice, "glacier:DeleteVault", nil), Allow),
		ident("action/prefix-miss", `"glacier:Delete*"`, vault, rq(alice, upload, nil), ImplicitDeny),
		ident("action/get-vault-star", `"glacier:GetVault*"`, vault, rq(alice, "glacier:GetVaultLock", nil), Allow),
		ident("action/question", `"glacier:?escribeVault"`, vault, rq(alice, "glacier:DescribeVault", nil), Allow),
		ident("action/suffix", `"glacier:*Archive"`, vault, a, Allow),
		ident("action/list-one-matches", `["glacier:UploadArchive","glacier:DeleteArchive"]`, vault, a, Allow),
		ident("action/other-service", `"s3:*"`, vault, a, ImplicitDeny),
		ident("action/other-action", `"glacier:DeleteVault"`, vault, a, ImplicitDeny),
		raw("NotAction/excludes-listed", `{"Effect":"Allow","NotAction":"glacier:DeleteArchive","Resource":"*"}`, a, ImplicitDeny),
		raw("NotAction/allows-others", `{"Effect":"Allow","NotAction":"glacier:DeleteArchive","Resource":"*"}`, rq(alice, upload, nil), Allow),
		raw("NotAction/deny-all-but-reads", `{"Effect":"Deny","NotAction":["glacier:Get*","glacier:List*","glacier:Describe*"],"Resource":"*"}`, rq(ownerRoot, del, nil), ExplicitDeny),
		raw("NotAction/deny-all-but-reads-read", `{"Effect":"Deny","NotAction":["glacier:Get*","glacier:List*","glacier:Describe*"],"Resource":"*"}`, rq(ownerRoot, "glacier:ListJobs", nil), Allow),

		ident("resource/exact", glacierA, vault, a, Allow),
		ident("resource/vault-star", glacierA, `"`+vaults+`*"`, a, Allow),
		ident("resource/name-prefix", glacierA, `"`+vaults+`ph*"`, a, Allow),
		ident("resource/name-prefix-miss", glacierA, `"`+vaults+`examp*"`, a, ImplicitDeny),
		ident("resource/case-sensitive", glacierA, `"`+vaults+`Photos"`, a, ImplicitDeny),
		ident("resource/region-star", glacierA, `"arn:aws:glacier:*:111122223333:vaults/photos"`, a, Allow),
		ident("resource/region-question", glacierA, `"arn:aws:glacier:us-east-?:111122223333:vaults/photos"`, a, Allow),
		ident("resource/other-account", glacierA, `"arn:aws:glacier:us-east-1:444455556666:vaults/photos"`, a, ImplicitDeny),
		ident("resource/other-region", glacierA, `"arn:aws:glacier:eu-west-1:111122223333:vaults/photos"`, a, ImplicitDeny),
		ident("resource/last-segment-star-spans-slash", glacierA, `"arn:aws:glacier:us-east-1:111122223333:*"`, a, Allow),
		ident("resource/every-segment-star", glacierA, `"arn:*:*:*:*:*"`, a, Allow),
		ident("resource/star-matches-star", glacierA, all, on(rq(alice, "glacier:ListVaults", nil), "*"), Allow),
		ident("resource/arn-does-not-match-star", glacierA, `"`+vaults+`*"`, on(rq(alice, "glacier:ListVaults", nil), "*"), ImplicitDeny),
		ident("resource/retrieval-policy", glacierA, `"arn:aws:glacier:us-east-1:111122223333:policies/retrieval-limit-policy"`,
			on(rq(alice, "glacier:GetDataRetrievalPolicy", nil), "arn:aws:glacier:us-east-1:111122223333:policies/retrieval-limit-policy"), Allow),
		ident("resource/list", glacierA, `["`+vaults+`a","`+vaults+`photos"]`, a, Allow),
		raw("NotResource/excludes-vault", `{"Effect":"Allow","Action":"glacier:*","NotResource":"`+vaultARN+`"}`, a, ImplicitDeny),
		raw("NotResource/other-vault", `{"Effect":"Allow","Action":"glacier:*","NotResource":"`+vaults+`secret"}`, a, Allow),
		raw("NotResource/deny-outside-prefix", `{"Effect":"Deny","Action":"glacier:*","NotResource":"`+vaults+`team-*"}`, rq(ownerRoot, del, nil), ExplicitDeny),
		raw("NotResource/deny-outside-prefix-inside", `{"Effect":"Deny","Action":"glacier:*","NotResource":"`+vaults+`team-*"}`, on(rq(ownerRoot, del, nil), vaults+"team-a"), Allow),
	}
}

func principalCases() []evalCase {
	// carol (account other) has an identity allow, so the decision turns on
	// the vault policy's grant alone.
	grant := func(name, principal string, p Principal, want Decision) evalCase {
		return evalCase{name: name, identity: []string{idAllowAll},
			resource: []string{doc(st("Allow", principal, glacierA, vault, ""))}, req: rq(p, upload, nil), want: want}
	}
	return []evalCase{
		grant("Principal/star", `"*"`, carol, Allow),
		grant("Principal/aws-star", `{"AWS":"*"}`, carol, Allow),
		grant("Principal/account-id", `{"AWS":"444455556666"}`, carol, Allow),
		grant("Principal/account-root-arn", `{"AWS":"arn:aws:iam::444455556666:root"}`, carol, Allow),
		grant("Principal/user-arn", `{"AWS":"arn:aws:iam::444455556666:user/carol"}`, carol, Allow),
		grant("Principal/other-user", `{"AWS":"arn:aws:iam::444455556666:user/dave"}`, carol, ImplicitDeny),
		grant("Principal/user-name-case-sensitive", `{"AWS":"arn:aws:iam::444455556666:user/Carol"}`, carol, ImplicitDeny),
		grant("Principal/user-arn-with-path", `{"AWS":"arn:aws:iam::111122223333:user/staff/bob"}`, bob, Allow),
		grant("Principal/account-array", `{"AWS":["777788889999","444455556666"]}`, carol, Allow),
		grant("Principal/other-account", `{"AWS":"777788889999"}`, carol, ImplicitDeny),
		grant("Principal/service-never-matches", `{"Service":"glacier.amazonaws.com"}`, carol, ImplicitDeny),
		grant("Principal/federated-never-matches", `{"Federated":"cognito-identity.amazonaws.com"}`, carol, ImplicitDeny),
		grant("Principal/canonical-never-matches", `{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, carol, ImplicitDeny),
		grant("Principal/several-types-or", `{"Service":"glacier.amazonaws.com","AWS":"arn:aws:iam::444455556666:user/carol"}`, carol, Allow),
		grant("Principal/role-matches-session", `{"AWS":"arn:aws:iam::444455556666:role/Uploader"}`, session, Allow),
		grant("Principal/role-with-path-matches-session", `{"AWS":"arn:aws:iam::444455556666:role/service/Uploader"}`, session, Allow),
		grant("Principal/other-role", `{"AWS":"arn:aws:iam::444455556666:role/Reader"}`, session, ImplicitDeny),
		grant("Principal/role-does-not-match-user", `{"AWS":"arn:aws:iam::444455556666:role/carol"}`, carol, ImplicitDeny),
		grant("Principal/assumed-role-session", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Uploader/s1"}`, session, Allow),
		grant("Principal/assumed-role-other-session", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Uploader/s2"}`, session, ImplicitDeny),
		grant("Principal/federated-user", `{"AWS":"arn:aws:sts::444455556666:federated-user/erin"}`, federated, Allow),

		// NotPrincipal: "deny everyone except…" and its Allow form.
		{name: "NotPrincipal/deny-except-alice/alice", identity: []string{idAllowAll},
			resource: []string{`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"glacier:*","Resource":"*"}}`},
			req:      rq(alice, del, nil), want: Allow},
		{name: "NotPrincipal/deny-except-alice/bob", identity: []string{idAllowAll},
			resource: []string{`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"glacier:*","Resource":"*"}}`},
			req:      rq(bob, del, nil), want: ExplicitDeny},
		{name: "NotPrincipal/deny-except-alice/root", resource: []string{`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"glacier:*","Resource":"*"}}`},
			req: rq(ownerRoot, del, nil), want: ExplicitDeny},
		{name: "NotPrincipal/deny-except-account/member", identity: []string{idAllowAll},
			resource: []string{`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"glacier:*","Resource":"*"}}`},
			req:      rq(bob, del, nil), want: Allow},
		{name: "NotPrincipal/deny-except-account/foreigner", identity: []string{idAllowAll},
			resource: []string{doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"glacier:*","Resource":"*"}`,
				st("Allow", anyone, glacierA, all, ""))},
			req: rq(carol, del, nil), want: ExplicitDeny},
		{name: "NotPrincipal/allow-except-carol/carol", identity: []string{idAllowAll},
			resource: []string{`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"glacier:*","Resource":"*"}}`},
			req:      rq(carol, upload, nil), want: ImplicitDeny},
		{name: "NotPrincipal/allow-except-carol/dave", identity: []string{idAllowAll},
			resource: []string{`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"glacier:*","Resource":"*"}}`},
			req:      rq(dave, upload, nil), want: Allow},
	}
}

func combinationCases() []evalCase {
	allowTo := func(principal string) string { return doc(st("Allow", principal, glacierA, vault, "")) }
	denyTo := func(principal string) string { return doc(st("Deny", principal, glacierA, vault, "")) }
	const (
		ownerAcct  = `{"AWS":"111122223333"}`
		ownerRootP = `{"AWS":"arn:aws:iam::111122223333:root"}`
		otherAcct  = `{"AWS":"444455556666"}`
		aliceP     = `{"AWS":"arn:aws:iam::111122223333:user/alice"}`
		carolP     = `{"AWS":"arn:aws:iam::444455556666:user/carol"}`
	)
	c := func(name string, identity, resource []string, req *Request, want Decision) evalCase {
		return evalCase{name: name, identity: identity, resource: resource, req: req, want: want}
	}
	noAcct := rq(ownerRoot, del, nil)
	noAcct.ResourceAccount = ""
	return []evalCase{
		// Explicit deny wins.
		c("deny/identity-over-identity-allow", []string{idAllowAll, doc(st("Deny", "", `"glacier:DeleteArchive"`, all, ""))}, nil, rq(alice, del, nil), ExplicitDeny),
		c("deny/same-policy-over-allow", []string{doc(st("Allow", "", glacierA, all, ""), st("Deny", "", `"glacier:Delete*"`, all, ""))}, nil, rq(alice, del, nil), ExplicitDeny),
		c("deny/resource-over-identity-allow", []string{idAllowAll}, []string{denyTo(anyone)}, rq(alice, del, nil), ExplicitDeny),
		c("deny/lock-over-access-policy-allow", nil, []string{allowTo(aliceP), denyTo(anyone)}, rq(alice, del, nil), ExplicitDeny),
		c("deny/account-id-covers-root", nil, []string{denyTo(ownerAcct)}, rq(ownerRoot, del, nil), ExplicitDeny),
		c("deny/root-arn-covers-root", nil, []string{denyTo(ownerRootP)}, rq(ownerRoot, del, nil), ExplicitDeny),
		c("deny/root-arn-covers-users", []string{idAllowAll}, []string{denyTo(ownerRootP)}, rq(alice, del, nil), ExplicitDeny),
		c("deny/other-account-not-owner", []string{idAllowAll}, []string{denyTo(otherAcct)}, rq(alice, del, nil), Allow),
		c("deny/user-arn-not-other-user", []string{idAllowAll}, []string{denyTo(aliceP)}, rq(bob, del, nil), Allow),
		c("deny/other-action-does-not-apply", nil, []string{doc(st("Deny", anyone, `"glacier:DeleteVault"`, vault, ""))}, rq(ownerRoot, del, nil), Allow),
		c("deny/condition-false-does-not-apply", nil, []string{doc(st("Deny", anyone, glacierA, vault, cond("Bool", "aws:SecureTransport", `"false"`)))}, rq(ownerRoot, del, kv("aws:SecureTransport", "true")), Allow),
		c("deny/cross-account-identity-deny", []string{doc(st("Deny", "", glacierA, all, ""))}, []string{allowTo(anyone)}, rq(carol, upload, nil), ExplicitDeny),

		// Same account.
		c("same/root-no-policies", nil, nil, rq(ownerRoot, del, nil), Allow),
		c("same/user-identity-allow-only", []string{idAllowAll}, nil, rq(alice, del, nil), Allow),
		c("same/user-resource-grant-only", nil, []string{allowTo(aliceP)}, rq(alice, del, nil), Allow),
		c("same/user-resource-grant-star", nil, []string{allowTo(anyone)}, rq(alice, del, nil), Allow),
		c("same/user-neither", nil, nil, rq(alice, del, nil), ImplicitDeny),
		c("same/user-grant-names-someone-else", nil, []string{allowTo(aliceP)}, rq(bob, del, nil), ImplicitDeny),
		c("same/user-account-form-grant-is-not-enough", nil, []string{allowTo(ownerAcct)}, rq(alice, del, nil), ImplicitDeny),
		c("same/user-root-arn-grant-is-not-enough", nil, []string{allowTo(ownerRootP)}, rq(alice, del, nil), ImplicitDeny),
		c("same/user-account-form-grant-with-identity", []string{idAllowAll}, []string{allowTo(ownerAcct)}, rq(alice, del, nil), Allow),
		c("same/identity-allow-wrong-resource", []string{doc(st("Allow", "", glacierA, `"arn:aws:glacier:us-east-1:111122223333:vaults/other"`, ""))}, nil, rq(alice, del, nil), ImplicitDeny),
		c("same/identity-allow-condition-false", []string{doc(st("Allow", "", glacierA, all, cond("Bool", "aws:MultiFactorAuthPresent", "true")))}, nil, rq(alice, del, nil), ImplicitDeny),
		c("same/nil-policies-skipped", []string{"", idAllowAll}, []string{""}, rq(alice, del, nil), Allow),

		// Cross account.
		c("cross/user-identity-only", []string{idAllowAll}, nil, rq(carol, upload, nil), ImplicitDeny),
		c("cross/user-grant-only", nil, []string{allowTo(carolP)}, rq(carol, upload, nil), ImplicitDeny),
		c("cross/user-both", []string{idAllowAll}, []string{allowTo(carolP)}, rq(carol, upload, nil), Allow),
		c("cross/user-account-form-delegates", []string{idAllowAll}, []string{allowTo(otherAcct)}, rq(carol, upload, nil), Allow),
		c("cross/user-account-form-needs-identity", nil, []string{allowTo(otherAcct)}, rq(carol, upload, nil), ImplicitDeny),
		c("cross/user-identity-other-action", []string{doc(st("Allow", "", `"glacier:ListJobs"`, all, ""))}, []string{allowTo(otherAcct)}, rq(carol, upload, nil), ImplicitDeny),
		c("cross/root-account-form-grant", nil, []string{allowTo(otherAcct)}, rq(otherRoot, upload, nil), Allow),
		c("cross/root-root-arn-grant", nil, []string{allowTo(`{"AWS":"arn:aws:iam::444455556666:root"}`)}, rq(otherRoot, upload, nil), Allow),
		c("cross/root-star-grant", nil, []string{allowTo(anyone)}, rq(otherRoot, upload, nil), Allow),
		c("cross/root-no-grant", nil, nil, rq(otherRoot, upload, nil), ImplicitDeny),
		c("cross/root-grant-to-other-account", nil, []string{allowTo(`{"AWS":"777788889999"}`)}, rq(otherRoot, upload, nil), ImplicitDeny),
		c("cross/owner-account-grant-does-not-cover-foreigner", []string{idAllowAll}, []string{allowTo(ownerAcct)}, rq(carol, upload, nil), ImplicitDeny),
		c("cross/grant-in-lock-policy", []string{idAllowAll}, []string{allowTo(aliceP), allowTo(carolP)}, rq(carol, upload, nil), Allow),
		c("cross/empty-resource-account-fails-closed", nil, nil, noAcct, ImplicitDeny),
	}
}

func variableCases() []evalCase {
	const vaults = "arn:aws:glacier:us-east-1:111122223333:vaults/"
	own := `"` + vaults + `${aws:username}"`
	c := func(name, version string, identity string, req *Request, want Decision) evalCase {
		return evalCase{name: name, identity: []string{`{` + version + `"Statement":` + identity + `}`}, req: req, want: want}
	}
	v12 := `"Version":"2012-10-17",`
	v08 := `"Version":"2008-10-17",`
	return []evalCase{
		c("var/resource-username", v12, st("Allow", "", glacierA, own, ""), on(rq(alice, del, nil), vaults+"alice"), Allow),
		c("var/resource-username-other-vault", v12, st("Allow", "", glacierA, own, ""), on(rq(alice, del, nil), vaults+"bob"), ImplicitDeny),
		c("var/resource-userid", v12, st("Allow", "", glacierA, `"`+vaults+`home-${aws:userid}"`, ""), on(rq(alice, del, nil), vaults+"home-AIDAALICE0000000000"), Allow),
		c("var/resource-from-context", v12, st("Allow", "", glacierA, `"`+vaults+`${aws:PrincipalTag/team}-*"`, ""), on(rq(bob, del, kv("aws:PrincipalTag/team", "ops")), vaults+"ops-1"), Allow),
		c("var/2008-is-literal", v08, st("Allow", "", glacierA, own, ""), on(rq(alice, del, nil), vaults+"alice"), ImplicitDeny),
		c("var/2008-literal-text-matches", v08, st("Allow", "", glacierA, own, ""), on(rq(alice, del, nil), vaults+"${aws:username}"), Allow),
		c("var/no-version-is-literal", "", st("Allow", "", glacierA, own, ""), on(rq(alice, del, nil), vaults+"alice"), ImplicitDeny),
		c("var/unresolvable-resource", v12, st("Allow", "", glacierA, own, ""), on(rq(session, del, nil), vaults+"alice"), ImplicitDeny),
		c("var/value-cannot-add-wildcard", v12, st("Allow", "", glacierA, `"`+vaults+`${aws:PrincipalTag/Wild}"`, ""), on(rq(alice, del, nil), vaults+"photos"), ImplicitDeny),
		c("var/value-literal-star", v12, st("Allow", "", glacierA, `"`+vaults+`${aws:PrincipalTag/Wild}"`, ""), on(rq(alice, del, nil), vaults+"*"), Allow),
		c("var/default-value", v12, st("Allow", "", glacierA, `"`+vaults+`${aws:PrincipalTag/project, 'shared'}"`, ""), on(rq(alice, del, nil), vaults+"shared"), Allow),
		c("var/default-not-used-when-present", v12, st("Allow", "", glacierA, `"`+vaults+`${aws:PrincipalTag/team, 'shared'}"`, ""), on(rq(alice, del, nil), vaults+"shared"), ImplicitDeny),

		condCase("var/StringEquals-username", cond("StringEquals", "test:Owner", `"${aws:username}"`), kv("test:Owner", "alice"), true),
		condCase("var/StringEquals-context-wins", cond("StringEquals", "test:Owner", `"${aws:username}"`), kv("test:Owner", "zed", "aws:username", "zed"), true),
		condCase("var/StringLike-tag-prefix", cond("StringLike", "test:Name", `"${aws:PrincipalTag/team}-*"`), kv("test:Name", "archive-2024"), true),
		condCase("var/StringLike-tag-prefix-miss", cond("StringLike", "test:Name", `"${aws:PrincipalTag/team}-*"`), kv("test:Name", "ops-2024"), false),
		condCase("var/escape-star-is-literal", cond("StringLike", "test:Name", `"a${*}b"`), kv("test:Name", "a*b"), true),
		condCase("var/escape-star-not-wildcard", cond("StringLike", "test:Name", `"a${*}b"`), kv("test:Name", "axxb"), false),
		condCase("var/escape-question", cond("StringLike", "test:Name", `"a${?}"`), kv("test:Name", "ax"), false),
		condCase("var/escape-dollar", cond("StringEquals", "test:Name", `"cost${$}"`), kv("test:Name", "cost$"), true),
		condCase("var/tag-value-star-is-literal", cond("StringLike", "test:Name", `"${aws:PrincipalTag/Wild}"`), kv("test:Name", "anything"), false),
		condCase("var/ArnLike-username", cond("ArnLike", "aws:PrincipalArn", `"arn:aws:iam::111122223333:user/${aws:username}"`), nil, true),
		condCase("var/unresolvable-positive", cond("StringEquals", "test:Owner", `"${aws:PrincipalTag/missing}"`), kv("test:Owner", ""), false),
		condCase("var/unresolvable-negated", cond("StringNotEquals", "test:Owner", `"${aws:PrincipalTag/missing}"`), kv("test:Owner", "x"), true),
		condCase("var/not-in-numeric", cond("NumericEquals", "test:N", `"${aws:username}"`), kv("test:N", "1"), false),
		{name: "var/root-has-no-username", resource: []string{doc(st("Allow", anyone, all, all, cond("StringEquals", "test:Owner", `"${aws:username}"`)))},
			req: &Request{Principal: otherRoot, Action: upload, Resource: vaultARN, ResourceAccount: owner, Context: kv("test:Owner", "")}, want: ImplicitDeny},
		{name: "var/principal-keys-from-principal", resource: []string{doc(st("Allow", anyone, all, all,
			`{"StringEquals":{"aws:PrincipalAccount":"111122223333","aws:PrincipalType":"User","aws:userid":"AIDAALICE0000000000","aws:PrincipalTag/TEAM":"archive"}}`))},
			req: rq(alice, upload, nil), want: Allow},
	}
}

// canonicalCases are policies.md §10, with the dev guide's own documents.
func canonicalCases() []evalCase {
	retention := `{
 "Version":"2012-10-17",
 "Statement":[{
   "Sid": "deny-based-on-archive-age",
   "Principal": "*",
   "Effect": "Deny",
   "Action": "glacier:DeleteArchive",
   "Resource": ["arn:aws:glacier:us-east-1:111122223333:vaults/photos"],
   "Condition": {"NumericLessThan": {"glacier:ArchiveAgeinDays": "365"}}
 }]}`
	retentionLE := `{"Version":"2012-10-17","Statement":[{"Principal":{"AWS":"111122223333"},"Effect":"Deny","Action":"glacier:DeleteArchive","Resource":"` + vaultARN + `","Condition":{"NumericLessThanEquals":{"glacier:ArchiveAgeInDays":"365"}}}]}`
	legalHold := `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "no-one-can-delete-any-archive-from-vault",
            "Principal": "*",
            "Effect": "Deny",
            "Action": ["glacier:DeleteArchive"],
            "Resource": ["arn:aws:glacier:us-east-1:111122223333:vaults/photos"],
            "Condition": {"StringLike": {"glacier:ResourceTag/LegalHold": ["true", ""]}}
        },
        {
            "Sid": "you-can-delete-archive-less-than-1-year-old",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Effect": "Allow",
            "Action": ["glacier:DeleteArchive"],
            "Resource": ["arn:aws:glacier:us-east-1:111122223333:vaults/photos"],
            "Condition": {"NumericLessThan": {"glacier:ArchiveAgeInDays": "365"}}
        }
    ]
}`
	strictHold := doc(st("Deny", anyone, `"glacier:DeleteArchive"`, vault, cond("StringNotEquals", "glacier:ResourceTag/LegalHold", `"false"`)))
	weakHold := doc(st("Deny", anyone, `"glacier:DeleteArchive"`, vault, cond("StringNotEqualsIfExists", "glacier:ResourceTag/LegalHold", `"false"`)))
	crossAccount := `{"Version":"2012-10-17","Statement":[{"Sid":"cross-account-upload","Principal":{"AWS":["arn:aws:iam::444455556666:root","777788889999"]},"Effect":"Allow",
      "Action":["glacier:UploadArchive","glacier:InitiateMultipartUpload","glacier:UploadMultipartPart","glacier:CompleteMultipartUpload","glacier:AbortMultipartUpload"],
      "Resource":["` + vaultARN + `"]}]}`
	secure := doc(st("Deny", anyone, glacierA, vault, cond("Bool", "aws:SecureTransport", `"false"`)))
	mfa := doc(st("Allow", `{"AWS":"444455556666"}`, `"glacier:Delete*"`, vault, cond("Bool", "aws:MultiFactorAuthPresent", "true")))
	dateGuard := doc(st("Allow", anyone, `"glacier:Delete*"`, vault, cond("DateGreaterThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)))
	sourceIP := doc(st("Deny", anyone, glacierA, vault, cond("NotIpAddress", "aws:SourceIp", `["10.0.0.0/8"]`)))

	age := func(days string) map[string][]string { return kv("glacier:ArchiveAgeInDays", days) }
	hold := func(value string, days string) map[string][]string {
		return kv("glacier:ResourceTag/LegalHold", value, "glacier:ArchiveAgeInDays", days)
	}
	c := func(name, policy string, identity []string, req *Request, want Decision) evalCase {
		return evalCase{name: name, identity: identity, resource: []string{policy}, req: req, want: want}
	}
	return []evalCase{
		c("10.1/retention-age-0", retention, nil, rq(ownerRoot, del, age("0")), ExplicitDeny),
		c("10.1/retention-age-364", retention, nil, rq(ownerRoot, del, age("364")), ExplicitDeny),
		c("10.1/retention-age-365", retention, nil, rq(ownerRoot, del, age("365")), Allow),
		c("10.1/retention-age-366", retention, nil, rq(ownerRoot, del, age("366")), Allow),
		c("10.1/retention-user-young", retention, []string{idAllowAll}, rq(alice, del, age("100")), ExplicitDeny),
		c("10.1/retention-user-old", retention, []string{idAllowAll}, rq(alice, del, age("400")), Allow),
		c("10.1/retention-foreigner-young", retention, []string{idAllowAll}, rq(carol, del, age("1")), ExplicitDeny),
		c("10.1/retention-retrieval-unaffected", retention, nil, rq(ownerRoot, "glacier:InitiateJob", age("1")), Allow),
		c("10.1/retention-no-age-key", retention, nil, rq(ownerRoot, del, nil), Allow),
		c("10.1/retention-le-age-365", retentionLE, nil, rq(ownerRoot, del, age("365")), ExplicitDeny),
		c("10.1/retention-le-age-366", retentionLE, nil, rq(ownerRoot, del, age("366")), Allow),

		c("10.2/hold-true", legalHold, nil, rq(ownerRoot, del, hold("true", "10")), ExplicitDeny),
		c("10.2/hold-empty", legalHold, nil, rq(ownerRoot, del, hold("", "10")), ExplicitDeny),
		c("10.2/hold-false", legalHold, nil, rq(ownerRoot, del, hold("false", "10")), Allow),
		c("10.2/hold-absent", legalHold, nil, rq(ownerRoot, del, age("10")), Allow),
		c("10.2/hold-true-old-archive", legalHold, nil, rq(ownerRoot, del, hold("true", "4000")), ExplicitDeny),
		c("10.2/hold-grant-is-not-for-users", legalHold, nil, rq(alice, del, hold("false", "10")), ImplicitDeny),
		c("10.2/hold-user-with-identity", legalHold, []string{idAllowAll}, rq(alice, del, hold("false", "10")), Allow),
		c("10.2/hold-user-with-identity-held", legalHold, []string{idAllowAll}, rq(alice, del, hold("true", "10")), ExplicitDeny),
		c("10.2/strict-true", strictHold, nil, rq(ownerRoot, del, hold("true", "10")), ExplicitDeny),
		c("10.2/strict-empty", strictHold, nil, rq(ownerRoot, del, hold("", "10")), ExplicitDeny),
		c("10.2/strict-false", strictHold, nil, rq(ownerRoot, del, hold("false", "10")), Allow),
		c("10.2/strict-FALSE-is-not-false", strictHold, nil, rq(ownerRoot, del, hold("FALSE", "10")), ExplicitDeny),
		c("10.2/strict-absent", strictHold, nil, rq(ownerRoot, del, age("10")), ExplicitDeny),
		// §10.2 says the IfExists form "would leave untagged vaults
		// unprotected", but by §4.2 an IfExists operator is true for an
		// absent key, exactly like the negated form: the Deny still applies.
		c("10.2/ifexists-absent-still-denied", weakHold, nil, rq(ownerRoot, del, age("10")), ExplicitDeny),
		c("10.2/ifexists-false", weakHold, nil, rq(ownerRoot, del, hold("false", "10")), Allow),
		c("10.2/ifexists-true", weakHold, nil, rq(ownerRoot, del, hold("true", "10")), ExplicitDeny),

		c("10.3/cross-user-with-identity", crossAccount, []string{doc(st("Allow", "", `"glacier:UploadArchive"`, vault, ""))}, rq(carol, upload, nil), Allow),
		c("10.3/cross-user-without-identity", crossAccount, nil, rq(carol, upload, nil), ImplicitDeny),
		c("10.3/cross-user-identity-other-vault", crossAccount, []string{doc(st("Allow", "", `"glacier:UploadArchive"`, `"arn:aws:glacier:us-east-1:111122223333:vaults/other"`, ""))}, rq(carol, upload, nil), ImplicitDeny),
		c("10.3/cross-root-bare-account", crossAccount, nil, rq(thirdRoot, "glacier:CompleteMultipartUpload", nil), Allow),
		c("10.3/cross-user-bare-account", crossAccount, []string{idAllowAll}, rq(dave, "glacier:UploadMultipartPart", nil), Allow),
		c("10.3/cross-action-not-granted", crossAccount, []string{idAllowAll}, rq(carol, del, nil), ImplicitDeny),
		c("10.3/cross-unlisted-account", crossAccount, nil, rq(Principal{AccountID: "999988887777", ARN: "arn:aws:iam::999988887777:root", Type: TypeAccount}, upload, nil), ImplicitDeny),

		c("10.4/secure-transport-false", secure, nil, rq(ownerRoot, upload, kv("aws:SecureTransport", "false")), ExplicitDeny),
		c("10.4/secure-transport-true", secure, nil, rq(ownerRoot, upload, kv("aws:SecureTransport", "true")), Allow),
		c("10.4/secure-transport-absent", secure, nil, rq(ownerRoot, upload, nil), Allow),
		c("10.4/mfa-present", mfa, []string{idAllowAll}, rq(carol, del, kv("aws:MultiFactorAuthPresent", "true")), Allow),
		c("10.4/mfa-absent", mfa, []string{idAllowAll}, rq(carol, del, nil), ImplicitDeny),
		c("10.4/date-guard-before", dateGuard, nil, rq(alice, del, kv("aws:CurrentTime", "2029-06-30T10:00:00Z")), ImplicitDeny),
		c("10.4/date-guard-after", dateGuard, nil, rq(alice, del, kv("aws:CurrentTime", "2030-01-01T00:00:01Z")), Allow),
		c("10.4/source-ip-inside", sourceIP, nil, rq(ownerRoot, upload, kv("aws:SourceIp", "10.20.30.40")), Allow),
		c("10.4/source-ip-outside", sourceIP, nil, rq(ownerRoot, upload, kv("aws:SourceIp", "192.168.1.1")), ExplicitDeny),
		c("10.4/source-ip-absent", sourceIP, nil, rq(ownerRoot, upload, nil), ExplicitDeny),
	}
}

// TestEvaluate runs the whole table. Each row parses its documents (an
// empty string stands for a nil policy) and checks the decision.
func TestEvaluate(t *testing.T) {
	var rows []evalCase
	for _, group := range [][]evalCase{operatorCases(), actionResourceCases(), principalCases(),
		combinationCases(), variableCases(), canonicalCases()} {
		rows = append(rows, group...)
	}
	if len(rows) < 150 {
		t.Errorf("table has %d rows; want at least 150", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.name] {
			t.Errorf("duplicate row name %q", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			load := func(docs []string, kind DocKind) []*Policy {
				var ps []*Policy
				for _, d := range docs {
					if d == "" {
						ps = append(ps, nil)
						continue
					}
					ps = append(ps, mustParse(t, d, kind))
				}
				return ps
			}
			got := Evaluate(r.req, load(r.identity, IdentityPolicy), load(r.resource, ResourcePolicy))
			if got != r.want {
				t.Errorf("Evaluate = %v, want %v", got, r.want)
			}
		})
	}
}

func TestEvaluateNilRequest(t *testing.T) {
	if got := Evaluate(nil, nil, nil); got != ImplicitDeny {
		t.Errorf("Evaluate(nil) = %v, want ImplicitDeny", got)
	}
}

// TestResourceSlotIgnoresIdentityStatements: an identity policy passed as
// a resource policy has no principal, so it grants and denies nobody.
func TestResourceSlotIgnoresIdentityStatements(t *testing.T) {
	allow := mustParse(t, idAllowAll, IdentityPolicy)
	deny := mustParse(t, doc(st("Deny", "", glacierA, all, "")), IdentityPolicy)
	if got := Evaluate(rq(alice, del, nil), nil, []*Policy{allow}); got != ImplicitDeny {
		t.Errorf("allow in resource slot: got %v, want ImplicitDeny", got)
	}
	if got := Evaluate(rq(ownerRoot, del, nil), nil, []*Policy{deny}); got != Allow {
		t.Errorf("deny in resource slot: got %v, want Allow", got)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
