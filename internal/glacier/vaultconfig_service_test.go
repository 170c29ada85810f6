package glacier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func TestVaultTags(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.MaxTags = 3 })
	s := e.svc
	e.mustVault("v")
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, "v", map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	// Overwriting a key does not count against the limit.
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, "v", map[string]string{"a": "one", "c": "3"}); err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := range 11 {
		many[fmt.Sprint("k", i)] = "v"
	}
	for _, c := range []struct {
		what string
		kind glacier.Kind
		tags map[string]string
		frag string
	}{
		{"no tags", glacier.KindMissingParameter, nil, "Required parameter missing: Tags"},
		{"11 tags in one request", glacier.KindInvalidParameter, many, "Too many tags: 11 tags in one request, the maximum is 10"},
		{"a reserved prefix", glacier.KindInvalidParameter, map[string]string{"AWS:x": "1"}, `Invalid tag key "AWS:x": the prefix aws: is reserved`},
		{"a long key", glacier.KindInvalidParameter, map[string]string{strings.Repeat("k", 129): "1"}, "a key must be 1 to 128 characters long"},
		{"a long value", glacier.KindInvalidParameter, map[string]string{"k": strings.Repeat("v", 256)}, "a value must be at most 255 characters long"},
		{"a bad character", glacier.KindInvalidParameter, map[string]string{"k#": "1"}, "allowed characters are letters, digits, spaces"},
		{"the vault's limit", glacier.KindLimitExceeded, map[string]string{"d": "4"}, "The maximum number of tags (3) for vault arn:aws:glacier:us-east-1:" + ownerAccount + ":vaults/v would be exceeded"},
	} {
		e.failsCleanly(c.what, c.kind, func() error { return s.AddTagsToVault(ctx, owner, ownerAccount, "v", c.tags) }, c.frag)
	}
	e.failsCleanly("tags on a missing vault", glacier.KindNotFound, func() error {
		return s.AddTagsToVault(ctx, owner, ownerAccount, "nope", map[string]string{"a": "1"})
	}, "Vault not found")
	tags, err := s.ListTagsForVault(ctx, owner, ownerAccount, "v")
	if err != nil || len(tags) != 3 || tags["a"] != "one" || tags["c"] != "3" {
		t.Errorf("ListTagsForVault = %v, %v", tags, err)
	}

	e.failsCleanly("removing no keys", glacier.KindMissingParameter, func() error {
		return s.RemoveTagsFromVault(ctx, owner, ownerAccount, "v", nil)
	}, "Required parameter missing: TagKeys")
	e.failsCleanly("removing 11 keys", glacier.KindInvalidParameter, func() error {
		return s.RemoveTagsFromVault(ctx, owner, ownerAccount, "v", strings.Split("a,b,c,d,e,f,g,h,i,j,k", ","))
	}, "Too many tag keys: 11 keys in one request, the maximum is 10")
	// Absent keys are ignored.
	if err := s.RemoveTagsFromVault(ctx, owner, ownerAccount, "v", []string{"a", "absent"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := s.ListTagsForVault(ctx, owner, ownerAccount, "v"); len(tags) != 2 || tags["a"] != "" {
		t.Errorf("after removing a: %v", tags)
	}
	// Room again under the limit.
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, "v", map[string]string{"d": "4"}); err != nil {
		t.Errorf("a tag after a removal: %v", err)
	}
}

