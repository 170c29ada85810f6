package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	pf "github.com/permafrost/permafrost/internal/glacier"
)

// The health output names at most damagedShown damaged archives: with
// more on record it gives the full count, says the list is cut and how to
// see every one, under the field names it always had.
func TestHealthDamagedArchivesIsCapped(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	const n = damagedShown + 3
	var recs []pf.DamageRecord
	for i := range n {
		out, err := c.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader([]byte(fmt.Sprint("archive ", i)))})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, pf.DamageRecord{ArchiveID: aws.ToString(out.ArchiveId), AccountID: ts.AccountID, VaultName: "v",
			Problem: fmt.Sprintf("MiB 0 does not match (%d)", i), FoundAt: time.Now().UTC(), FoundBy: "scrub"})
	}
	// The scrubber's record of damage, as it keeps it.
	b, _ := json.Marshal(recs)
	if err := ts.stores.meta.PutSetting(ctx, "integrity.damaged_archives", string(b)); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(ts.URL() + "/_permafrost/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var health struct {
		Info struct {
			Damaged map[string]json.RawMessage `json:"damaged_archives"`
		}
	}
	if err := json.Unmarshal(body, &health); err != nil {
		t.Fatalf("health body %s: %v", body, err)
	}
	d := health.Info.Damaged
	var count int
	var archives []map[string]any
	var truncated bool
	var note string
	for k, v := range map[string]any{"count": &count, "archives": &archives, "truncated": &truncated, "see_all": &note} {
		if err := json.Unmarshal(d[k], v); err != nil {
			t.Fatalf("damaged_archives.%s: %v (missing?)", k, err)
		}
	}
	if count != n || len(archives) != damagedShown || !truncated {
		t.Errorf("damaged_archives: count %d, %d archives named, truncated %v; want %d, %d, true", count, len(archives), truncated, n, damagedShown)
	}
	if !strings.Contains(note, "permafrost scrub") {
		t.Errorf("see_all %q does not name the command that lists every damaged archive", note)
	}
	for i, a := range archives {
		if a["archive_id"] != recs[i].ArchiveID || a["account_id"] != ts.AccountID || a["vault"] != "v" || a["problem"] != recs[i].Problem || a["found_at"] == nil {
			t.Errorf("archive %d named as %v, want the record's %+v (first ones first)", i, a, recs[i])
		}
	}
}

// With no more damaged archives than it names, the list is not marked cut.
func TestDamagedArchivesReportUncut(t *testing.T) {
	recs := []pf.DamageRecord{{ArchiveID: "a", AccountID: "111122223333", VaultName: "v", Problem: "missing", FoundAt: time.Now()}}
	b, err := json.Marshal(damagedArchivesReport(recs))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["count"] != 1.0 || len(m["archives"].([]any)) != 1 {
		t.Errorf("report %s: want count 1 and the archive", b)
	}
	if _, ok := m["truncated"]; ok {
		t.Errorf("report %s: marked truncated", b)
	}
	if _, ok := m["see_all"]; ok {
		t.Errorf("report %s: has see_all", b)
	}
}
