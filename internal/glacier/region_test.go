package glacier_test

import (
	"context"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestFixRegion: the first start records its region; later starts get it
// back whatever they ask for, also through a wrapper of the store.
func TestFixRegion(t *testing.T) {
	ctx := context.Background()
	_, db := identityService(t)
	if r, err := glacier.InstallationRegion(ctx, db); err != nil || r != "" {
		t.Fatalf("InstallationRegion of a new store = %q, %v; want none", r, err)
	}
	if r, err := glacier.FixRegion(ctx, db, "eu-west-1"); err != nil || r != "eu-west-1" {
		t.Fatalf("FixRegion on a new store = %q, %v; want eu-west-1", r, err)
	}
	if r, err := glacier.FixRegion(ctx, db, "us-east-1"); err != nil || r != "eu-west-1" {
		t.Errorf("FixRegion with another region = %q, %v; want the recorded eu-west-1", r, err)
	}
	if r, err := glacier.InstallationRegion(ctx, db); err != nil || r != "eu-west-1" {
		t.Errorf("InstallationRegion = %q, %v; want eu-west-1", r, err)
	}

}

// TestRegionOr: the recorded region wins over the fallback; without one
// the fallback is used.
func TestRegionOr(t *testing.T) {
	ctx := context.Background()
	_, db := identityService(t)
	if r := glacier.RegionOr(ctx, db, glacier.DefaultRegion); r != "us-east-1" {
		t.Errorf("RegionOr of a new store = %q; want the fallback us-east-1", r)
	}
	if _, err := glacier.FixRegion(ctx, db, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	if r := glacier.RegionOr(ctx, db, "ap-south-1"); r != "eu-west-1" {
		t.Errorf("RegionOr = %q; want the recorded eu-west-1", r)
	}
}
