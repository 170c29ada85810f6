package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testARN = "arn:aws:glacier:us-east-1:012345678901:vaults/examplevault"

var testInventoryDate = time.Date(2011, 12, 12, 14, 19, 1, 0, time.UTC)

// jsonInventory is the §6.2 document as a client decodes it.
type jsonInventory struct {
	VaultARN      string
	InventoryDate string
	ArchiveList   []jsonArchive
}

type jsonArchive struct {
	ArchiveId          string
	ArchiveDescription string
	CreationDate       string
	Size               int64
	SHA256TreeHash     string
}

func wantJSONArchives(items []Item) []jsonArchive {
	list := []jsonArchive{}
	for _, it := range items {
		list = append(list, jsonArchive{
			ArchiveId:          it.ArchiveID,
			ArchiveDescription: string([]rune(it.Description)), // each invalid byte becomes U+FFFD
			CreationDate:       it.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
			Size:               it.Size,
			SHA256TreeHash:     it.TreeHash,
		})
	}
	return list
}

// generate runs Generate over a snapshot of items.
func generate(t *testing.T, items []Item, format Format, f Filter) (out string, written int64, next string) {
	t.Helper()
	var buf bytes.Buffer
	written, next, err := Generate(bytes.NewReader(mustSnapshot(t, items)), &buf, format, testARN, testInventoryDate, f)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return buf.String(), written, next
}

// decodeJSON parses JSON output strictly.
func decodeJSON(t *testing.T, out string) jsonInventory {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var inv jsonInventory
	if err := dec.Decode(&inv); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("data after the JSON document: %s", out)
	}
	return inv
}

// csvLine matches one CSV line as Generate writes it (§6.3). The quoted
// description ends where the line's last three fields begin: a description
// ending in a backslash is written `...\"`, indistinguishable from an
// escaped quote by itself, so the structure of the line decides.
var csvLine = regexp.MustCompile(`(?s)\A([^,"\n]*),"(.*?)",(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z),(\d+),([0-9a-f]{64})\n`)

// parseCSV reads CSV output back into items.
func parseCSV(t *testing.T, out string) []Item {
	t.Helper()
	rest, ok := strings.CutPrefix(out, csvHeader)
	if !ok {
		t.Fatalf("CSV output does not start with the header line: %q", out)
	}
	items := []Item{}
	for rest != "" {
		m := csvLine.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("unparsable CSV at %q", rest[:min(len(rest), 200)])
		}
		rest = rest[len(m[0]):]
		created, err := time.Parse("2006-01-02T15:04:05.000Z", m[3])
		if err != nil {
			t.Fatal(err)
		}
		size, err := strconv.ParseInt(m[4], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, Item{
			ArchiveID: m[1],
			// Only a written quote is preceded by an added backslash.
			Description: strings.ReplaceAll(m[2], `\"`, `"`),
			CreatedAt:   created,
			Size:        size,
			TreeHash:    m[5],
		})
	}
	return items
}

func TestGenerateJSONExactBytes(t *testing.T) {
	items := []Item{
		{ArchiveID: "NkbByEK9", Description: "my archive", CreatedAt: base, Size: 2140123, TreeHash: hashOf(0xabc)},
		{ArchiveID: "z_-9", Description: "say \"hi\" \\ <&>\n", CreatedAt: base.Add(1500 * time.Millisecond), Size: 0, TreeHash: hashOf(1)},
	}
	out, n, next := generate(t, items, JSON, Filter{})
	want := `{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/examplevault","InventoryDate":"2011-12-12T14:19:01Z","ArchiveList":[` +
		`{"ArchiveId":"NkbByEK9","ArchiveDescription":"my archive","CreationDate":"2012-03-20T17:03:43.221Z","Size":2140123,"SHA256TreeHash":"` + hashOf(0xabc) + `"},` +
		`{"ArchiveId":"z_-9","ArchiveDescription":"say \"hi\" \\ <&>\n","CreationDate":"2012-03-20T17:03:44.721Z","Size":0,"SHA256TreeHash":"` + hashOf(1) + `"}]}`
	if out != want || n != 2 || next != "" {
		t.Errorf("Generate = %d, %q,\n%s\nwant 2, \"\",\n%s", n, next, out, want)
	}
}

