package main

import (
	"context"
	"fmt"

	"github.com/permafrost/permafrost/internal/glacier"
)

// regionSetting is the setting holding the installation's region.
const regionSetting = glacier.RegionSetting

// checkRegion fixes the installation's region at its first start and
// refuses a --region that differs from the recorded one (the rule:
// glacier.RegionSetting).
func checkRegion(ctx context.Context, meta glacier.SettingStore, region string) error {
	cur, err := glacier.FixRegion(ctx, meta, region)
	if err != nil {
		return err
	}
	if cur != region {
		return fmt.Errorf("this installation's region is %s (recorded when it was created) but --region is %s: refusing to start, since vault ARNs and the lock and access policies that name them would change; run with --region %s", cur, region, cur)
	}
	return nil
}
