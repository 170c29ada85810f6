package api

import (
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestRetrievalRangeSyntax: RetrievalByteRange is "start-end" with
// 0 <= start <= end; the service checks it against the archive.
func TestRetrievalRangeSyntax(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-1048575", 0, mib - 1, true},
		{"1048576-5242979", mib, 5*mib + 99, true},
		{"1-1048575", 1, mib - 1, true},    // alignment is the service's check
		{"2097152-1048575", 0, 0, false},   // end before start
		{"abc", 0, 0, false},               // not a range
		{"-1-1048575", 0, 0, false},        // negative
		{"1048576-1048575", 0, 0, false},   // empty
		{" 0-1048575", 0, 0, false},        // spaces
		{"0-1048575-2097151", 0, 0, false}, // three numbers
	} {
		r, err := retrievalRange(c.in)
		if c.ok != (err == nil) || c.ok && (r.Start != c.start || r.End != c.end) {
			t.Errorf("retrievalRange(%q) = %v, %v; want %d-%d, ok=%v", c.in, r, err, c.start, c.end, c.ok)
		}
		if err != nil && glacier.KindOf(err) != glacier.KindInvalidParameter {
			t.Errorf("retrievalRange(%q): error kind %v, want invalid parameter", c.in, glacier.KindOf(err))
		}
	}
}

// TestJobRequest: InitiateJob's members become the domain's typed request,
// and each wire mistake its error, before the service is called.
func TestJobRequest(t *testing.T) {
	str := func(s string) *string { return &s }
	got, err := jobRequest(JobParameters{Type: "archive-retrieval", ArchiveId: str("A"), RetrievalByteRange: str("0-1048575"), Description: "d", SNSTopic: "arn:aws:sns:us-east-1:111122223333:t"})
	if err != nil || got.Type != glacier.ArchiveRetrieval || got.ArchiveID != "A" || got.Tier != glacier.TierStandard ||
		got.Range == nil || *got.Range != (glacier.RetrievalRange{Start: 0, End: 1<<20 - 1}) || got.Description != "d" || got.SNSTopic == "" {
		t.Errorf("archive-retrieval = %+v, %v", got, err)
	}
	got, err = jobRequest(JobParameters{Type: "inventory-retrieval", Format: "CSV", InventoryRetrievalParameters: &InventoryRetrievalJobInput{
		StartDate: "2013-03-20T17:03:43Z", EndDate: "2013-03-21T00:00:00.5+01:00", Limit: "7"}})
	want := glacier.InventoryRequest{Format: "CSV", StartDate: time.Date(2013, 3, 20, 17, 3, 43, 0, time.UTC),
		EndDate: time.Date(2013, 3, 20, 23, 0, 0, 500_000_000, time.UTC), Limit: 7}
	if err != nil || got.Type != glacier.InventoryRetrieval || got.Inventory != want {
		t.Errorf("inventory-retrieval = %+v, %v; want inventory %+v", got, err, want)
	}
	if got, err := jobRequest(JobParameters{Type: "inventory-retrieval"}); err != nil || got.Inventory.Format != "JSON" {
		t.Errorf("inventory-retrieval without Format = %+v, %v; want JSON", got, err)
	}
	if got, err := jobRequest(JobParameters{Type: "select", ArchiveId: str("A"), Tier: "Bulk"}); err != nil || got.Type != glacier.SelectJobAction || got.Tier != glacier.TierBulk {
		t.Errorf("select = %+v, %v", got, err)
	}

	for _, c := range []struct {
		in   JobParameters
		kind glacier.Kind
		msg  string
	}{
		{JobParameters{}, glacier.KindMissingParameter, "Required parameter missing: Type"},
		{JobParameters{Type: "restore"}, glacier.KindInvalidParameter, `Invalid job type: "restore". It must be archive-retrieval, inventory-retrieval or select`},
		{JobParameters{Type: "archive-retrieval"}, glacier.KindMissingParameter, "Required parameter missing: ArchiveId"},
		{JobParameters{Type: "archive-retrieval", ArchiveId: str("A"), Format: "CSV"}, glacier.KindInvalidParameter, "Invalid parameter: Format and InventoryRetrievalParameters are not allowed for archive-retrieval jobs"},
		{JobParameters{Type: "archive-retrieval", ArchiveId: str("A"), Tier: "Fast"}, glacier.KindInvalidParameter, `Invalid tier: "Fast". It must be Expedited, Standard or Bulk`},
		{JobParameters{Type: "archive-retrieval", ArchiveId: str("A"), RetrievalByteRange: str("bytes=0-1")}, glacier.KindInvalidParameter, `Invalid RetrievalByteRange: "bytes=0-1". It must be <start>-<end> with start <= end`},
		{JobParameters{Type: "inventory-retrieval", ArchiveId: str("A")}, glacier.KindInvalidParameter, "Invalid parameter: ArchiveId is not allowed for inventory-retrieval jobs"},
		{JobParameters{Type: "inventory-retrieval", Format: "XML"}, glacier.KindInvalidParameter, `Invalid format: "XML". It must be JSON or CSV`},
		{JobParameters{Type: "inventory-retrieval", InventoryRetrievalParameters: &InventoryRetrievalJobInput{StartDate: "yesterday"}}, glacier.KindInvalidParameter, `Invalid StartDate: "yesterday" is not an ISO 8601 date-time such as 2013-03-20T17:03:43Z`},
		{JobParameters{Type: "inventory-retrieval", InventoryRetrievalParameters: &InventoryRetrievalJobInput{StartDate: "2013-03-21T00:00:00Z", EndDate: "2013-03-20T00:00:00Z"}}, glacier.KindInvalidParameter, "Invalid inventory retrieval parameters: StartDate 2013-03-21T00:00:00Z must be before EndDate 2013-03-20T00:00:00Z"},
		{JobParameters{Type: "inventory-retrieval", InventoryRetrievalParameters: &InventoryRetrievalJobInput{Limit: "0"}}, glacier.KindInvalidParameter, `Invalid limit: "0". It must be an integer of at least 1`},
		{JobParameters{Type: "inventory-retrieval", InventoryRetrievalParameters: &InventoryRetrievalJobInput{Marker: "not a marker"}}, glacier.KindInvalidParameter, `Invalid marker: "not a marker"`},
		{JobParameters{Type: "select", ArchiveId: str("A"), RetrievalByteRange: str("0-1")}, glacier.KindInvalidParameter, "Invalid parameter: RetrievalByteRange is only allowed for archive-retrieval jobs"},
	} {
		_, err := jobRequest(c.in)
		if glacier.KindOf(err) != c.kind || glacier.MessageOf(err) != c.msg {
			t.Errorf("%+v: %v (%v); want %v %q", c.in, err, glacier.KindOf(err), c.kind, c.msg)
		}
	}
}
