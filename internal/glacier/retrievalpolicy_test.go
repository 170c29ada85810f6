package glacier_test

import (
	"path/filepath"
	"testing"

	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// TestRetrievalPolicyStored: the policy is stored as JSON, and a policy an
// earlier version stored as "Strategy:bytes" still reads as what it named.
func TestRetrievalPolicyStored(t *testing.T) {
	ctx := t.Context()
	meta, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	svc := &glacier.Service{Stores: meta.Roles(), Clock: clock.Real{}, Region: "us-east-1"}
	const acct = "111122223333"
	root := &glacier.Caller{Principal: glacier.RootPrincipal(acct, "AKIDEXAMPLE")}
	key := "retrieval-policy/" + acct

	get := func(what string, want glacier.RetrievalPolicy) {
		t.Helper()
		got, err := svc.GetDataRetrievalPolicy(ctx, root, acct)
		if err != nil || got != want {
			t.Errorf("%s: GetDataRetrievalPolicy = %+v, %v; want %+v", what, got, err, want)
		}
	}
	get("never set", glacier.RetrievalPolicy{Strategy: "None"})

	for _, c := range []struct {
		old  string
		want glacier.RetrievalPolicy
	}{
		{"BytesPerHour:1048576", glacier.RetrievalPolicy{Strategy: "BytesPerHour", BytesPerHour: 1048576}},
		{"FreeTier:0", glacier.RetrievalPolicy{Strategy: "FreeTier"}},
		{"None:0", glacier.RetrievalPolicy{Strategy: "None"}},
	} {
		if err := meta.PutSetting(ctx, key, c.old); err != nil {
			t.Fatal(err)
		}
		get("stored as "+c.old, c.want)
	}

	for _, c := range []struct {
		p      glacier.RetrievalPolicy
		stored string
	}{
		{glacier.RetrievalPolicy{Strategy: "BytesPerHour", BytesPerHour: 5 << 20}, `{"Strategy":"BytesPerHour","BytesPerHour":5242880}`},
		{glacier.RetrievalPolicy{Strategy: "FreeTier"}, `{"Strategy":"FreeTier"}`},
		{glacier.RetrievalPolicy{Strategy: "None"}, `{"Strategy":"None"}`},
	} {
		if err := svc.SetDataRetrievalPolicy(ctx, root, acct, []glacier.RetrievalPolicy{c.p}); err != nil {
			t.Fatalf("SetDataRetrievalPolicy %+v: %v", c.p, err)
		}
		if v, err := meta.GetSetting(ctx, key); err != nil || v != c.stored {
			t.Errorf("stored %q, %v; want %q", v, err, c.stored)
		}
		get("set "+c.p.Strategy, c.p)
	}

	if err := meta.PutSetting(ctx, key, `{"Strategy":`); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GetDataRetrievalPolicy(ctx, root, acct); glacier.KindOf(err) != glacier.KindInternal {
		t.Errorf("GetDataRetrievalPolicy of a damaged setting: %v, want an internal error", err)
	}
}