func TestVaultNotifications(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) {
		s.JobDelays = map[string]time.Duration{"inventory": time.Hour}
		s.TopicAccounts = map[string][]string{"arn:aws:sns:us-east-1:" + otherAccount + ":shared": {ownerAccount}}
	})
	s := e.svc
	e.mustVault("v")
	_, err := s.GetVaultNotifications(ctx, owner, ownerAccount, "v")
	wantErr(t, err, glacier.KindNotFound, "No notification configuration is set for vault: arn:aws:glacier:us-east-1:"+ownerAccount+":vaults/v")

	set := func(topic string, events ...string) func() error {
		return func() error {
			return s.SetVaultNotifications(ctx, owner, ownerAccount, "v", glacier.NotificationConfig{SNSTopic: topic, Events: events})
		}
	}
	e.failsCleanly("no topic", glacier.KindMissingParameter, set("", "ArchiveRetrievalCompleted"), "Required parameter missing: SNSTopic")
	e.failsCleanly("not a topic", glacier.KindInvalidParameter, set("arn:aws:sqs:us-east-1:"+ownerAccount+":q", "ArchiveRetrievalCompleted"), "is not an SNS topic ARN")
	e.failsCleanly("another account's topic", glacier.KindInvalidParameter, set("arn:aws:sns:us-east-1:"+otherAccount+":theirs", "ArchiveRetrievalCompleted"),
		"topic arn:aws:sns:us-east-1:"+otherAccount+":theirs belongs to account "+otherAccount+", and account "+ownerAccount+" may not use it")
	e.failsCleanly("no events", glacier.KindMissingParameter, set(ownerTopic), "Required parameter missing: Events")
	e.failsCleanly("an unknown event", glacier.KindInvalidParameter, set(ownerTopic, "VaultDeleted"), `Invalid event "VaultDeleted"`)
	e.failsCleanly("a missing vault", glacier.KindNotFound, func() error {
		return s.SetVaultNotifications(ctx, owner, ownerAccount, "nope", glacier.NotificationConfig{SNSTopic: ownerTopic, Events: []string{"ArchiveRetrievalCompleted"}})
	}, "Vault not found")

	// The operator may share a topic across accounts.
	if err := set("arn:aws:sns:us-east-1:"+otherAccount+":shared", "ArchiveRetrievalCompleted")(); err != nil {
		t.Errorf("a topic the operator shares: %v", err)
	}
	// Repeated events are kept once.
	if err := set(ownerTopic, "InventoryRetrievalCompleted", "InventoryRetrievalCompleted")(); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.GetVaultNotifications(ctx, owner, ownerAccount, "v")
	if err != nil || cfg.SNSTopic != ownerTopic || len(cfg.Events) != 1 {
		t.Errorf("GetVaultNotifications = %+v, %v", cfg, err)
	}

	// A completed inventory job queues one message for the vault's topic,
	// when the clock reaches its due time and not before.
	if _, err := s.InitiateJob(ctx, owner, ownerAccount, "v", glacier.JobRequest{Type: glacier.InventoryRetrieval}); err != nil {
		t.Fatal(err)
	}
	e.advance(59 * time.Minute)
	if out := e.snapshot()["table outbox"]; len(out) != 0 {
		t.Errorf("a notification before the job completed: %v", out)
	}
	e.advance(2 * time.Minute)
	out := e.snapshot()["table outbox"]
	if len(out) != 1 || !strings.Contains(out[0], ownerTopic) {
		t.Errorf("outbox after completion = %v; want one message to %s", out, ownerTopic)
	}

	if err := s.DeleteVaultNotifications(ctx, owner, ownerAccount, "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVaultNotifications(ctx, owner, ownerAccount, "v"); err != nil {
		t.Errorf("deleting no configuration: %v", err)
	}
	_, err = s.GetVaultNotifications(ctx, owner, ownerAccount, "v")
	wantErr(t, err, glacier.KindNotFound, "No notification configuration is set")
}

