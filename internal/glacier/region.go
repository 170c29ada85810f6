package glacier

import (
	"context"
	"fmt"
)

// RegionSetting is the setting that records the region an installation
// answers as. Vault ARNs carry the region, and lock and access policies
// name those ARNs: served under another region, a lock policy's Resource
// would match nothing and the lock would silently stop protecting
// anything. So the region is fixed when the installation first starts (an
// installation from before this setting adopts the region of its first
// start after an upgrade), a migration carries it, and a server started
// with another region must refuse to serve.
const RegionSetting = "region"

// SettingCreator is the store ability of inserting a setting only when it
// is unset, atomically also across processes and nodes sharing the store.
type SettingCreator interface {
	// CreateSetting stores value under key unless the key holds a value
	// already, and returns the value the key holds afterwards (value, or
	// the one that was there). A key stored as "" counts as holding "".
	CreateSetting(ctx context.Context, key, value string) (string, error)
}

// DefaultRegion is the region a new installation answers as unless
// told otherwise (serve --region).
const DefaultRegion = "us-east-1"

// RegionOr returns the region recorded for the installation, or fallback
// when none is recorded yet (or it cannot be read): the recorded region
// always wins, since the stored ARNs and policies name it. Operator
// commands pass the region they were given, or DefaultRegion.
func RegionOr(ctx context.Context, meta SettingStore, fallback string) string {
	if r, err := InstallationRegion(ctx, meta); err == nil && r != "" {
		return r
	}
	return fallback
}

// InstallationRegion returns the region recorded for the installation, ""
// when none is recorded yet.
func InstallationRegion(ctx context.Context, meta SettingStore) (string, error) {
	return meta.GetSetting(ctx, RegionSetting)
}

// FixRegion records region as the installation's region unless one is
// recorded, and returns the installation's region: the one recorded
// before, or region. Of several first starts racing on one shared store
// exactly one records its region and the others get it back. A caller
// given a region other than the one returned must not serve.
func FixRegion(ctx context.Context, meta SettingStore, region string) (string, error) {
	cur, err := meta.GetSetting(ctx, RegionSetting)
	if err != nil {
		return "", fmt.Errorf("reading the installation's region: %w", err)
	}
	if cur != "" {
		return cur, nil
	}
	if cur, err = meta.CreateSetting(ctx, RegionSetting, region); err != nil {
		return "", fmt.Errorf("recording the installation's region: %w", err)
	}
	if cur == "" { // a row left empty counts as unset
		if err := meta.PutSetting(ctx, RegionSetting, region); err != nil {
			return "", fmt.Errorf("recording the installation's region: %w", err)
		}
		cur = region
	}
	return cur, nil
}
