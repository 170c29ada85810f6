package metatest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

func testSettings(t *testing.T, s Store) {
	ctx := t.Context()
	v, err := s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "" {
		t.Errorf(`GetSetting of an unset key = %q, %v; want "", nil`, v, err)
	}
	must(t, "PutSetting", s.PutSetting(ctx, "clock.offset", "3600000"))
	must(t, "PutSetting", s.PutSetting(ctx, "other", "x"))
	v, err = s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "3600000" {
		t.Errorf(`GetSetting = %q, %v; want "3600000", nil`, v, err)
	}
	must(t, "PutSetting", s.PutSetting(ctx, "clock.offset", "-5"))
	v, err = s.GetSetting(ctx, "clock.offset")
	if err != nil || v != "-5" {
		t.Errorf(`GetSetting after overwrite = %q, %v; want "-5", nil`, v, err)
	}
	v, err = s.GetSetting(ctx, "other")
	if err != nil || v != "x" {
		t.Errorf(`GetSetting of another key = %q, %v; want "x", nil`, v, err)
	}
}

// testTimeRoundTrip checks that times come back in UTC at millisecond
// precision (truncated), and the zero time as the zero time.
func testTimeRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.FixedZone("UTC+5", 5*3600))
	want := time.Date(2024, 2, 29, 18, 59, 59, 999_000_000, time.UTC)

	must(t, "CreateAccount", s.CreateAccount(ctx, glacier.Account{ID: acct}))
	a, err := s.GetAccount(ctx, acct)
	must(t, "GetAccount", err)
	if !a.CreatedAt.IsZero() {
		t.Errorf("zero CreatedAt came back as %v", a.CreatedAt)
	}

	v, _, err := s.CreateVault(ctx, glacier.Vault{AccountID: acct, Name: "v", CreatedAt: in}, 10)
	must(t, "CreateVault", err)
	got, err := s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	for _, g := range []glacier.Vault{v, got} {
		same(t, "CreatedAt", g.CreatedAt, want)
		same(t, "LastWriteAt", g.LastWriteAt, time.Time{})
		same(t, "LastInventoryAt", g.LastInventoryAt, time.Time{})
		if g.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", g.CreatedAt.Location())
		}
	}

	must(t, "CreateArchive", s.CreateArchive(ctx, glacier.Archive{
		ID: "arch", AccountID: acct, VaultName: "v", CreatedAt: in, Size: 1, TreeHash: hashOf("arch"),
		Segments: []glacier.Segment{{BlobKey: "b", Size: 1, TreeHash: hashOf("arch")}},
	}))
	ar, err := s.GetArchive(ctx, "arch")
	must(t, "GetArchive", err)
	same(t, "archive CreatedAt", ar.CreatedAt, want)
	got, err = s.GetVault(ctx, acct, "v")
	must(t, "GetVault", err)
	same(t, "LastWriteAt", got.LastWriteAt, want)
}

// settingCreator is what internal/notify needs to make the installation's
// notification signing key exactly once, also across nodes.
type settingCreator interface {
	CreateSetting(ctx context.Context, key, value string) (string, error)
}

// testCreateSetting: CreateSetting stores a value only when the key is
// unset and returns what is stored; racing creators all get one winner's
// value.
func testCreateSetting(t *testing.T, s Store) {
	c, ok := s.(settingCreator)
	if !ok {
		t.Fatalf("%T has no CreateSetting(ctx, key, value) (string, error)", s)
	}
	ctx := context.Background()
	got, err := c.CreateSetting(ctx, "once", "first")
	if err != nil || got != "first" {
		t.Fatalf(`CreateSetting of an unset key = %q, %v; want "first", nil`, got, err)
	}
	got, err = c.CreateSetting(ctx, "once", "second")
	if err != nil || got != "first" {
		t.Errorf(`CreateSetting of a set key = %q, %v; want the stored "first"`, got, err)
	}
	if v, err := s.GetSetting(ctx, "once"); err != nil || v != "first" {
		t.Errorf(`GetSetting after CreateSetting = %q, %v; want "first"`, v, err)
	}

	const n = 8
	values := make([]string, n)
	errs := Race(n, func(i int) error {
		v, err := c.CreateSetting(ctx, "raced", fmt.Sprintf("value-%d", i))
		values[i] = v
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if !slices.Contains([]string{"value-0", "value-1", "value-2", "value-3", "value-4", "value-5", "value-6", "value-7"}, values[0]) {
		t.Fatalf("stored value %q is none of the racers'", values[0])
	}
	for i, v := range values {
		if v != values[0] {
			t.Errorf("racer %d got %q, racer 0 %q: two values were stored", i, v, values[0])
		}
	}
}
