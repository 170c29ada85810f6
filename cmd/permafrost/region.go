package main

import (
	"context"
	"fmt"

	"github.com/permafrost/permafrost/internal/glacier"
)

// regionSetting records the region an installation answers as. Vault ARNs
// carry the region, and lock and access policies name those ARNs: served
// under another region, a lock policy's Resource would match nothing and
// the lock would silently stop protecting anything. So the region is fixed
// when the installation first starts (an installation from before this
// setting adopts the region of its first start after the upgrade), migrate
// carries it, and a start with another --region is refused.
const regionSetting = "region"

// checkRegion records region in a store that has none yet, and refuses a
// region that differs from the recorded one.
func checkRegion(ctx context.Context, meta glacier.SettingStore, region string) error {
	cur, err := meta.GetSetting(ctx, regionSetting)
	if err != nil {
		return fmt.Errorf("reading the installation's region: %w", err)
	}
	if cur == "" {
		// Insert only if absent: of two nodes first starting on one
		// database with different regions, exactly one records its own and
		// the other sees it and refuses.
		creator, ok := meta.(interface {
			CreateSetting(ctx context.Context, key, value string) (string, error)
		})
		if !ok {
			return fmt.Errorf("recording the installation's region: the metadata store cannot insert a setting atomically")
		}
		if cur, err = creator.CreateSetting(ctx, regionSetting, region); err != nil {
			return fmt.Errorf("recording the installation's region: %w", err)
		}
		if cur == "" { // a row left empty counts as unset
			if err := meta.PutSetting(ctx, regionSetting, region); err != nil {
				return fmt.Errorf("recording the installation's region: %w", err)
			}
			cur = region
		}
	}
	if cur != region {
		return fmt.Errorf("this installation's region is %s (recorded when it was created) but --region is %s: refusing to start, since vault ARNs and the lock and access policies that name them would change; run with --region %s", cur, region, cur)
	}
	return nil
}