func TestGenerateJSONParses(t *testing.T) {
	items := append(nastyItems(), numbered(3000)[1000:]...) // several frames
	out, n, next := generate(t, items, JSON, Filter{})
	inv := decodeJSON(t, out)
	want := jsonInventory{VaultARN: testARN, InventoryDate: "2011-12-12T14:19:01Z", ArchiveList: wantJSONArchives(items)}
	if diff := cmp.Diff(want, inv); diff != "" {
		t.Errorf("decoded output differs (-want +got):\n%s", diff)
	}
	if n != int64(len(items)) || next != "" {
		t.Errorf("written, next = %d, %q; want %d, \"\"", n, next, len(items))
	}
}

func TestGenerateInventoryDate(t *testing.T) {
	var buf bytes.Buffer
	date := time.Date(2011, 12, 12, 15, 19, 1, 999e6, time.FixedZone("CET", 3600))
	if _, _, err := Generate(bytes.NewReader(mustSnapshot(t, nil)), &buf, JSON, testARN, date, Filter{}); err != nil {
		t.Fatal(err)
	}
	if got := decodeJSON(t, buf.String()).InventoryDate; got != "2011-12-12T14:19:01Z" {
		t.Errorf("InventoryDate = %q; want UTC to the second, 2011-12-12T14:19:01Z", got)
	}
}

func TestGenerateCSVExactBytes(t *testing.T) {
	items := []Item{
		{ArchiveID: "NkbByEK9", Description: "my archive", CreatedAt: base, Size: 2140123, TreeHash: hashOf(0xabc)},
		{ArchiveID: "id2", Description: `a\"b`, CreatedAt: base.Add(time.Millisecond), Size: 1, TreeHash: hashOf(1)},
		{ArchiveID: "id3", Description: `say "hi", then leave`, CreatedAt: base.Add(time.Hour), Size: 22, TreeHash: hashOf(2)},
		{ArchiveID: "id4", Description: "", CreatedAt: base.Add(time.Hour), Size: 333, TreeHash: hashOf(3)},
		{ArchiveID: "id5", Description: `ends in \`, CreatedAt: base.Add(time.Hour), Size: 4444, TreeHash: hashOf(4)},
		{ArchiveID: "odd,id", Description: "x", CreatedAt: base.Add(time.Hour), Size: 5, TreeHash: hashOf(5)},
	}
	out, n, next := generate(t, items, CSV, Filter{})
	want := "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n" +
		`NkbByEK9,"my archive",2012-03-20T17:03:43.221Z,2140123,` + hashOf(0xabc) + "\n" +
		`id2,"a\\"b",2012-03-20T17:03:43.222Z,1,` + hashOf(1) + "\n" +
		`id3,"say \"hi\", then leave",2012-03-20T18:03:43.221Z,22,` + hashOf(2) + "\n" +
		`id4,"",2012-03-20T18:03:43.221Z,333,` + hashOf(3) + "\n" +
		`id5,"ends in \",2012-03-20T18:03:43.221Z,4444,` + hashOf(4) + "\n" +
		`"odd,id","x",2012-03-20T18:03:43.221Z,5,` + hashOf(5) + "\n"
	if out != want || n != int64(len(items)) || next != "" {
		t.Errorf("Generate = %d, %q,\n%s\nwant %d, \"\",\n%s", n, next, out, len(items), want)
	}
}

func TestGenerateCSVParses(t *testing.T) {
	items := append(nastyItems(), numbered(3000)[1000:]...)
	out, n, _ := generate(t, items, CSV, Filter{})
	if diff := cmp.Diff(items, parseCSV(t, out)); diff != "" {
		t.Errorf("parsed CSV differs (-want +got):\n%s", diff)
	}
	if n != int64(len(items)) {
		t.Errorf("written = %d; want %d", n, len(items))
	}
}

func TestGenerateEmpty(t *testing.T) {
	for _, tc := range []struct {
		format Format
		want   string
	}{
		{JSON, `{"VaultARN":"` + testARN + `","InventoryDate":"2011-12-12T14:19:01Z","ArchiveList":[]}`},
		{"", `{"VaultARN":"` + testARN + `","InventoryDate":"2011-12-12T14:19:01Z","ArchiveList":[]}`},
		{CSV, "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"},
	} {
		out, n, next := generate(t, nil, tc.format, Filter{Limit: 5})
		if out != tc.want || n != 0 || next != "" {
			t.Errorf("%q: Generate = %d, %q, %q; want 0, \"\", %q", tc.format, n, next, out, tc.want)
		}
	}
}

// ids lists the archive ids of a JSON output.
func ids(t *testing.T, out string) []string {
	t.Helper()
	got := []string{}
	for _, a := range decodeJSON(t, out).ArchiveList {
		got = append(got, a.ArchiveId)
	}
	return got
}

func idRange(from, to int) []string {
	r := []string{}
	for i := from; i < to; i++ {
		r = append(r, "archive-"+strconv.Itoa(i))
	}
	return r
}

func TestGenerateDateFilters(t *testing.T) {
	at := func(sec int, d time.Duration) time.Time { return base.Add(time.Duration(sec)*time.Second + d) }
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"none", Filter{}, idRange(0, 10)},
		{"start inclusive", Filter{StartDate: at(3, 0)}, idRange(3, 10)},
		{"start just after an item", Filter{StartDate: at(3, time.Millisecond)}, idRange(4, 10)},
		{"start between milliseconds", Filter{StartDate: at(3, 500*time.Microsecond)}, idRange(4, 10)},
		{"start just before an item", Filter{StartDate: at(3, -time.Nanosecond)}, idRange(3, 10)},
		{"end exclusive", Filter{EndDate: at(5, 0)}, idRange(0, 5)},
		{"end just after an item", Filter{EndDate: at(5, time.Nanosecond)}, idRange(0, 6)},
		{"end between milliseconds", Filter{EndDate: at(5, 500*time.Microsecond)}, idRange(0, 6)},
		{"both", Filter{StartDate: at(3, 0), EndDate: at(5, 0)}, idRange(3, 5)},
		{"both, other zone", Filter{StartDate: at(3, 0).In(time.FixedZone("PST", -8*3600)), EndDate: at(5, 0).In(time.FixedZone("JST", 9*3600))}, idRange(3, 5)},
		{"equal dates", Filter{StartDate: at(3, 0), EndDate: at(3, 0)}, idRange(0, 0)},
		{"start after end", Filter{StartDate: at(6, 0), EndDate: at(3, 0)}, idRange(0, 0)},
		{"start after all", Filter{StartDate: at(10, 0)}, idRange(0, 0)},
		{"end before all", Filter{EndDate: at(0, 0)}, idRange(0, 0)},
		{"dates and limit", Filter{StartDate: at(2, 0), EndDate: at(8, 0), Limit: 4}, idRange(2, 6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n, _ := generate(t, numbered(10), JSON, tc.f)
			if diff := cmp.Diff(tc.want, ids(t, out)); diff != "" || n != int64(len(tc.want)) {
				t.Errorf("written %d; ids differ (-want +got):\n%s", n, diff)
			}
		})
	}
}

