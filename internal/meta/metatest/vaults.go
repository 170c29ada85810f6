package metatest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func testCreateVault(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetVault(ctx, acct, "photos")
	wantKind(t, "GetVault of a missing vault", err, glacier.KindNotFound)

	want := glacier.Vault{AccountID: acct, Name: "photos", CreatedAt: t0}
	got, created, err := s.CreateVault(ctx, want, 10)
	must(t, "CreateVault", err)
	if !created {
		t.Errorf("CreateVault of a new vault: created = false")
	}
	same(t, "CreateVault", got, want)

	// Idempotent: the existing vault comes back unchanged.
	got, created, err = s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "photos", CreatedAt: at(time.Hour)}, 10)
	must(t, "CreateVault again", err)
	if created {
		t.Errorf("CreateVault of an existing vault: created = true")
	}
	same(t, "CreateVault again", got, want)

	got, err = s.GetVault(ctx, acct, "photos")
	must(t, "GetVault", err)
	same(t, "GetVault", got, want)

	_, err = s.GetVault(ctx, acct, "Photos")
	wantKind(t, "GetVault is case-sensitive", err, glacier.KindNotFound)
	_, err = s.GetVault(ctx, acct2, "photos")
	wantKind(t, "GetVault in another account", err, glacier.KindNotFound)

	// Names are per account.
	other := glacier.Vault{AccountID: acct2, Name: "photos", CreatedAt: at(time.Minute)}
	got, created, err = s.CreateVault(ctx, other, 10)
	must(t, "CreateVault in another account", err)
	if !created {
		t.Errorf("CreateVault of the same name in another account: created = false")
	}
	same(t, "CreateVault in another account", got, other)
}

func testVaultLimit(t *testing.T, s Store) {
	ctx := t.Context()
	for _, name := range []string{"a", "b"} {
		if _, created, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: name, CreatedAt: t0}, 2); err != nil || !created {
			t.Fatalf("CreateVault %s under the limit = %v, %v", name, created, err)
		}
	}
	_, created, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "c", CreatedAt: t0}, 2)
	wantKind(t, "CreateVault beyond the limit", err, glacier.KindLimitExceeded)
	if created {
		t.Errorf("CreateVault beyond the limit: created = true")
	}
	_, err = s.GetVault(ctx, acct, "c")
	wantKind(t, "GetVault of the refused vault", err, glacier.KindNotFound)

	// At the limit, creating an existing vault still answers with it.
	got, created, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "a", CreatedAt: at(time.Hour)}, 2)
	must(t, "CreateVault of an existing vault at the limit", err)
	if created || got.Name != "a" || !got.CreatedAt.Equal(t0) {
		t.Errorf("CreateVault of an existing vault at the limit = %+v, created %v", got, created)
	}

	// The limit counts the vaults of one account.
	if _, created, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct2, Name: "c", CreatedAt: t0}, 2); err != nil || !created {
		t.Errorf("CreateVault in another account = %v, %v", created, err)
	}
	list, err := s.ListVaults(ctx, acct, "", 100)
	must(t, "ListVaults", err)
	if len(list) != 2 {
		t.Errorf("ListVaults: %d vaults, want 2", len(list))
	}
}

func testListVaults(t *testing.T, s Store) {
	ctx := t.Context()
	// Byte order puts '-' < '.' < digits < upper case < '_' < lower case.
	names := []string{"b", "a", "B", "a-1", "a.1", "a_1", "aa", "Z", "z", "0", "a1", "A"}
	for _, n := range names {
		mustVault(t, s, acct, n)
	}
	mustVault(t, s, acct2, "a")
	want := slices.Clone(names)
	slices.Sort(want) // byte order

	list := func(from string, limit int) []string {
		t.Helper()
		vs, err := s.ListVaults(ctx, acct, from, limit)
		must(t, "ListVaults", err)
		var out []string
		for _, v := range vs {
			if v.AccountID != acct {
				t.Errorf("ListVaults returned %+v of another account", v)
			}
			out = append(out, v.Name)
		}
		return out
	}
	same(t, "ListVaults all", list("", 100), want)
	same(t, "ListVaults limit 3", list("", 3), want[:3])
	same(t, "ListVaults from is inclusive", list(want[3], 3), want[3:6])
	same(t, "ListVaults last page", list(want[9], 3), want[9:])
	same(t, "ListVaults from an absent name", list("a0", 100), slices.DeleteFunc(slices.Clone(want), func(n string) bool { return n < "a0" }))
	same(t, "ListVaults from past the end", list("zz", 100), []string(nil))

	// Full records, not just names.
	vs, err := s.ListVaults(ctx, acct2, "", 10)
	must(t, "ListVaults", err)
	same(t, "ListVaults of the other account", vs, []glacier.Vault{{AccountID: acct2, Name: "a", CreatedAt: t0}})
}

