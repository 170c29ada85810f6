package glacier

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/treehash"
)

// A notification queued as a finished job gives back the same job at
// delivery, so the message rendered then is the one rendered at completion.
func TestJobEventRoundTrip(t *testing.T) {
	now := time.Now().UTC()
	h := treehash.Hash{1, 2, 3}
	jobs := []Job{
		{ID: "j1", AccountID: "123456789012", VaultName: "v", Action: ArchiveRetrieval, Description: "d\n\"q\"",
			SNSTopic: "arn:aws:sns:us-east-1:123456789012:t", Tier: TierBulk, CreatedAt: now.Add(-time.Hour), DueAt: now,
			CompletedAt: now, Status: JobSucceeded, StatusMessage: "Succeeded", ArchiveID: "a", ArchiveSize: 1 << 40,
			ArchiveTreeHash: h, ArchiveDescription: "ü", RangeStart: 0, RangeEnd: 1<<40 - 1, RangeTreeHash: &h,
			Segments: []Segment{{BlobKey: "blob"}}},
		{ID: "j2", Action: InventoryRetrieval, Format: "CSV", StartDate: now.Add(-48 * time.Hour), EndDate: now, Limit: 7,
			Marker: "m", NextMarker: "n", OutputKey: "k", OutputSize: 9, InventoryDate: now, CompletedAt: now, Status: JobFailed},
		{ID: "j3", Action: SelectJobAction, Select: &SelectJob{
			Parameters:     SelectParameters{ExpressionType: "SQL", Expression: "select * from archive"},
			OutputLocation: OutputLocation{S3: &S3Location{BucketName: "b", Prefix: "p", Tagging: map[string]string{"a": "b"}}}}},
	}
	for _, j := range jobs {
		n := Notification{ID: "n", Message: JobEventMessage(j)}
		got, ok, err := NotificationJob(n)
		if !ok || err != nil {
			t.Fatalf("%s: NotificationJob: %v %v", j.ID, ok, err)
		}
		want := j
		want.Segments = nil
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) || !got.CompletedAt.Equal(want.CompletedAt) {
			t.Errorf("%s: round trip\n got %s\nwant %s", j.ID, a, b)
		}
		got.CreatedAt, got.DueAt, got.CompletedAt, got.StartDate, got.EndDate, got.InventoryDate = want.CreatedAt, want.DueAt, want.CompletedAt, want.StartDate, want.EndDate, want.InventoryDate
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip differs: %+v", j.ID, got)
		}
	}
	// A message queued already rendered is sent as it is.
	if _, ok, err := NotificationJob(Notification{Message: `{"JobId":"x"}`}); ok || err != nil {
		t.Errorf("a rendered message read as a job event: %v %v", ok, err)
	}
	if _, ok, err := NotificationJob(Notification{Message: jobEventPrefix + "{"}); !ok || err == nil {
		t.Errorf("a damaged job event: %v %v", ok, err)
	}
}
