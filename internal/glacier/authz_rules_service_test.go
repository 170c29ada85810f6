package glacier_test

import (
	"context"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// The authorization decision's rules (policies.md §6), exercised through
// the operations: identity policies of users, vault policies across
// accounts, explicit denies and the condition keys the service supplies.

func stmt(effect, action, resource, condition string) string {
	s := `{"Effect":"` + effect + `","Action":"` + action + `","Resource":"` + resource + `"`
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + `}`
}

func identityPolicy(stmts ...string) string {
	doc := `{"Version":"2012-10-17","Statement":[`
	for i, s := range stmts {
		if i > 0 {
			doc += ","
		}
		doc += s
	}
	return doc + `]}`
}

func allowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v; want allowed", what, err)
	}
}

func denied(t *testing.T, what string, err error) {
	t.Helper()
	if glacier.KindOf(err) != glacier.KindAccessDenied {
		t.Errorf("%s: %v; want AccessDenied", what, err)
	}
}

func TestIdentityPolicies(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	e.mustVault("w")
	arnV := s.VaultARN(ownerAccount, "v")
	reader := e.addUser(ownerAccount, "reader", identityPolicy(stmt("Allow", "glacier:DescribeVault", arnV, "")))
	_, err := s.DescribeVault(ctx, reader, ownerAccount, "v")
	allowed(t, "the granted action on the granted vault", err)
	_, err = s.DescribeVault(ctx, reader, ownerAccount, "w")
	denied(t, "the granted action on another vault", err)
	_, err = s.ListTagsForVault(ctx, reader, ownerAccount, "v")
	denied(t, "another action", err)
	_, _, err = s.ListVaults(ctx, reader, ownerAccount, "", 10)
	denied(t, "ListVaults without a grant", err)

	// An explicit deny wins over any allow.
	mixed := e.addUser(ownerAccount, "mixed", identityPolicy(
		stmt("Allow", "glacier:*", "*", ""),
		stmt("Deny", "glacier:DeleteVault", arnV, "")))
	denied(t, "a denied DeleteVault", s.DeleteVault(ctx, mixed, ownerAccount, "v"))
	allowed(t, "DeleteVault of another vault", s.DeleteVault(ctx, mixed, ownerAccount, "w"))

	// The retrieval policy is its own resource.
	rp := "arn:aws:glacier:us-east-1:" + ownerAccount + ":policies/retrieval-limit-policy"
	admin := e.addUser(ownerAccount, "rpadmin", identityPolicy(stmt("Allow", "glacier:*DataRetrievalPolicy", rp, "")))
	_, err = s.GetDataRetrievalPolicy(ctx, admin, ownerAccount)
	allowed(t, "GetDataRetrievalPolicy on its resource", err)
	_, err = s.PurchaseProvisionedCapacity(ctx, admin, ownerAccount)
	denied(t, "PurchaseProvisionedCapacity", err)
}

// TestCrossAccountAccess: a caller of another account needs a grant from
// the vault's policy and, for a user, from its own identity policy too.
func TestCrossAccountAccess(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + otherAccount + `"},"Action":"glacier:DescribeVault","Resource":"` + s.VaultARN(ownerAccount, "v") + `"}]}`
	if err := s.SetVaultAccessPolicy(ctx, owner, ownerAccount, "v", grant); err != nil {
		t.Fatal(err)
	}
	withPolicy := e.addUser(otherAccount, "alice", allowAll)
	withoutPolicy := e.addUser(otherAccount, "bob", "")
	_, err := s.DescribeVault(ctx, root(otherAccount), ownerAccount, "v")
	allowed(t, "the granted account's root", err)
	_, err = s.DescribeVault(ctx, withPolicy, ownerAccount, "v")
	allowed(t, "its user allowed by its own policy", err)
	_, err = s.DescribeVault(ctx, withoutPolicy, ownerAccount, "v")
	denied(t, "its user without an identity policy", err)
	_, err = s.DescribeVault(ctx, root("333333333333"), ownerAccount, "v")
	denied(t, "an account not granted", err)
	// The grant does not reach the owner's other resources.
	_, _, err = s.ListVaults(ctx, withPolicy, ownerAccount, "", 10)
	denied(t, "ListVaults of the granting account", err)
}