func testDeleteVaultMissing(t *testing.T, s Store) {
	called := false
	_, err := s.DeleteVault(t.Context(), acct, "missing", func(glacier.Vault) error { called = true; return nil })
	wantKind(t, "DeleteVault of a missing vault", err, glacier.KindNotFound)
	if called {
		t.Errorf("DeleteVault of a missing vault called check")
	}
}

// vaultFixture creates the vault name in acct with a tag, a notification
// config, two open uploads with parts and an aborted one, and returns the
// part blob keys.
func vaultFixture(t *testing.T, s Store, name string) []string {
	t.Helper()
	ctx := t.Context()
	mustVault(t, s, acct, name)
	must(t, "AddTags", s.AddTags(ctx, acct, name, map[string]string{"k": "v"}, 10))
	must(t, "SetNotificationConfig", s.SetNotificationConfig(ctx, acct, name,
		glacier.NotificationConfig{SNSTopic: "arn:aws:sns:us-east-1:111122223333:t", Events: []string{"ArchiveRetrievalCompleted"}}))
	mustUpload(t, s, acct, name, name+"-u1")
	mustUpload(t, s, acct, name, name+"-u2")
	mustUpload(t, s, acct, name, name+"-u3")
	keys := []string{name + "/p1", name + "/p2", name + "/p3"}
	mustPart(t, s, name+"-u1", 0, mib, keys[0])
	mustPart(t, s, name+"-u1", mib, 5, keys[1])
	mustPart(t, s, name+"-u2", 0, mib, keys[2])
	_, err := s.AbortUpload(ctx, name+"-u3", t0)
	must(t, "AbortUpload", err)
	return keys
}

func testDeleteVaultRefused(t *testing.T, s Store) {
	ctx := t.Context()
	keys := vaultFixture(t, s, "v")
	before, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)

	refused := errors.New("refused")
	var seen glacier.Vault
	orphans, err := s.DeleteVault(ctx, acct, "v", func(v glacier.Vault) error { seen = v; return refused })
	if !errors.Is(err, refused) {
		t.Errorf("DeleteVault refused by check: got error %v, want the check's", err)
	}
	if len(orphans) != 0 {
		t.Errorf("DeleteVault refused by check returned orphans %v", orphans)
	}
	same(t, "vault given to check", seen, before)

	// A domain error from check comes back with its kind and message.
	notEmpty := glacier.Errorf(glacier.KindInvalidParameter, "Vault not empty or recently written to")
	_, err = s.DeleteVault(ctx, acct, "v", func(glacier.Vault) error { return notEmpty })
	wantKind(t, "DeleteVault refused with a domain error", err, glacier.KindInvalidParameter)
	if got := glacier.MessageOf(err); got != notEmpty.Message {
		t.Errorf("DeleteVault refused: message %q, want %q", got, notEmpty.Message)
	}

	// Nothing changed.
	got, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault after refusal", err)
	same(t, "vault after refusal", got, before)
	tags, err := s.GetTags(ctx, acct, "v")
	must(t, "GetTags after refusal", err)
	same(t, "tags after refusal", tags, map[string]string{"k": "v"})
	_, err = s.GetNotificationConfig(ctx, acct, "v")
	must(t, "GetNotificationConfig after refusal", err)
	for _, id := range []string{"v-u1", "v-u2", "v-u3"} {
		_, err := s.GetUpload(ctx, acct, "v", id)
		must(t, "GetUpload after refusal", err)
	}
	parts, err := s.ListParts(ctx, "v-u1", 0, 100)
	must(t, "ListParts after refusal", err)
	if len(parts) != 2 {
		t.Errorf("ListParts after refusal: %d parts, want 2", len(parts))
	}
	wantReferenced(t, s, true, keys...)
}