func TestVaultAccessPolicy(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	_, err := s.GetVaultAccessPolicy(ctx, owner, ownerAccount, "v")
	wantErr(t, err, glacier.KindNotFound, "No vault access policy is set for: v")
	_, err = s.GetVaultAccessPolicy(ctx, owner, ownerAccount, "nope")
	wantErr(t, err, glacier.KindNotFound, "Vault not found")

	e.failsCleanly("an empty policy", glacier.KindMissingParameter, func() error {
		return s.SetVaultAccessPolicy(ctx, owner, ownerAccount, "v", " ")
	}, "Required parameter missing: Policy")
	e.failsCleanly("a policy that does not parse", glacier.KindInvalidParameter, func() error {
		return s.SetVaultAccessPolicy(ctx, owner, ownerAccount, "v", `{"Statement":`)
	}, "Invalid policy: ")
	e.failsCleanly("a policy on a missing vault", glacier.KindNotFound, func() error {
		return s.SetVaultAccessPolicy(ctx, owner, ownerAccount, "nope", allowAll)
	}, "Vault not found")

	// A grant to another account lets its root in, for the granted
	// action only; removing the policy takes it back.
	other := root(otherAccount)
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + otherAccount + `:root"},"Action":"glacier:DescribeVault","Resource":"` + s.VaultARN(ownerAccount, "v") + `"}]}`
	if _, err := s.DescribeVault(ctx, other, ownerAccount, "v"); glacier.KindOf(err) != glacier.KindAccessDenied {
		t.Fatalf("before the grant: %v", err)
	}
	if err := s.SetVaultAccessPolicy(ctx, owner, ownerAccount, "v", grant); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetVaultAccessPolicy(ctx, owner, ownerAccount, "v"); err != nil || got != grant {
		t.Errorf("GetVaultAccessPolicy = %q, %v; want the text as set", got, err)
	}
	if _, err := s.DescribeVault(ctx, other, ownerAccount, "v"); err != nil {
		t.Errorf("the granted account's DescribeVault: %v", err)
	}
	_, err = s.ListTagsForVault(ctx, other, ownerAccount, "v")
	wantErr(t, err, glacier.KindAccessDenied, "User: arn:aws:iam::"+otherAccount+":root is not authorized to perform: glacier:ListTagsForVault")
	if err := s.DeleteVaultAccessPolicy(ctx, owner, ownerAccount, "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVaultAccessPolicy(ctx, owner, ownerAccount, "v"); err != nil {
		t.Errorf("deleting no policy: %v", err)
	}
	if _, err := s.DescribeVault(ctx, other, ownerAccount, "v"); glacier.KindOf(err) != glacier.KindAccessDenied {
		t.Errorf("after the policy went: %v; want AccessDenied", err)
	}
}

