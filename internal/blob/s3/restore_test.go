package s3_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
)

// TestS3Tier checks the tier mapping, DEEP_ARCHIVE's missing Expedited tier
// included: such jobs restore with Standard, the fastest it offers.
func TestS3Tier(t *testing.T) {
	for _, tc := range []struct {
		class, tier string
		want        types.Tier
	}{
		{"GLACIER", "Expedited", types.TierExpedited},
		{"GLACIER", "Standard", types.TierStandard},
		{"GLACIER", "Bulk", types.TierBulk},
		{"DEEP_ARCHIVE", "Expedited", types.TierStandard},
		{"DEEP_ARCHIVE", "Standard", types.TierStandard},
		{"DEEP_ARCHIVE", "Bulk", types.TierBulk},
		{"GLACIER", "", types.TierStandard},
	} {
		if got := s3.S3Tier(tc.class, tc.tier); got != tc.want {
			t.Errorf("S3Tier(%s, %s) = %s, want %s", tc.class, tc.tier, got, tc.want)
		}
	}
}

// TestRestoreDays: a restored copy outlives the job output's retention.
func TestRestoreDays(t *testing.T) {
	for ret, want := range map[int]int{24: 2, 25: 3, 1: 2, 48: 3} {
		if got := glacier.RestoreDays(time.Duration(ret) * time.Hour); got != want {
			t.Errorf("RestoreDays(%dh) = %d, want %d", ret, got, want)
		}
	}
}