func testDeleteVaultCascade(t *testing.T, s Store) {
	ctx := t.Context()
	keys := vaultFixture(t, s, "v")
	keepKeys := vaultFixture(t, s, "keep")

	called := false
	orphans, err := s.DeleteVault(ctx, acct, "v", func(v glacier.Vault) error {
		called = true
		if v.Name != "v" || v.AccountID != acct {
			t.Errorf("check got vault %+v", v)
		}
		return nil
	})
	must(t, "DeleteVault", err)
	if !called {
		t.Errorf("DeleteVault did not call check")
	}
	same(t, "DeleteVault orphans (part blob keys)", sorted(orphans), sorted(keys))

	_, err = s.GetVault(ctx, acct, "v")
	wantKind(t, "GetVault after delete", err, glacier.KindNotFound)
	_, err = s.GetTags(ctx, acct, "v")
	wantKind(t, "GetTags after delete", err, glacier.KindNotFound)
	_, err = s.GetNotificationConfig(ctx, acct, "v")
	wantKind(t, "GetNotificationConfig after delete", err, glacier.KindNotFound)
	for _, id := range []string{"v-u1", "v-u2", "v-u3"} {
		_, err := s.GetUpload(ctx, acct, "v", id)
		wantKind(t, "GetUpload after delete", err, glacier.KindNotFound)
	}
	wantReferenced(t, s, false, keys...)

	// The other vault is untouched.
	wantReferenced(t, s, true, keepKeys...)
	tags, err := s.GetTags(ctx, acct, "keep")
	must(t, "GetTags of the other vault", err)
	same(t, "tags of the other vault", tags, map[string]string{"k": "v"})
	list, err := s.ListVaults(ctx, acct, "", 10)
	must(t, "ListVaults", err)
	if len(list) != 1 || list[0].Name != "keep" {
		t.Errorf("ListVaults after delete = %+v, want only keep", list)
	}

	// A vault of the same name starts afresh.
	v := mustVault(t, s, acct, "v")
	same(t, "recreated vault", v, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: t0})
	tags, err = s.GetTags(ctx, acct, "v")
	must(t, "GetTags of the recreated vault", err)
	if len(tags) != 0 {
		t.Errorf("recreated vault has tags %v", tags)
	}
	_, err = s.GetNotificationConfig(ctx, acct, "v")
	wantKind(t, "GetNotificationConfig of the recreated vault", err, glacier.KindNotFound)
	ups, err := s.ListUploads(ctx, acct, "v", "", 10)
	must(t, "ListUploads of the recreated vault", err)
	if len(ups) != 0 {
		t.Errorf("recreated vault has uploads %+v", ups)
	}
}

