package vaultlock

import (
	"strings"
	"testing"
)

const testARN = "arn:aws:glacier:us-east-1:111122223333:vaults/records"

func stmt(body string) string {
	return `{"Version":"2012-10-17","Statement":[` + body + `]}`
}

func TestRetentionFloor(t *testing.T) {
	cases := []struct {
		name   string
		doc    string
		days   int
		reason string // substring of the reasons
	}{
		{"classic", stmt(`{"Sid":"d","Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 365, "365 days"},
		{"aws star, key case, list action", stmt(`{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["glacier:UploadArchive","glacier:deletearchive"],"Resource":"` + testARN + `","Condition":{"NumericLessThan":{"Glacier:archiveageindays":365}}}`), 365, ""},
		{"aws star list", stmt(`{"Effect":"Deny","Principal":{"AWS":["*"]},"Action":"glacier:*","Resource":"arn:aws:glacier:*:*:vaults/*","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"30"}}}`), 30, ""},
		{"action star", stmt(`{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"10"}}}`), 10, ""},
		{"wildcard action", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:Delete*","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"7"}}}`), 7, ""},
		{"less than equals", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThanEquals":{"glacier:ArchiveAgeInDays":"365"}}}`), 366, ""},
		{"fraction", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"364.5"}}}`), 365, ""},
		{"several values take the largest", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":["30","90"]}}}`), 90, ""},
		{"several statements take the largest", stmt(
			`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"30"}}},` +
				`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"400"}}}`), 400, ""},
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"5"}}}}`, 5, ""},

		{"allow gives none", stmt(`{"Effect":"Allow","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericGreaterThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "no Deny statement"},
		{"one principal", stmt(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "Principal"},
		{"not principal", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "NotPrincipal"},
		{"not action", stmt(`{"Effect":"Deny","Principal":"*","NotAction":"glacier:UploadArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "no Deny statement"},
		{"other action", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteVault","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "no Deny statement"},
		{"other vault", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"arn:aws:glacier:us-east-1:111122223333:vaults/other","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "Resource"},
		{"second key", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365","aws:EpochTime":"5"}}}`), 0, "more than one key"},
		{"second operator", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"},"Bool":{"aws:SecureTransport":"true"}}}`), 0, "more than one operator"},
		{"if exists", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThanIfExists":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "NumericLessThanIfExists"},
		{"greater than", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericGreaterThan":{"glacier:ArchiveAgeInDays":"365"}}}`), 0, "NumericGreaterThan"},
		{"unconditional", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `"}`), 0, "unconditionally"},
		{"zero", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"0"}}}`), 0, "denies no archive"},
		{"not a number", stmt(`{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"` + testARN + `","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"abc"}}}`), 0, "not a number"},
		{"garbage", `nope`, 0, "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := RetentionFloor(c.doc, testARN)
			if f.Days != c.days {
				t.Fatalf("days = %d, want %d (reasons %q)", f.Days, c.days, f.Reasons)
			}
			if c.reason != "" && !strings.Contains(strings.Join(f.Reasons, "\n"), c.reason) {
				t.Fatalf("reasons %q do not mention %q", f.Reasons, c.reason)
			}
		})
	}
}

func TestWild(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{{"*", "x", true}, {"a*c", "abbc", true}, {"a?c", "abc", true}, {"a?c", "abbc", false}, {"", "", true}, {"a*", "b", false}} {
		if wild(c.p, c.s) != c.ok {
			t.Errorf("wild(%q, %q) != %v", c.p, c.s, c.ok)
		}
	}
}