// page runs jobs with f's filters, following markers, until next is "",
// and returns the ids of each page.
func pages(t *testing.T, items []Item, f Filter) [][]string {
	t.Helper()
	var all [][]string
	for range len(items) + 2 {
		out, n, next := generate(t, items, JSON, f)
		got := ids(t, out)
		if n != int64(len(got)) {
			t.Fatalf("written = %d for %d items", n, len(got))
		}
		all = append(all, got)
		if next == "" {
			return all
		}
		if err := ParseMarker(next); err != nil {
			t.Fatalf("Generate returned a marker ParseMarker refuses: %v", err)
		}
		f.Marker = next
	}
	t.Fatalf("paging did not end: %v", all)
	return nil
}

func TestGeneratePaging(t *testing.T) {
	sameMs := make([]Item, 10)
	for i := range sameMs {
		sameMs[i] = Item{ArchiveID: string(rune('a' + i)), CreatedAt: base, TreeHash: hashOf(i)}
	}
	for _, tc := range []struct {
		name  string
		items []Item
		f     Filter
		want  [][]string
	}{
		{"limit 3 over 10", numbered(10), Filter{Limit: 3},
			[][]string{idRange(0, 3), idRange(3, 6), idRange(6, 9), idRange(9, 10)}},
		{"limit 5 over 10 ends exactly", numbered(10), Filter{Limit: 5},
			[][]string{idRange(0, 5), idRange(5, 10)}},
		{"limit 10 over 10", numbered(10), Filter{Limit: 10}, [][]string{idRange(0, 10)}},
		{"limit 1", numbered(3), Filter{Limit: 1},
			[][]string{idRange(0, 1), idRange(1, 2), idRange(2, 3)}},
		{"limit over a date window", numbered(10), Filter{Limit: 2, StartDate: base.Add(3 * time.Second), EndDate: base.Add(8 * time.Second)},
			[][]string{idRange(3, 5), idRange(5, 7), idRange(7, 8)}},
		{"window ends exactly at a page", numbered(10), Filter{Limit: 2, EndDate: base.Add(4 * time.Second)},
			[][]string{idRange(0, 2), idRange(2, 4)}},
		{"one millisecond, ordered by id", sameMs, Filter{Limit: 3},
			[][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g", "h", "i"}, {"j"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pages(t, tc.items, tc.f)); diff != "" {
				t.Errorf("pages differ (-want +got):\n%s", diff)
			}
		})
	}
}