// TestVaultLock walks the lock state machine on the service clock:
// InProgress binds at once and expires after 24 hours, Locked is final.
func TestVaultLock(t *testing.T) {
	ctx := context.Background()
	e := newService(t)
	s := e.svc
	e.mustVault("v")
	arn := s.VaultARN(ownerAccount, "v")
	pol := strings.Replace(lockPolicy, "%s", arn, 1)
	a := e.mustArchive("v", []byte("young"))

	_, err := s.GetVaultLock(ctx, owner, ownerAccount, "v")
	wantErr(t, err, glacier.KindNotFound, "No vault lock policy found for vault: "+arn)
	if err := s.AbortVaultLock(ctx, owner, ownerAccount, "v"); err != nil {
		t.Errorf("aborting no lock: %v", err)
	}
	e.failsCleanly("an empty lock policy", glacier.KindMissingParameter, func() error {
		_, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", "")
		return err
	}, "Required parameter missing: Policy")
	e.failsCleanly("a lock policy for another account's vault", glacier.KindInvalidParameter, func() error {
		_, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", strings.Replace(lockPolicy, "%s", s.VaultARN(otherAccount, "v"), 1))
		return err
	}, "Invalid policy: ", "is not in account "+ownerAccount+", which owns the vault")

	start := e.clock.Now()
	id, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 24 {
		t.Errorf("lock id %q; want 24 characters", id)
	}
	l, err := s.GetVaultLock(ctx, owner, ownerAccount, "v")
	if err != nil || l.State != glacier.LockInProgress || l.Policy != pol || l.ExpiresAt.Sub(l.CreatedAt) != 24*time.Hour || l.CreatedAt.Before(start.Truncate(time.Millisecond)) {
		t.Fatalf("GetVaultLock = %+v, %v", l, err)
	}
	// The draft binds at once: the young archive cannot be deleted.
	e.failsCleanly("a delete the draft denies", glacier.KindAccessDenied, func() error {
		return s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID)
	}, "is not authorized to perform: glacier:DeleteArchive")
	e.failsCleanly("a second Initiate", glacier.KindAccessDenied, func() error {
		_, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol)
		return err
	}, "A vault lock is already in progress; abort it before initiating a new one")
	e.failsCleanly("Complete with another id", glacier.KindInvalidParameter, func() error {
		return s.CompleteVaultLock(ctx, owner, ownerAccount, "v", "WRONGWRONGWRONGWRONGWRON")
	}, "Invalid lock ID: WRONGWRONGWRONGWRONGWRON does not match the vault lock in progress")
	e.failsCleanly("Complete without an id", glacier.KindMissingParameter, func() error {
		return s.CompleteVaultLock(ctx, owner, ownerAccount, "v", "")
	}, "Required parameter missing: lockId")

	// 24 hours later the draft is gone, without any request touching it.
	e.clock.Advance(24*time.Hour + time.Second)
	_, err = s.GetVaultLock(ctx, owner, ownerAccount, "v")
	wantErr(t, err, glacier.KindNotFound, "No vault lock policy found")
	e.failsCleanly("Complete after expiry", glacier.KindInvalidParameter, func() error {
		return s.CompleteVaultLock(ctx, owner, ownerAccount, "v", id)
	}, "No vault lock is in progress for lock ID: "+id)
	b := e.mustArchive("v", []byte("another young one"))
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", b.ID); err != nil {
		t.Errorf("a delete after the draft expired: %v", err)
	}

	// Initiate again, abort, initiate, complete.
	id, err = s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AbortVaultLock(ctx, owner, ownerAccount, "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Errorf("a delete after the draft was aborted: %v", err)
	}
	a = e.mustArchive("v", []byte("young again"))
	if id, err = s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteVaultLock(ctx, owner, ownerAccount, "v", id); err != nil {
		t.Fatal(err)
	}
	if l, err := s.GetVaultLock(ctx, owner, ownerAccount, "v"); err != nil || l.State != glacier.LockLocked {
		t.Fatalf("after Complete: %+v, %v", l, err)
	}
	// Locked is final: no expiry, no abort, no new lock, no other id.
	e.clock.Advance(48 * time.Hour)
	if l, err := s.GetVaultLock(ctx, owner, ownerAccount, "v"); err != nil || l.State != glacier.LockLocked {
		t.Errorf("a Locked lock two days on: %+v, %v", l, err)
	}
	if err := s.CompleteVaultLock(ctx, owner, ownerAccount, "v", id); err != nil {
		t.Errorf("completing the Locked lock with its id again: %v", err)
	}
	e.failsCleanly("Abort when Locked", glacier.KindAccessDenied, func() error {
		return s.AbortVaultLock(ctx, owner, ownerAccount, "v")
	}, "The vault is locked; its lock policy cannot be removed")
	e.failsCleanly("Initiate when Locked", glacier.KindAccessDenied, func() error {
		_, err := s.InitiateVaultLock(ctx, owner, ownerAccount, "v", pol)
		return err
	}, "The vault is locked; its lock policy can no longer be changed")
	e.failsCleanly("Complete with another id when Locked", glacier.KindAccessDenied, func() error {
		return s.CompleteVaultLock(ctx, owner, ownerAccount, "v", "WRONGWRONGWRONGWRONGWRON")
	}, "The vault is locked; lock ID WRONGWRONGWRONGWRONGWRON does not match its lock")
	e.failsCleanly("a delete the lock denies", glacier.KindAccessDenied, func() error {
		return s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID)
	}, "glacier:DeleteArchive")
	floor, _, err := s.RetentionFloor(ctx, ownerAccount, "v")
	if err != nil || floor.Days != 365 {
		t.Errorf("RetentionFloor = %+v, %v; want 365 days", floor, err)
	}
	// A year on, the archive is old enough.
	e.clock.Advance(366 * 24 * time.Hour)
	if err := s.DeleteArchive(ctx, owner, ownerAccount, "v", a.ID); err != nil {
		t.Errorf("deleting an archive older than the lock's 365 days: %v", err)
	}
}
