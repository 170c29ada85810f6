package metatest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// settingCreator is what internal/notify needs to make the installation's
// notification signing key exactly once, also across nodes.
type settingCreator interface {
	CreateSetting(ctx context.Context, key, value string) (string, error)
}

// testCreateSetting: CreateSetting stores a value only when the key is
// unset and returns what is stored; racing creators all get one winner's
// value.
func testCreateSetting(t *testing.T, s glacier.MetaStore) {
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