// A marker is a position, so it still works on a newer snapshot in which
// the item it names was deleted and others were added.
func TestMarkerSurvivesANewSnapshot(t *testing.T) {
	old := numbered(10)
	_, _, next := generate(t, old, JSON, Filter{Limit: 3})
	newer := append([]Item{}, old[:3]...)
	newer = append(newer, Item{ArchiveID: "late-but-earlier", CreatedAt: base.Add(2500 * time.Millisecond), TreeHash: hashOf(99)})
	newer = append(newer, old[4:]...) // archive-3, named by the marker, is gone
	out, n, next2 := generate(t, newer, JSON, Filter{Limit: 3, Marker: next})
	if diff := cmp.Diff(idRange(4, 7), ids(t, out)); diff != "" || n != 3 || next2 == "" {
		t.Errorf("written %d, next %q; ids differ (-want +got):\n%s", n, next2, diff)
	}
}

func TestGenerateRejects(t *testing.T) {
	snap := mustSnapshot(t, numbered(3))
	for _, tc := range []struct {
		name   string
		format Format
		f      Filter
		is     error
	}{
		{"unknown format", "XML", Filter{}, nil},
		{"lowercase format", "json", Filter{}, nil},
		{"negative limit", JSON, Filter{Limit: -1}, nil},
		{"invalid marker", JSON, Filter{Marker: "garbage!"}, ErrInvalidMarker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, _, err := Generate(bytes.NewReader(snap), &buf, tc.format, testARN, testInventoryDate, tc.f)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("err = %v; want an error (%v)", err, tc.is)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q before refusing", buf.String())
			}
		})
	}
}

func TestGenerateCorruptSnapshot(t *testing.T) {
	snap := mustSnapshot(t, numbered(5000)) // several frames
	cut := snap[:len(snap)-100]             // the last frames are lost
	for _, format := range []Format{JSON, CSV} {
		var buf bytes.Buffer
		if _, _, err := Generate(bytes.NewReader(cut), &buf, format, testARN, testInventoryDate, Filter{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v; want ErrCorrupt", format, err)
		}
	}
	// Reading stops after the output's last item (and the one that proves
	// there are more), so damage beyond it goes unnoticed.
	for _, f := range []Filter{{EndDate: base.Add(10 * time.Second)}, {Limit: 10}} {
		var buf bytes.Buffer
		n, next, err := Generate(bytes.NewReader(cut), &buf, JSON, testARN, testInventoryDate, f)
		if err != nil || n != 10 || (f.Limit > 0) != (next != "") {
			t.Errorf("%+v: Generate = %d, %q, %v; want 10 items and no error", f, n, next, err)
		}
	}
}

func TestGenerateOutputError(t *testing.T) {
	snap := mustSnapshot(t, numbered(5000))
	_, _, err := Generate(bytes.NewReader(snap), &failWriter{after: 2}, CSV, testARN, testInventoryDate, Filter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v; want the write error", err)
	}
}

func TestFormatContentType(t *testing.T) {
	if JSON.ContentType() != "application/json" || CSV.ContentType() != "text/csv" {
		t.Errorf("content types %q, %q", JSON.ContentType(), CSV.ContentType())
	}
}