// TestConditionKeys: the facts of the request the service puts in the
// condition context decide.
func TestConditionKeys(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("blue")
	e.mustVault("red")
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, "blue", map[string]string{"team": "blue"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, "red", map[string]string{"team": "red"}); err != nil {
		t.Fatal(err)
	}

	// glacier:ResourceTag/<key>: the vault's own tags.
	blueOnly := e.addUser(ownerAccount, "blueteam", identityPolicy(
		stmt("Allow", "glacier:InitiateMultipartUpload", "*", `{"StringEquals":{"glacier:ResourceTag/team":"blue"}}`)))
	_, err := s.InitiateMultipartUpload(ctx, blueOnly, ownerAccount, "blue", mib, "")
	allowed(t, "an upload to the tagged vault", err)
	_, err = s.InitiateMultipartUpload(ctx, blueOnly, ownerAccount, "red", mib, "")
	denied(t, "an upload to a vault tagged otherwise", err)

	// aws:RequestTag/<key> and aws:TagKeys: the tags being added.
	tagger := e.addUser(ownerAccount, "tagger", identityPolicy(
		stmt("Allow", "glacier:AddTagsToVault", "*", `{"StringEquals":{"aws:RequestTag/env":"prod"},"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`)))
	allowed(t, "adding env=prod", s.AddTagsToVault(ctx, tagger, ownerAccount, "blue", map[string]string{"env": "prod"}))
	before := e.snapshot()
	denied(t, "adding env=dev", s.AddTagsToVault(ctx, tagger, ownerAccount, "blue", map[string]string{"env": "dev"}))
	denied(t, "adding another key too", s.AddTagsToVault(ctx, tagger, ownerAccount, "blue", map[string]string{"env": "prod", "owner": "me"}))
	e.unchanged(before, "refused tag additions")

	// aws:SecureTransport and aws:SourceIp: facts of the connection.
	strict := e.addUser(ownerAccount, "strict", identityPolicy(
		stmt("Allow", "glacier:DescribeVault", "*", `{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)))
	call := func(secure bool, ip string) error {
		c := *strict
		c.SecureTransport, c.SourceIP = secure, ip
		_, err := s.DescribeVault(ctx, &c, ownerAccount, "blue")
		return err
	}
	allowed(t, "TLS from 10.1.2.3", call(true, "10.1.2.3"))
	denied(t, "plain HTTP", call(false, "10.1.2.3"))
	denied(t, "from 192.0.2.1", call(true, "192.0.2.1"))
}

// TestNoReachAcrossVaults: an id of one vault's upload, job or archive,
// named under another vault the caller may use, is not found there, and
// nothing of the first vault changes (the decision is made on the vault in
// the request, so every lookup must stay inside it).
func TestNoReachAcrossVaults(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("secret")
	e.mustVault("mine")
	a := e.mustArchive("secret", []byte("not yours"))
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, "secret", mib, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, "secret", u.ID, 0, body([]byte("part"))); err != nil {
		t.Fatal(err)
	}
	j, err := s.InitiateJob(ctx, owner, ownerAccount, "secret", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3*time.Hour + time.Second)
	c := e.addUser(ownerAccount, "neighbour", identityPolicy(stmt("Allow", "glacier:*", s.VaultARN(ownerAccount, "mine"), "")))

	for _, x := range []struct {
		what string
		kind glacier.Kind
		call func() error
	}{
		{"UploadMultipartPart", glacier.KindNotFound, func() error {
			_, err := s.UploadMultipartPart(ctx, c, ownerAccount, "mine", u.ID, 0, body([]byte("over")))
			return err
		}},
		{"ListParts", glacier.KindNotFound, func() error {
			_, _, _, err := s.ListParts(ctx, c, ownerAccount, "mine", u.ID, 0, 10)
			return err
		}},
		{"CompleteMultipartUpload", glacier.KindNotFound, func() error {
			_, err := s.CompleteMultipartUpload(ctx, c, ownerAccount, "mine", u.ID, 4, body([]byte("part")).TreeHash)
			return err
		}},
		{"AbortMultipartUpload", glacier.KindNotFound, func() error {
			return s.AbortMultipartUpload(ctx, c, ownerAccount, "mine", u.ID)
		}},
		{"DescribeJob", glacier.KindNotFound, func() error {
			_, err := s.DescribeJob(ctx, c, ownerAccount, "mine", j.ID)
			return err
		}},
		{"GetJobOutput", glacier.KindNotFound, func() error {
			_, err := s.GetJobOutput(ctx, c, ownerAccount, "mine", j.ID, nil)
			return err
		}},
		{"InitiateJob", glacier.KindNotFound, func() error {
			_, err := s.InitiateJob(ctx, c, ownerAccount, "mine", glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: a.ID})
			return err
		}},
		{"DeleteArchive", glacier.KindInvalidParameter, func() error {
			return s.DeleteArchive(ctx, c, ownerAccount, "mine", a.ID)
		}},
	} {
		e.failsCleanly(x.what+" through another vault", x.kind, x.call)
	}
	// And through its own vault the neighbour is refused.
	e.failsCleanly("AbortMultipartUpload in the secret vault", glacier.KindAccessDenied, func() error {
		return s.AbortMultipartUpload(ctx, c, ownerAccount, "secret", u.ID)
	})
}
