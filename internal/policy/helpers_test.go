package policy

import (
	"strings"
	"testing"
)

// Accounts and principals shared by the tests: the vault is owned by
// owner; other and third are foreign accounts.
const (
	owner    = "111122223333"
	other    = "444455556666"
	third    = "777788889999"
	vaultARN = "arn:aws:glacier:us-east-1:111122223333:vaults/photos"
)

var (
	ownerRoot = Principal{AccountID: owner, ARN: "arn:aws:iam::111122223333:root", Type: TypeAccount, UserID: owner}
	alice     = Principal{AccountID: owner, ARN: "arn:aws:iam::111122223333:user/alice", Type: TypeUser,
		UserName: "alice", UserID: "AIDAALICE0000000000", Tags: map[string]string{"team": "archive", "Wild": "*"}}
	bob       = Principal{AccountID: owner, ARN: "arn:aws:iam::111122223333:user/staff/bob", Type: TypeUser, UserName: "bob", UserID: "AIDABOB00000000000"}
	otherRoot = Principal{AccountID: other, ARN: "arn:aws:iam::444455556666:root", Type: TypeAccount, UserID: other}
	carol     = Principal{AccountID: other, ARN: "arn:aws:iam::444455556666:user/carol", Type: TypeUser, UserName: "carol", UserID: "AIDACAROL000000000"}
	thirdRoot = Principal{AccountID: third, ARN: "arn:aws:iam::777788889999:root", Type: TypeAccount, UserID: third}
	dave      = Principal{AccountID: third, ARN: "arn:aws:iam::777788889999:user/dave", Type: TypeUser, UserName: "dave", UserID: "AIDADAVE0000000000"}
	session   = Principal{AccountID: other, ARN: "arn:aws:sts::444455556666:assumed-role/Uploader/s1", Type: TypeAssumedRole, UserID: "AROAUPLOADER:s1"}
	federated = Principal{AccountID: other, ARN: "arn:aws:sts::444455556666:federated-user/erin", Type: TypeFederatedUser, UserID: "444455556666:erin"}
)

// doc is a 2012-10-17 policy of the given statements.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// st is one statement; every argument but effect is raw JSON, and an
// empty principal or cond leaves the element out.
func st(effect, principal, action, resource, cond string) string {
	var b strings.Builder
	b.WriteString(`{"Effect":"` + effect + `"`)
	if principal != "" {
		b.WriteString(`,"Principal":` + principal)
	}
	b.WriteString(`,"Action":` + action + `,"Resource":` + resource)
	if cond != "" {
		b.WriteString(`,"Condition":` + cond)
	}
	b.WriteString("}")
	return b.String()
}

// cond is a Condition element with one operator and one key.
func cond(op, key, values string) string {
	return `{"` + op + `":{"` + key + `":` + values + `}}`
}

// kv builds a context from key/value pairs; a repeated key gets several
// values.
func kv(pairs ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = append(m[pairs[i]], pairs[i+1])
	}
	return m
}

// rq is a request on the owner's vault.
func rq(p Principal, action string, ctx map[string][]string) *Request {
	return &Request{Principal: p, Action: action, Resource: vaultARN, ResourceAccount: owner, Context: ctx}
}

// on returns a copy of r on another resource.
func on(r *Request, resource string) *Request {
	c := *r
	c.Resource = resource
	return &c
}

func mustParse(tb testing.TB, text string, kind DocKind) *Policy {
	tb.Helper()
	p, err := Parse(text, kind)
	if err != nil {
		tb.Fatalf("Parse(%s): %v", text, err)
	}
	return p
}
