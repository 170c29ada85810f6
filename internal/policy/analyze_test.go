package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// stmtDoc is a one-statement resource policy.
func stmtDoc(effect, rest string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,"Principal":"*",%s}]}`, effect, rest)
}

func TestAnalyze(t *testing.T) {
	vault := AnalyzeOptions{Kind: ResourcePolicy, Lock: true, Region: "us-east-1", AccountID: "111122223333", Vault: "photos"}
	rows := []struct {
		name string
		doc  string
		opt  AnalyzeOptions
		want []string // "SEVERITY CODE", in order
	}{
		{"retention lock, clean", stmtDoc("Deny", `"Action":"glacier:DeleteArchive","Resource":"`+vaultARN+`","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}`), vault, nil},
		{"legal hold, clean", stmtDoc("Deny", `"Action":"glacier:DeleteArchive","Resource":"`+vaultARN+`","Condition":{"StringNotEquals":{"glacier:ResourceTag/LegalHold":"false"}}`), vault, nil},
		{"dev guide key spelling", stmtDoc("Deny", `"Action":"glacier:DeleteArchive","Resource":"`+vaultARN+`","Condition":{"NumericLessThan":{"glacier:ArchiveAgeinDays":"365"}}`), vault,
			[]string{"SUGGESTION KEY_CASE"}},
		{"not JSON", `{"Statement": [`, vault, []string{"ERROR INVALID_POLICY"}},
		{"unknown operator", stmtDoc("Deny", `"Action":"glacier:*","Resource":"*","Condition":{"StringEqualz":{"aws:UserAgent":"x"}}`), vault, []string{"ERROR INVALID_POLICY"}},
		{"s3 action", stmtDoc("Deny", `"Action":["glacier:DeleteArchive","s3:DeleteObject"],"Resource":"*"`), vault, []string{"ERROR ACTION_NOT_GLACIER"}},
		{"unknown glacier action", stmtDoc("Deny", `"Action":"glacier:DeleteArchives","Resource":"*"`), vault, []string{"ERROR UNKNOWN_ACTION"}},
		{"action wildcard matching nothing", stmtDoc("Deny", `"Action":"glacier:Purge*","Resource":"*"`), vault, []string{"ERROR UNKNOWN_ACTION"}},
		{"s3 resource", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:s3:::bucket/*"`), vault, []string{"ERROR RESOURCE_NOT_GLACIER"}},
		{"not a vault", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:111122223333:archives/x"`), vault, []string{"ERROR RESOURCE_NOT_GLACIER"}},
		{"other region", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:eu-west-1:111122223333:vaults/photos"`), vault, []string{"ERROR RESOURCE_OTHER_REGION"}},
		{"other account", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:444455556666:vaults/photos"`), vault, []string{"ERROR RESOURCE_OTHER_ACCOUNT"}},
		{"other account unchecked without a vault", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:444455556666:vaults/photos"`), AnalyzeOptions{}, nil},
		{"other vault in a Deny", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:111122223333:vaults/other"`), vault, []string{"SECURITY_WARNING RESOURCE_OTHER_VAULT"}},
		{"wildcards cover the vault", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:*:111122223333:vaults/ph*"`), vault, nil},
		{"MFA never present in a Deny", stmtDoc("Deny", `"Action":"glacier:DeleteArchive","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`), vault,
			[]string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"org key never present", stmtDoc("Deny", `"Action":"glacier:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}`), vault,
			[]string{"SUGGESTION CONDITION_ALWAYS_TRUE"}},
		{"archive age on another action", stmtDoc("Deny", `"Action":"glacier:UploadArchive","Resource":"*","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}`), vault,
			[]string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"archive age with one action that has it", stmtDoc("Deny", `"Action":["glacier:UploadArchive","glacier:DeleteArchive"],"Resource":"*","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}`), vault, nil},
		{"misspelt key", stmtDoc("Deny", `"Action":"glacier:DeleteArchive","Resource":"*","Condition":{"NumericLessThan":{"glacier:ArchiveAge":"365"}}`), vault,
			[]string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"Null false on an absent key", stmtDoc("Deny", `"Action":"glacier:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}`), vault,
			[]string{"SECURITY_WARNING KEY_NEVER_PRESENT"}},
		{"never-present key in an Allow", stmtDoc("Allow", `"Action":"glacier:DeleteArchive","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), AnalyzeOptions{Kind: ResourcePolicy},
			[]string{"WARNING KEY_NEVER_PRESENT"}},
		{"numeric on an IP key", stmtDoc("Deny", `"Action":"glacier:*","Resource":"*","Condition":{"NumericLessThan":{"aws:SourceIp":"10"}}`), vault,
			[]string{"SECURITY_WARNING OPERATOR_TYPE_MISMATCH"}},
		{"service principal", `{"Statement":[{"Effect":"Deny","Principal":{"Service":"glacier.amazonaws.com"},"Action":"glacier:*","Resource":"*"}]}`, vault,
			[]string{"SECURITY_WARNING PRINCIPAL_NEVER_MATCHES"}},
		{"role and session principals", `{"Statement":[{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::111122223333:role/admin","arn:aws:sts::111122223333:assumed-role/admin/s1","arn:aws:iam::111122223333:user/bob","111122223333"]},"Action":"glacier:*","Resource":"*"}]}`, vault,
			[]string{"SECURITY_WARNING PRINCIPAL_NEVER_MATCHES", "SECURITY_WARNING PRINCIPAL_NEVER_MATCHES"}},
		{"allow with NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"glacier:ListJobs","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"*"}]}`, vault,
			[]string{"SECURITY_WARNING ALLOW_WITH_NOT_PRINCIPAL"}},
		{"redundant statement and values", `{"Statement":[
			{"Sid":"a","Effect":"Deny","Principal":"*","Action":["glacier:*","glacier:DeleteArchive","glacier:*"],"Resource":["*","*"]},
			{"Sid":"b","Effect":"Deny","Principal":"*","Action":["glacier:*","glacier:DeleteArchive","glacier:*"],"Resource":["*","*"]}]}`, vault,
			[]string{"SUGGESTION REDUNDANT_ACTION", "SUGGESTION DUPLICATE_VALUE", "SUGGESTION DUPLICATE_VALUE",
				"SUGGESTION REDUNDANT_ACTION", "SUGGESTION DUPLICATE_VALUE", "SUGGESTION DUPLICATE_VALUE", "SUGGESTION REDUNDANT_STATEMENT"}},
		{"lock without a Deny", stmtDoc("Allow", `"Action":"glacier:ListJobs","Resource":"*"`), vault, []string{"WARNING LOCK_WITHOUT_DENY"}},
		{"identity policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["glacier:DescribeVault","glacier:ListVaults"],"Resource":"*"}]}`, AnalyzeOptions{Kind: IdentityPolicy}, nil},
		{"NotAction on another service", stmtDoc("Deny", `"NotAction":"s3:*","Resource":"*"`), vault, []string{"WARNING NOT_ACTION_NOT_GLACIER"}},
		{"tag key on a tagging action", stmtDoc("Deny", `"Action":"glacier:AddTagsToVault","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"LegalHold"}}`), vault, nil},
		{"variables are not checked as ARNs", stmtDoc("Deny", `"Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:${aws:PrincipalAccount}:vaults/*"`), vault, nil},
	}
	for _, r := range rows {
		fs := Analyze(r.doc, r.opt)
		var got []string
		for _, f := range fs {
			got = append(got, string(f.Severity)+" "+f.Code)
			if f.Message == "" {
				t.Errorf("%s: finding %s has no message", r.name, f.Code)
			}
		}
		if !slices.Equal(got, r.want) {
			t.Errorf("%s: findings\n%s\nwant %v", r.name, strings.Join(strs(fs), "\n"), r.want)
		}
		if HasErrors(fs) != (len(r.want) > 0 && strings.HasPrefix(r.want[0], "ERROR")) {
			t.Errorf("%s: HasErrors = %v", r.name, HasErrors(fs))
		}
	}
}

func strs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, "  "+f.String())
	}
	return out
}

// TestKeyPresenceMatchesContext: every key Analyze calls always present
// is one a real request context has (the glacier package fills them; here
// PrincipalContext and the key table must agree on the principal keys).
func TestKeyPresenceMatchesContext(t *testing.T) {
	for _, p := range []Principal{ownerRoot, alice} {
		ctx := PrincipalContext(p)
		for key, g := range globalKeys {
			if !strings.HasPrefix(key, "aws:principal") && key != "aws:userid" && key != "aws:username" {
				continue
			}
			if key == "aws:principalisawsservice" {
				continue
			}
			_, present := ctx[canonicalKeys[key]]
			if g.p == always && !present {
				t.Errorf("%s: %s is marked always present but PrincipalContext lacks it", p.ARN, key)
			}
		}
	}
}
