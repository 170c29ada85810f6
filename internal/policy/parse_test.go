package policy

import (
	"errors"
	"strings"
	"testing"
)

// parseInvalid are documents Parse must refuse, each with a substring its
// message must contain.
var parseInvalid = []struct {
	name string
	kind DocKind
	doc  string
	want string
}{
	{"empty", ResourcePolicy, "", "policy is empty"},
	{"blank", ResourcePolicy, " \n\t", "policy is empty"},
	{"bad-json", ResourcePolicy, `{"Statement": [}`, "not valid JSON"},
	{"truncated", ResourcePolicy, `{"Statement": [{"Effect":"Allow"`, "unexpected end of input"},
	{"trailing-data", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}} {}`, "unexpected data after"},
	{"not-object-array", ResourcePolicy, `[{"Effect":"Allow"}]`, "policy must be a JSON object, got an array"},
	{"not-object-string", ResourcePolicy, `"policy"`, "policy must be a JSON object, got a string"},
	{"unknown-top-level", ResourcePolicy, `{"Version":"2012-10-17","Statements":[]}`, `unknown top-level element "Statements"`},
	{"lowercase-top-level", ResourcePolicy, `{"version":"2012-10-17"}`, `unknown top-level element "version"`},
	{"bad-version", ResourcePolicy, `{"Version":"2012-10-18","Statement":[]}`, `Version must be "2012-10-17" or "2008-10-17", got "2012-10-18"`},
	{"version-number", ResourcePolicy, `{"Version":2012,"Statement":[]}`, `Version must be "2012-10-17" or "2008-10-17", got 2012`},
	{"id-not-string", ResourcePolicy, `{"Id":1,"Statement":[]}`, "Id must be a string"},
	{"missing-statement", ResourcePolicy, `{"Version":"2012-10-17"}`, "policy has no Statement"},
	{"empty-statement-array", ResourcePolicy, `{"Version":"2012-10-17","Statement":[]}`, "Statement must not be an empty array"},
	{"statement-not-object", ResourcePolicy, `{"Statement":["x"]}`, "Statement[0]: a statement must be a JSON object, got a string"},
	{"statement-number", ResourcePolicy, `{"Statement":5}`, "Statement[0]: a statement must be a JSON object"},
	{"missing-effect", ResourcePolicy, `{"Statement":{"Principal":"*","Action":"*","Resource":"*"}}`, "Statement[0]: Effect is required"},
	{"bad-effect-case", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, ""), st("allow", `"*"`, `"*"`, `"*"`, "")),
		`Statement[1]: Effect must be "Allow" or "Deny", got "allow"`},
	{"bad-effect-type", ResourcePolicy, `{"Statement":{"Effect":true,"Principal":"*","Action":"*","Resource":"*"}}`, `Effect must be "Allow" or "Deny", got true`},
	{"unknown-statement-element", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Actions":"*","Resource":"*"}}`, `Statement[0]: unknown element "Actions"`},
	{"sid-not-string", ResourcePolicy, `{"Statement":{"Sid":1,"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "Sid must be a string"},
	{"both-action", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"*","Resource":"*"}}`, "Statement[0]: exactly one of Action or NotAction is required"},
	{"no-action", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}`, "Statement[0]: exactly one of Action or NotAction is required"},
	{"both-resource", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","NotResource":"*"}}`, "exactly one of Resource or NotResource is required"},
	{"no-resource", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "exactly one of Resource or NotResource is required"},
	{"both-principal", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}}`, "exactly one of Principal or NotPrincipal is required"},
	{"no-principal", ResourcePolicy, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "exactly one of Principal or NotPrincipal is required"},
	{"principal-in-identity", IdentityPolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "Principal is not allowed in an identity policy"},
	{"notprincipal-in-identity", IdentityPolicy, `{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}}`, "NotPrincipal is not allowed in an identity policy"},
	{"empty-action-array", ResourcePolicy, doc(st("Allow", `"*"`, `[]`, `"*"`, "")), "Statement[0].Action must not be an empty array"},
	{"action-not-string", ResourcePolicy, doc(st("Allow", `"*"`, `["glacier:*", 3]`, `"*"`, "")), "Statement[0].Action must be a string or an array of strings"},
	{"action-object", ResourcePolicy, doc(st("Allow", `"*"`, `{"a":1}`, `"*"`, "")), "Statement[0].Action must be a string or an array of strings, got an object"},
	{"action-without-service", ResourcePolicy, doc(st("Allow", `"*"`, `"DeleteArchive"`, `"*"`, "")), `"DeleteArchive" is not an action`},
	{"notaction-empty-name", IdentityPolicy, `{"Statement":{"Effect":"Allow","NotAction":"glacier:","Resource":"*"}}`, `Statement[0].NotAction: "glacier:" is not an action`},
	{"resource-not-arn", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"photos"`, "")), `"photos" is not a resource`},
	{"resource-short-arn", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"arn:aws:glacier:*"`, "")), `"arn:aws:glacier:*" is not a resource`},
	{"empty-notresource", IdentityPolicy, `{"Statement":{"Effect":"Allow","Action":"*","NotResource":[]}}`, "Statement[0].NotResource must not be an empty array"},
	{"principal-bare-account", ResourcePolicy, doc(st("Allow", `"111122223333"`, `"*"`, `"*"`, "")), `Statement[0].Principal must be "*" or an object, got "111122223333"`},
	{"principal-array", ResourcePolicy, doc(st("Allow", `["*"]`, `"*"`, `"*"`, "")), `Principal must be "*" or an object, got an array`},
	{"principal-empty-object", ResourcePolicy, doc(st("Allow", `{}`, `"*"`, `"*"`, "")), "Principal must name at least one principal"},
	{"principal-unknown-type", ResourcePolicy, doc(st("Allow", `{"IAM":"*"}`, `"*"`, `"*"`, "")), `unknown principal type "IAM"`},
	{"principal-empty-array", ResourcePolicy, doc(st("Allow", `{"AWS":[]}`, `"*"`, `"*"`, "")), "Statement[0].Principal.AWS must not be an empty array"},
	{"principal-partial-wildcard", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:iam::111122223333:user/*"}`, `"*"`, `"*"`, "")), "partial wildcards are not allowed"},
	{"principal-partial-wildcard-account", ResourcePolicy, doc(st("Deny", `{"AWS":["111122223333","arn:aws:iam::*:root"]}`, `"*"`, `"*"`, "")), "partial wildcards are not allowed"},
	{"principal-question-mark", ResourcePolicy, doc(st("Allow", `{"AWS":"11112222333?"}`, `"*"`, `"*"`, "")), "partial wildcards are not allowed"},
	{"notprincipal-partial-wildcard", ResourcePolicy, `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/a*"},"Action":"*","Resource":"*"}}`, "Statement[0].NotPrincipal.AWS: partial wildcards"},
	{"principal-short-account", ResourcePolicy, doc(st("Allow", `{"AWS":"11112222333"}`, `"*"`, `"*"`, "")), `"11112222333" is not a valid account ID`},
	{"principal-letters-account", ResourcePolicy, doc(st("Allow", `{"AWS":"alice"}`, `"*"`, `"*"`, "")), "not a valid account ID"},
	{"principal-arn-bad-account", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:iam::1234:root"}`, `"*"`, `"*"`, "")), `invalid account ID "1234"`},
	{"principal-arn-bad-resource", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:iam::111122223333:group/admins"}`, `"*"`, `"*"`, "")), "invalid principal ARN"},
	{"principal-arn-wrong-service", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:s3::111122223333:root"}`, `"*"`, `"*"`, "")), "invalid principal ARN"},
	{"principal-arn-region", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:iam:us-east-1:111122223333:root"}`, `"*"`, `"*"`, "")), "invalid principal ARN"},
	{"principal-arn-empty-user", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:iam::111122223333:user/"}`, `"*"`, `"*"`, "")), "invalid principal ARN"},
	{"principal-session-missing", ResourcePolicy, doc(st("Allow", `{"AWS":"arn:aws:sts::111122223333:assumed-role/Admin"}`, `"*"`, `"*"`, "")), "invalid principal ARN"},
	{"principal-aws-number", ResourcePolicy, doc(st("Allow", `{"AWS":111122223333}`, `"*"`, `"*"`, "")), "Principal.AWS must be a string or an array of strings"},
	{"unknown-operator", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEqualz", "aws:username", `"a"`))), `Statement[0].Condition: unknown operator "StringEqualz"`},
	{"operator-wrong-case", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("stringEquals", "aws:username", `"a"`))), `unknown operator "stringEquals"`},
	{"unknown-qualifier", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("ForSomeValues:StringEquals", "aws:TagKeys", `"a"`))), `unknown operator "ForSomeValues:StringEquals"`},
	{"qualifier-unknown-base", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("ForAnyValue:Equals", "aws:TagKeys", `"a"`))), `unknown operator "ForAnyValue:Equals"`},
	{"null-ifexists", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("NullIfExists", "aws:username", `"true"`))), "Null has no IfExists form"},
	{"condition-not-object", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, `["StringEquals"]`)), "Statement[0].Condition must be an object, got an array"},
	{"condition-block-not-object", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, `{"StringEquals":"aws:username"}`)), "Statement[0].Condition.StringEquals must be an object of condition keys, got a string"},
	{"condition-value-object", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEquals", "aws:username", `{"a":1}`))), "Statement[0].Condition.StringEquals.aws:username: value must be a string"},
	{"condition-value-null", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEquals", "aws:username", `null`))), "got null"},
	{"condition-value-nested-array", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEquals", "aws:username", `[["a"]]`))), "values must be strings, numbers or booleans, got an array"},
	{"condition-value-empty-array", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringNotEquals", "aws:username", `[]`))), "aws:username must not be an empty array"},
	{"condition-empty-key", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEquals", "", `"a"`))), "empty condition key"},
	{"duplicate-top-level", ResourcePolicy, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, `duplicate key "Version" in the policy`},
	{"duplicate-statement-element", ResourcePolicy, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`, `Statement[1]: duplicate key "Effect"`},
	{"duplicate-operator", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"false"}}}}`, `Statement[0].Condition: duplicate key "Bool"`},
	{"duplicate-condition-key", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"k":"true","k":"false"}}}}`, `Statement[0].Condition.Bool: duplicate key "k"`},
	{"duplicate-principal-type", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333","AWS":"*"},"Action":"*","Resource":"*"}}`, `Statement[0].Principal: duplicate key "AWS"`},
	{"duplicate-in-big-object", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","c":"2"}}}}`, `duplicate key "c"`},
	{"too-deep", ResourcePolicy, `{"Statement":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "nests deeper than"},
	{"over-limit", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, "")) + strings.Repeat(" ", 20481-len(doc(st("Allow", `"*"`, `"*"`, `"*"`, "")))), "policy is 20481 bytes; the limit is 20480"},
	{"bad-kind", DocKind(9), `{}`, "unknown document kind 9"},
}

// parseValid are documents Parse must accept: the dev guide's examples of
// §10 and the grammar's corner cases.
var parseValid = []struct {
	name string
	kind DocKind
	doc  string
}{
	{"10.1-retention", ResourcePolicy, `{
 "Version":"2012-10-17",
 "Statement":[
  {
   "Sid": "deny-based-on-archive-age",
   "Principal": "*",
   "Effect": "Deny",
   "Action": "glacier:DeleteArchive",
   "Resource": [
    "arn:aws:glacier:us-west-2:123456789012:vaults/examplevault"
   ],
   "Condition": {
     "NumericLessThan" : {
          "glacier:ArchiveAgeinDays" : "365"
     }
   }
  }
 ]
}`},
	{"10.2-legal-hold", ResourcePolicy, `{
    "Version":"2012-10-17",
    "Statement":[
       {
          "Sid": "no-one-can-delete-any-archive-from-vault",
          "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
          "Effect": "Deny",
          "Action": ["glacier:DeleteArchive"],
          "Resource": ["arn:aws:glacier:us-west-2:123456789012:vaults/examplevault"],
          "Condition": {"StringLike": {"glacier:ResourceTag/LegalHold": ["true",""]}}
       },
       {
          "Sid": "you-can-delete-archive-less-than-1-year-old",
          "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
          "Effect": "Allow",
          "Action": ["glacier:DeleteArchive"],
          "Resource": ["arn:aws:glacier:us-west-2:123456789012:vaults/examplevault"],
          "Condition": {"NumericLessThan": {"glacier:ArchiveAgeInDays": "365"}}
       }
    ]
}`},
	{"10.3-cross-account", ResourcePolicy, `{
  "Version":"2012-10-17",
  "Statement":[
     {
      "Sid":"cross-account-upload",
      "Principal": {"AWS": ["arn:aws:iam::123456789012:root","444455556666"]},
      "Effect":"Allow",
      "Action": ["glacier:UploadArchive","glacier:InitiateMultipartUpload","glacier:UploadMultipartPart",
                 "glacier:ListParts","glacier:ListMultipartUploads","glacier:CompleteMultipartUpload","glacier:AbortMultipartUpload"],
      "Resource": ["arn:aws:glacier:us-west-2:999999999999:vaults/examplevault"]
     }
  ]
}`},
	{"10.4-mfa", ResourcePolicy, `{
  "Version":"2012-10-17",
  "Statement":[
     {
      "Sid": "add-mfa-delete-requirement",
      "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
      "Effect": "Allow",
      "Action": ["glacier:Delete*"],
      "Resource": ["arn:aws:glacier:us-west-2:999999999999:vaults/examplevault"],
      "Condition": {"Bool": {"aws:MultiFactorAuthPresent": true}}
     }
  ]
}`},
	{"10.4-guard-rails", ResourcePolicy, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Deny","Principal":"*","Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:111122223333:vaults/photos","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	 {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"glacier:Delete*","Resource":"arn:aws:glacier:us-east-1:111122223333:vaults/photos","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},
	 {"Effect":"Deny","Principal":"*","Action":"glacier:*","Resource":"arn:aws:glacier:us-east-1:111122223333:vaults/photos","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}]}`},
	{"dev-guide-read-only-access", ResourcePolicy, `{"Version":"2012-10-17","Statement":[{"Sid":"add-read-only-perm","Principal":{"AWS":["arn:aws:iam::123456789012:root","arn:aws:iam::444455556666:root"]},"Effect":"Allow","Action":["glacier:InitiateJob","glacier:GetJobOutput","glacier:ListJobs"],"Resource":["arn:aws:glacier:us-west-2:999999999999:vaults/examplevault"]}]}`},
	{"identity-user-vaults", IdentityPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["glacier:*"],"Resource":"arn:aws:glacier:*:111122223333:vaults/${aws:username}-*"},{"Effect":"Allow","Action":"glacier:ListVaults","Resource":"*"}]}`},
	{"statement-object", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`},
	{"version-2008-with-id", ResourcePolicy, `{"Version":"2008-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`},
	{"every-principal-form", ResourcePolicy, `{"Statement":{"Effect":"Deny","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/a","arn:aws:iam::111122223333:user/p/q/a",
	  "arn:aws:iam::111122223333:role/r","arn:aws:sts::111122223333:assumed-role/r/s","arn:aws:sts::111122223333:federated-user/f"],
	  "Service":["glacier.amazonaws.com"],"Federated":"accounts.google.com","CanonicalUser":"abc"},"Action":"*","Resource":"*"}}`},
	{"not-principal", ResourcePolicy, `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}}`},
	{"every-operator", ResourcePolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{
	  "StringEquals":{"a":"x"},"StringNotEquals":{"a":"x"},"StringEqualsIgnoreCase":{"a":"x"},"StringNotEqualsIgnoreCase":{"a":"x"},"StringLike":{"a":"x*"},"StringNotLike":{"a":"x?"},
	  "NumericEquals":{"n":1},"NumericNotEquals":{"n":"1"},"NumericLessThan":{"n":"1.5"},"NumericLessThanEquals":{"n":"-1"},"NumericGreaterThan":{"n":"1e3"},"NumericGreaterThanEquals":{"n":"0"},
	  "DateEquals":{"d":"2020-01-01"},"DateNotEquals":{"d":"2020-01-01T00:00:00Z"},"DateLessThan":{"d":"2020-01-01T00:00:00.123+02:00"},"DateLessThanEquals":{"d":1577836800},
	  "DateGreaterThan":{"d":"1577836800"},"DateGreaterThanEquals":{"d":"2020-01-01T00:00Z"},"Bool":{"b":true},"BinaryEquals":{"x":"aGVsbG8="},
	  "IpAddress":{"ip":["10.0.0.0/8","::1"]},"NotIpAddress":{"ip":"192.0.2.1"},"ArnEquals":{"r":"arn:aws:iam::*:root"},"ArnLike":{"r":"*"},"ArnNotEquals":{"r":"arn:a:b:c:d:e"},"ArnNotLike":{"r":"arn:*:*:*:*:*"},
	  "Null":{"k":"true"},"StringEqualsIfExists":{"a":"x"},"ForAnyValue:StringLike":{"aws:TagKeys":"a*"},"ForAllValues:StringEqualsIgnoreCaseIfExists":{"aws:TagKeys":["a","b"]},
	  "ForAllValues:Null":{"k":"false"}}}}`},
	{"unknown-condition-key", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, cond("StringEquals", "vendor:Whatever", `"x"`)))},
	{"other-service-action", ResourcePolicy, doc(st("Allow", `"*"`, `"s3:GetObject"`, `"*"`, ""))},
	{"any-sid", ResourcePolicy, `{"Statement":{"Sid":"with spaces & hyphens-é","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`},
	{"empty-condition", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, `{}`))},
	{"unparsable-values-accepted", ResourcePolicy, doc(st("Deny", `"*"`, `"*"`, `"*"`, `{"NumericLessThan":{"n":"abc"},"IpAddress":{"ip":"nope"},"BinaryEquals":{"b":"%%"}}`))},
	{"at-limit", ResourcePolicy, doc(st("Allow", `"*"`, `"*"`, `"*"`, "")) + strings.Repeat(" ", MaxSize-len(doc(st("Allow", `"*"`, `"*"`, `"*"`, ""))))},
}

func TestParseInvalid(t *testing.T) {
	for _, r := range parseInvalid {
		t.Run(r.name, func(t *testing.T) {
			p, err := Parse(r.doc, r.kind)
			if err == nil {
				t.Fatalf("Parse accepted the document: %+v", p)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T (%v) is not a *policy.Error", err, err)
			}
			if !strings.Contains(pe.Message, r.want) {
				t.Errorf("message %q does not contain %q", pe.Message, r.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	for _, r := range parseValid {
		t.Run(r.name, func(t *testing.T) {
			if _, err := Parse(r.doc, r.kind); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParseAccessors(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Id":"lock-1","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`, ResourcePolicy)
	if p.Version() != Version2012 || p.ID() != "lock-1" || p.Kind() != ResourcePolicy {
		t.Errorf("got Version %q, ID %q, Kind %v", p.Version(), p.ID(), p.Kind())
	}
	p = mustParse(t, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, IdentityPolicy)
	if p.Version() != "" || p.Kind() != IdentityPolicy {
		t.Errorf("got Version %q, Kind %v", p.Version(), p.Kind())
	}
}
