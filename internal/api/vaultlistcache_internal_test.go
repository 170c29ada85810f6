package api

import (
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestRenderedListMatchesOnlyItsSlice: a kept answer is found for the very
// slice it was rendered from (same first element, length and next vault),
// and for nothing else: not an equal copy (a new read after a change is a
// new slice), not a shorter or longer view of the same memory, not another
// next vault, not an empty page, not another key.
func TestRenderedListMatchesOnlyItsSlice(t *testing.T) {
	var c renderedLists
	vs := []glacier.Vault{{AccountID: "1", Name: "a"}, {AccountID: "1", Name: "b"}, {AccountID: "1", Name: "c"}}
	k := renderedListKey{"1", "", 2}
	e := &renderedList{src: vs[:2:2], next: "c", body: []byte("x")}
	c.put(k, e)
	page := func(s []glacier.Vault, next string) *glacier.VaultPage {
		return &glacier.VaultPage{Stored: s, Next: next}
	}
	if got := c.get(k, page(vs[:2:2], "c")); got != e {
		t.Errorf("the same slice: %v, want the kept answer", got)
	}
	for name, p := range map[string]*glacier.VaultPage{
		"an equal copy":  page(append([]glacier.Vault(nil), vs[:2]...), "c"),
		"a shorter view": page(vs[:1], "c"),
		"a longer view":  page(vs[:3], "c"),
		"another next":   page(vs[:2], "d"),
		"no next":        page(vs[:2], ""),
		"an empty page":  page(vs[:0], "c"),
		"no page":        page(nil, ""),
	} {
		if got := c.get(k, p); got != nil {
			t.Errorf("%s: got the kept answer", name)
		}
	}
	if got := c.get(renderedListKey{"2", "", 2}, page(vs[:2:2], "c")); got != nil {
		t.Error("another account's key: got the kept answer")
	}
	if got := c.get(renderedListKey{"1", "", 3}, page(vs[:2:2], "c")); got != nil {
		t.Error("another limit: got the kept answer")
	}
}
