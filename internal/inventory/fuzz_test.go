package inventory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzReadSnapshot feeds arbitrary bytes to the reader (see checkSnapshot).
func FuzzReadSnapshot(f *testing.F) {
	small := nastyItems()
	small = append(small[:10], small[11:]...) // without the 70 KiB description
	for _, items := range [][]Item{nil, numbered(1), numbered(3), small} {
		snap := mustSnapshot(f, items)
		f.Add(snap)
		f.Add(snap[:len(snap)-3])
	}
	f.Add([]byte(magic))
	f.Add([]byte{})
	f.Fuzz(checkSnapshot)
}

// FuzzReadSnapshotFrames builds a snapshot with valid checksums around a
// fuzzed items payload and end frame, so that the fuzzer reaches the record
// decoder behind the CRC that stops FuzzReadSnapshot's mutations.
func FuzzReadSnapshotFrames(f *testing.F) {
	small := nastyItems()
	small = append(small[:10], small[11:]...)
	for _, items := range [][]Item{numbered(1), numbered(3), small} {
		snap := mustSnapshot(f, items)
		payload := snap[len(magic)+frameHeaderLen : len(snap)-2*frameCRCLen-frameHeaderLen-len(binary.AppendUvarint(binary.AppendUvarint(nil, uint64(len(items))), uint64(sizeOf(items))))]
		end := binary.AppendUvarint(binary.AppendUvarint([]byte{kindEnd}, uint64(len(items))), uint64(sizeOf(items)))
		if !bytes.Equal(rawSnapshot(append([]byte{kindItems}, payload...), end), snap) {
			f.Fatalf("seed for %d items does not rebuild its snapshot", len(items))
		}
		f.Add(payload, uint64(len(items)), uint64(sizeOf(items)))
	}
	f.Fuzz(func(t *testing.T, payload []byte, count, size uint64) {
		end := binary.AppendUvarint(binary.AppendUvarint([]byte{kindEnd}, count), size)
		checkSnapshot(t, rawSnapshot(append([]byte{kindItems}, payload...), end))
	})
}

func sizeOf(items []Item) (n int64) {
	for _, it := range items {
		n += it.Size
	}
	return n
}

// checkSnapshot reads data as a snapshot. It must not panic; whatever it
// accepts must be a valid item sequence, which a writer accepts again and
// which Generate turns into valid JSON.
func checkSnapshot(t *testing.T, data []byte) {
	var items []Item
	err := ReadSnapshot(bytes.NewReader(data), func(it Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		return
	}
	again := mustRead(t, mustSnapshot(t, items))
	if len(again) != len(items) {
		t.Fatalf("rewritten snapshot holds %d items; want %d", len(again), len(items))
	}
	for i := range items {
		if items[i] != again[i] {
			t.Fatalf("item %d: %+v after rewriting; want %+v", i, again[i], items[i])
		}
	}
	var out bytes.Buffer
	n, next, err := Generate(bytes.NewReader(data), &out, JSON, testARN, testInventoryDate, Filter{})
	if err != nil || n != int64(len(items)) || next != "" {
		t.Fatalf("Generate = %d, %q, %v; want %d items", n, next, err, len(items))
	}
	var doc jsonInventory
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.ArchiveList) != len(items) {
		t.Fatalf("JSON output: %v, %d items; want %d\n%s", err, len(doc.ArchiveList), len(items), out.Bytes())
	}
}

// FuzzGenerate runs a fuzzed filter over a fixed snapshot and checks the
// output against a plain model of §6.4 written with time.Time comparisons.
func FuzzGenerate(f *testing.F) {
	items := numbered(12)
	for i := 6; i < 12; i++ { // some share a millisecond, ordered by id
		items[i].CreatedAt = items[5].CreatedAt
		items[i].ArchiveID = "archive-5" + string(rune('a'+i))
	}
	snap := mustSnapshot(f, items)
	f.Add(int64(0), int64(0), 0, "", false)
	f.Add(int64(3000), int64(9000), 3, "", true)
	f.Add(int64(-1), int64(5000), 2, string(appendMarker(nil, base.UnixMilli()+5000, []byte("archive-5h"))), false)
	f.Fuzz(func(t *testing.T, startUs, endUs int64, limit int, marker string, csv bool) {
		// Offsets from base in microseconds, within ±12 s; 0 means none.
		var flt Filter
		if startUs != 0 {
			flt.StartDate = base.Add(time.Duration(startUs%12_000_000) * time.Microsecond)
		}
		if endUs != 0 {
			flt.EndDate = base.Add(time.Duration(endUs%12_000_000) * time.Microsecond)
		}
		flt.Limit, flt.Marker = limit%15, marker
		pos, merr := parseMarker(marker)
		format := JSON
		if csv {
			format = CSV
		}
		var out bytes.Buffer
		n, next, err := Generate(bytes.NewReader(snap), &out, format, testARN, testInventoryDate, flt)
		if flt.Limit < 0 || (marker != "" && merr != nil) {
			if err == nil {
				t.Fatalf("Generate(%+v) accepted an invalid filter", flt)
			}
			return
		}
		if err != nil {
			t.Fatalf("Generate(%+v): %v", flt, err)
		}
		var pass []Item
		for _, it := range items {
			if (!flt.StartDate.IsZero() && it.CreatedAt.Before(flt.StartDate)) ||
				(!flt.EndDate.IsZero() && !it.CreatedAt.Before(flt.EndDate)) ||
				(marker != "" && comparePos(it.CreatedAt.UnixMilli(), it.ArchiveID, pos.ms, pos.id) < 0) {
				continue
			}
			pass = append(pass, it)
		}
		want, wantNext := pass, ""
		if flt.Limit > 0 && len(pass) > flt.Limit {
			want = pass[:flt.Limit]
			wantNext = string(appendMarker(nil, pass[flt.Limit].CreatedAt.UnixMilli(), []byte(pass[flt.Limit].ArchiveID)))
		}
		var got []Item
		if csv {
			got = parseCSV(t, out.String())
		} else {
			for _, a := range decodeJSON(t, out.String()).ArchiveList {
				got = append(got, Item{ArchiveID: a.ArchiveId})
			}
		}
		if n != int64(len(want)) || len(got) != len(want) || next != wantNext {
			t.Fatalf("Generate(%+v) = %d items, next %q; want %d, %q", flt, n, next, len(want), wantNext)
		}
		for i := range want {
			if got[i].ArchiveID != want[i].ArchiveID {
				t.Fatalf("Generate(%+v): item %d is %q; want %q", flt, i, got[i].ArchiveID, want[i].ArchiveID)
			}
		}
	})
}

func FuzzParseMarker(f *testing.F) {
	f.Add(string(appendMarker(nil, base.UnixMilli(), []byte("archive-1"))))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := parseMarker(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidMarker) {
				t.Fatalf("error %v does not wrap ErrInvalidMarker", err)
			}
			return
		}
		if again := string(appendMarker(nil, pos.ms, pos.id)); again != s {
			t.Fatalf("marker %q re-encodes as %q", s, again)
		}
	})
}