func testTags(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetTags(ctx, acct, "v")
	wantKind(t, "GetTags of a missing vault", err, glacier.KindNotFound)
	wantKind(t, "AddTags to a missing vault", s.AddTags(ctx, acct, "v", map[string]string{"a": "1"}, 10), glacier.KindNotFound)
	wantKind(t, "RemoveTags of a missing vault", s.RemoveTags(ctx, acct, "v", []string{"a"}), glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	tags, err := s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	if tags == nil || len(tags) != 0 {
		t.Errorf("GetTags of a vault without tags = %#v, want an empty non-nil map", tags)
	}

	// Keys are case-sensitive.
	must(t, "AddTags", s.AddTags(ctx, acct, "v", map[string]string{"Key": "1", "key": "2"}, 10))
	tags, err = s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	same(t, "GetTags", tags, map[string]string{"Key": "1", "key": "2"})

	must(t, "AddTags overwriting", s.AddTags(ctx, acct, "v", map[string]string{"key": "3", "new": ""}, 10))
	tags, err = s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	same(t, "GetTags after overwrite", tags, map[string]string{"Key": "1", "key": "3", "new": ""})

	must(t, "RemoveTags", s.RemoveTags(ctx, acct, "v", []string{"key", "absent", "KEY"}))
	must(t, "RemoveTags of nothing", s.RemoveTags(ctx, acct, "v", nil))
	tags, err = s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	same(t, "GetTags after remove", tags, map[string]string{"Key": "1", "new": ""})

	// Tags are per vault.
	mustVault(t, s, acct, "w")
	tags, err = s.GetTags(ctx, acct, "w")
	must(t, "GetTags", err)
	if len(tags) != 0 {
		t.Errorf("GetTags of another vault = %v, want none", tags)
	}
}

func testTagLimit(t *testing.T, s Store) {
	ctx := t.Context()
	mustVault(t, s, acct, "v")
	start := map[string]string{"a": "1", "b": "2"}
	must(t, "AddTags", s.AddTags(ctx, acct, "v", start, 3))

	// All or nothing: the overwrite of "a" is not applied either.
	err := s.AddTags(ctx, acct, "v", map[string]string{"a": "changed", "x": "1", "y": "2"}, 3)
	wantKind(t, "AddTags beyond the limit", err, glacier.KindLimitExceeded)
	tags, err := s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	same(t, "tags after a refused AddTags", tags, start)

	must(t, "AddTags up to the limit", s.AddTags(ctx, acct, "v", map[string]string{"a": "changed", "x": "1"}, 3))
	must(t, "AddTags overwriting at the limit", s.AddTags(ctx, acct, "v", map[string]string{"x": "again"}, 3))
	wantKind(t, "AddTags of one more", s.AddTags(ctx, acct, "v", map[string]string{"z": "1"}, 3), glacier.KindLimitExceeded)
	tags, err = s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	same(t, "tags at the limit", tags, map[string]string{"a": "changed", "b": "2", "x": "again"})

	// Removing makes room again.
	must(t, "RemoveTags", s.RemoveTags(ctx, acct, "v", []string{"b"}))
	must(t, "AddTags after remove", s.AddTags(ctx, acct, "v", map[string]string{"z": "1"}, 3))
}

func testNotificationConfig(t *testing.T, s Store) {
	ctx := t.Context()
	c := glacier.NotificationConfig{
		SNSTopic: "arn:aws:sns:us-east-1:111122223333:topic",
		Events:   []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"},
	}
	wantKind(t, "SetNotificationConfig of a missing vault", s.SetNotificationConfig(ctx, acct, "v", c), glacier.KindNotFound)
	_, err := s.GetNotificationConfig(ctx, acct, "v")
	wantKind(t, "GetNotificationConfig of a missing vault", err, glacier.KindNotFound)
	wantKind(t, "DeleteNotificationConfig of a missing vault", s.DeleteNotificationConfig(ctx, acct, "v"), glacier.KindNotFound)

	mustVault(t, s, acct, "v")
	_, err = s.GetNotificationConfig(ctx, acct, "v")
	wantKind(t, "GetNotificationConfig when none is set", err, glacier.KindNotFound)
	must(t, "DeleteNotificationConfig when none is set", s.DeleteNotificationConfig(ctx, acct, "v"))

	must(t, "SetNotificationConfig", s.SetNotificationConfig(ctx, acct, "v", c))
	got, err := s.GetNotificationConfig(ctx, acct, "v")
	must(t, "GetNotificationConfig", err)
	same(t, "GetNotificationConfig", got, c)

	c2 := glacier.NotificationConfig{SNSTopic: "arn:aws:sns:us-east-1:111122223333:other", Events: []string{"InventoryRetrievalCompleted"}}
	must(t, "SetNotificationConfig replacing", s.SetNotificationConfig(ctx, acct, "v", c2))
	got, err = s.GetNotificationConfig(ctx, acct, "v")
	must(t, "GetNotificationConfig", err)
	same(t, "GetNotificationConfig after replace", got, c2)

	must(t, "DeleteNotificationConfig", s.DeleteNotificationConfig(ctx, acct, "v"))
	_, err = s.GetNotificationConfig(ctx, acct, "v")
	wantKind(t, "GetNotificationConfig after delete", err, glacier.KindNotFound)
}

// testRaceCreateVaultLimit: with room for one more vault, exactly one of
// many concurrent creations succeeds.
func testRaceCreateVaultLimit(t *testing.T, s Store) {
	ctx := t.Context()
	const limit = 5
	for i := range limit - 1 {
		mustVault(t, s, acct, fmt.Sprintf("old-%d", i))
	}
	created := make([]bool, racers)
	errs := Race(racers, func(i int) error {
		var err error
		_, created[i], err = s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: fmt.Sprintf("new-%d", i), CreatedAt: t0}, limit)
		return err
	})
	won := Winners(t, "CreateVault", errs, glacier.KindLimitExceeded)
	if len(won) != 1 {
		t.Errorf("CreateVault race: %d new vaults, want exactly 1", len(won))
	}
	for _, i := range won {
		if !created[i] {
			t.Errorf("CreateVault race: winner %d not created", i)
		}
	}
	list, err := s.ListVaults(ctx, acct, "", 100)
	must(t, "ListVaults", err)
	if len(list) != limit {
		t.Errorf("after the race the account has %d vaults, want %d", len(list), limit)
	}
}

// testRaceAddTagsLimit: concurrent AddTags near the limit never exceed it.
func testRaceAddTagsLimit(t *testing.T, s Store) {
	ctx := t.Context()
	const limit = 10
	mustVault(t, s, acct, "v")
	start := map[string]string{}
	for i := range limit - 2 {
		start[fmt.Sprintf("old-%d", i)] = "x"
	}
	must(t, "AddTags", s.AddTags(ctx, acct, "v", start, limit))

	errs := Race(racers, func(i int) error {
		return s.AddTags(ctx, acct, "v", map[string]string{fmt.Sprintf("new-%d", i): "y"}, limit)
	})
	won := Winners(t, "AddTags", errs, glacier.KindLimitExceeded)
	if len(won) != 2 {
		t.Errorf("AddTags race: %d succeeded, want exactly 2", len(won))
	}
	tags, err := s.GetTags(ctx, acct, "v")
	must(t, "GetTags", err)
	if len(tags) != limit {
		t.Errorf("after the race the vault has %d tags, want %d", len(tags), limit)
	}
	for _, i := range won {
		if _, ok := tags[fmt.Sprintf("new-%d", i)]; !ok {
			t.Errorf("AddTags race: winner %d's tag is missing", i)
		}
	}
}
