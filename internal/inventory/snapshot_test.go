package inventory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nastyDescriptions are descriptions whose bytes the snapshot must carry
// unchanged.
var nastyDescriptions = []string{
	"",
	`say "hi"`,
	`a\"b`,
	`back\slash\`,
	"a,b,,c",
	"line\nbreak\r\nand\ttab",
	"\x00\x01\x1f\x7f",
	"héllo wörld ✓ 日本語 🧊",
	"\u2028\u2029",
	"bad utf-8: \xff\xfe\xc3",
	strings.Repeat("x", 70<<10), // a record larger than a frame's target
	`"`,
	`\`,
}

func nastyItems() []Item {
	items := make([]Item, len(nastyDescriptions))
	for i, d := range nastyDescriptions {
		items[i] = Item{
			ArchiveID:   "id-" + string(rune('a'+i)),
			Description: d,
			CreatedAt:   base.Add(time.Duration(i) * time.Millisecond),
			Size:        int64(i) << 40,
			TreeHash:    hashOf(i),
		}
	}
	return items
}

func TestSnapshotRoundTrip(t *testing.T) {
	sameMs := []Item{ // one millisecond, ordered by id bytewise
		{ArchiveID: "A", CreatedAt: base, TreeHash: hashOf(1)},
		{ArchiveID: "B", CreatedAt: base, TreeHash: hashOf(2)},
		{ArchiveID: "a", CreatedAt: base, TreeHash: hashOf(3)},
		{ArchiveID: "ab", CreatedAt: base, TreeHash: hashOf(4)},
	}
	old := []Item{ // before 1970, and the format's extremes
		{ArchiveID: "x", CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), TreeHash: hashOf(1)},
		{ArchiveID: "x", CreatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC), TreeHash: hashOf(2)},
		{ArchiveID: "x", CreatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), Size: 1<<63 - 1, TreeHash: hashOf(3)},
	}
	for _, tc := range []struct {
		name  string
		items []Item
	}{
		{"empty", nil},
		{"one", numbered(1)},
		{"nasty descriptions", nastyItems()},
		{"many frames", numbered(5000)},
		{"same millisecond", sameMs},
		{"extreme dates and size", old},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewSnapshotWriter(&buf)
			var size int64
			for _, it := range tc.items {
				if err := w.Add(it); err != nil {
					t.Fatalf("Add(%q): %v", it.ArchiveID, err)
				}
				size += it.Size
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Count() != int64(len(tc.items)) || w.Size() != size {
				t.Errorf("Count, Size = %d, %d; want %d, %d", w.Count(), w.Size(), len(tc.items), size)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(magic)) {
				t.Errorf("snapshot starts %q; want the header line", buf.Bytes()[:min(40, buf.Len())])
			}
			got := mustRead(t, buf.Bytes())
			if diff := cmp.Diff(tc.items, got); diff != "" {
				t.Errorf("items differ (-want +got):\n%s", diff)
			}
			for _, it := range got {
				if it.CreatedAt.Location() != time.UTC {
					t.Fatalf("CreatedAt %v not in UTC", it.CreatedAt)
				}
			}
		})
	}
}

func TestSnapshotUsesFrames(t *testing.T) {
	snap := mustSnapshot(t, numbered(5000))
	frames := 0
	for p := snap[len(magic):]; len(p) > 0; frames++ {
		n := int(p[1]) | int(p[2])<<8 | int(p[3])<<16 | int(p[4])<<24
		if n > maxPayload {
			t.Fatalf("frame %d of %d bytes", frames, n)
		}
		p = p[frameHeaderLen+n+frameCRCLen:]
	}
	// 5000 records of about 60 bytes: five items frames and the end frame.
	if frames < 3 {
		t.Errorf("%d frames for %d bytes; want several", frames, len(snap))
	}
}

func TestSnapshotTruncatesToMillisecond(t *testing.T) {
	it := Item{ArchiveID: "a", CreatedAt: base.Add(999999 * time.Nanosecond).In(time.FixedZone("X", 3600)), TreeHash: hashOf(0)}
	got := mustRead(t, mustSnapshot(t, []Item{it}))
	if !got[0].CreatedAt.Equal(base) {
		t.Errorf("CreatedAt = %v; want %v", got[0].CreatedAt, base)
	}
}

func TestAddRejects(t *testing.T) {
	prev := Item{ArchiveID: "m", CreatedAt: base, TreeHash: hashOf(0)}
	ok := Item{ArchiveID: "n", CreatedAt: base, TreeHash: hashOf(1)}
	for _, tc := range []struct {
		name string
		edit func(*Item)
	}{
		{"same position", func(it *Item) { it.ArchiveID = "m" }},
		{"lower id, same millisecond", func(it *Item) { it.ArchiveID = "l" }},
		{"earlier", func(it *Item) { it.CreatedAt = base.Add(-time.Millisecond); it.ArchiveID = "z" }},
		{"earlier by sub-millisecond truncation", func(it *Item) { it.CreatedAt = base.Add(500 * time.Microsecond); it.ArchiveID = "a" }},
		{"empty id", func(it *Item) { it.ArchiveID = ""; it.CreatedAt = base.Add(time.Second) }},
		{"long id", func(it *Item) { it.ArchiveID = strings.Repeat("z", maxIDLen+1) }},
		{"long description", func(it *Item) { it.Description = strings.Repeat("d", maxDescriptionLen+1) }},
		{"negative size", func(it *Item) { it.Size = -1 }},
		{"year 10000", func(it *Item) { it.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"short hash", func(it *Item) { it.TreeHash = it.TreeHash[1:] }},
		{"uppercase hash", func(it *Item) { it.TreeHash = strings.ToUpper(hashOf(0xabc)) }},
		{"non-hex hash", func(it *Item) { it.TreeHash = strings.Repeat("g", 64) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewSnapshotWriter(&buf)
			if err := w.Add(prev); err != nil {
				t.Fatal(err)
			}
			bad := ok
			tc.edit(&bad)
			if err := w.Add(bad); !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("Add = %v; want ErrInvalidItem", err)
			}
			// The writer stays usable and the refused item left no trace.
			if err := w.Add(ok); err != nil {
				t.Fatalf("Add after a refusal: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Item{prev, ok}, mustRead(t, buf.Bytes())); diff != "" {
				t.Errorf("items differ (-want +got):\n%s", diff)
			}
		})
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrorsAreSticky(t *testing.T) {
	w := NewSnapshotWriter(&failWriter{after: 1}) // the header only
	var err error
	for i, it := range numbered(5000) {
		if err = w.Add(it); err != nil {
			if i < 100 {
				t.Fatalf("Add %d failed before a frame was full: %v", i, err)
			}
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Add = %v; want the write error", err)
	}
	if err2 := w.Add(numbered(5001)[5000]); err2 != err {
		t.Errorf("next Add = %v; want the same error", err2)
	}
	if err2 := w.Close(); err2 != err {
		t.Errorf("Close = %v; want the same error", err2)
	}
}

func TestCloseTwiceAndAddAfterClose(t *testing.T) {
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	if err := w.Close(); err != nil || buf.Len() != n {
		t.Errorf("second Close = %v and wrote %d bytes; want nil and none", err, buf.Len()-n)
	}
	if err := w.Add(numbered(1)[0]); err == nil {
		t.Error("Add after Close succeeded")
	}
	if got := mustRead(t, buf.Bytes()); len(got) != 0 {
		t.Errorf("empty snapshot read %d items", len(got))
	}
}

func TestReadSnapshotDetectsTruncation(t *testing.T) {
	snap := mustSnapshot(t, nastyItems()[:6])
	for n := range len(snap) {
		err := ReadSnapshot(bytes.NewReader(snap[:n]), func(Item) error { return nil })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("snapshot cut to %d of %d bytes: err = %v; want ErrCorrupt", n, len(snap), err)
		}
	}
}

func TestReadSnapshotDetectsDamage(t *testing.T) {
	snap := mustSnapshot(t, nastyItems()[:6])
	// One items frame, then the end frame.
	endFrame := len(magic) + frameHeaderLen + int(binary.LittleEndian.Uint32(snap[len(magic)+1:])) + frameCRCLen
	if snap[endFrame] != kindEnd {
		t.Fatalf("byte %d is %q; want the end frame", endFrame, snap[endFrame])
	}
	for i := range snap {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(snap)
			bad[i] ^= flip
			n := 0
			err := ReadSnapshot(bytes.NewReader(bad), func(Item) error { n++; return nil })
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: err = %v; want ErrCorrupt", i, flip, err)
			}
			if i < endFrame && n != 0 {
				t.Fatalf("byte %d ^ %#x: %d items delivered from a damaged frame", i, flip, n)
			}
		}
	}
}

func TestReadSnapshotRejects(t *testing.T) {
	good := mustSnapshot(t, numbered(3))
	for _, tc := range []struct {
		name, snap, want string
	}{
		{"empty input", "", "truncated header"},
		{"foreign data", `{"VaultARN":"arn"}`, "not an inventory snapshot"},
		{"future version", "permafrost-inventory-snapshot 2\n", `unsupported snapshot version "2\n"`},
		{"header only", magic, "truncated"},
		{"trailing data", string(good) + "x", "data after the end frame"},
		{"two snapshots", string(good) + string(good), "data after the end frame"},
		{"unknown frame kind", magic + "Z\x00\x00\x00\x00", "unknown frame kind"},
		{"huge frame", magic + "I\xff\xff\xff\x7f", "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadSnapshot(strings.NewReader(tc.snap), func(Item) error { return nil })
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want ErrCorrupt saying %q", err, tc.want)
			}
		})
	}
}

// rawSnapshot assembles a snapshot from frames (kind byte, then payload)
// that the test writes itself, with valid checksums, to reach the checks
// behind the CRC.
func rawSnapshot(frames ...[]byte) []byte {
	out := []byte(magic)
	for _, f := range frames {
		frame := binary.LittleEndian.AppendUint32([]byte{f[0]}, uint32(len(f)-1))
		frame = append(frame, f[1:]...)
		out = append(out, frame...)
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(frame, castagnoli))
	}
	return out
}

func TestReadSnapshotChecksBehindTheCRC(t *testing.T) {
	rec := func(id string, msDelta int64, size uint64) []byte {
		b := []byte{byte(len(id)), 0}
		b = append(b, id...)
		b = binary.AppendVarint(b, msDelta)
		b = binary.AppendUvarint(b, size)
		return append(b, make([]byte, 32)...)
	}
	end := func(count, size uint64) []byte {
		return binary.AppendUvarint(binary.AppendUvarint([]byte{'E'}, count), size)
	}
	ms := base.UnixMilli()
	items := func(recs ...[]byte) []byte { return append([]byte{'I'}, bytes.Join(recs, nil)...) }
	for _, tc := range []struct {
		name string
		snap []byte
		want string
	}{
		{"valid", rawSnapshot(items(rec("a", ms, 5), rec("b", 0, 6)), end(2, 11)), ""},
		{"out of order", rawSnapshot(items(rec("b", ms, 5), rec("a", 0, 6)), end(2, 11)), "out of order"},
		{"duplicate", rawSnapshot(items(rec("a", ms, 5), rec("a", 0, 6)), end(2, 11)), "out of order"},
		{"earlier across frames", rawSnapshot(items(rec("a", ms, 5)), items(rec("b", -1, 6)), end(2, 11)), "out of order"},
		{"count mismatch", rawSnapshot(items(rec("a", ms, 5)), end(2, 5)), "end frame records 2 items"},
		{"size mismatch", rawSnapshot(items(rec("a", ms, 5)), end(1, 6)), "end frame records 1 items of 6 bytes"},
		{"end frame with extra bytes", rawSnapshot(items(rec("a", ms, 5)), append(end(1, 5), 0)), "bad end frame"},
		{"empty items frame", rawSnapshot([]byte{'I'}, end(0, 0)), "empty items frame"},
		{"empty id", rawSnapshot(items(rec("", ms, 5)), end(1, 5)), "empty archive id"},
		{"record cut short", rawSnapshot(items(rec("a", ms, 5)[:10]), end(1, 5)), "item 1"},
		{"year 10000", rawSnapshot(items(rec("a", maxMilli+1, 5)), end(1, 5)), "outside years"},
		{"negative size", rawSnapshot(items(rec("a", ms, 1<<63)), end(1, 1<<63)), "bad size"},
		{"size sum overflows", rawSnapshot(items(rec("a", ms, 1<<62), rec("b", 0, 1<<62), rec("c", 0, 1<<62)), end(3, 0)), "overflows"},
		{"no end frame", rawSnapshot(items(rec("a", ms, 5))), "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadSnapshot(bytes.NewReader(tc.snap), func(Item) error { return nil })
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want ErrCorrupt saying %q", err, tc.want)
			}
		})
	}
}

func TestReadSnapshotReturnsCallbackError(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	err := ReadSnapshot(bytes.NewReader(mustSnapshot(t, numbered(10))), func(Item) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if err != stop || n != 4 {
		t.Errorf("err, calls = %v, %d; want %v, 4", err, n, stop)
	}
}

type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestReadSnapshotPassesReadErrorsThrough(t *testing.T) {
	broken := errors.New("connection reset")
	snap := mustSnapshot(t, numbered(10))
	err := ReadSnapshot(&errReader{bytes.NewReader(snap[:len(snap)/2]), broken}, func(Item) error { return nil })
	if !errors.Is(err, broken) || errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v; want the read error, not ErrCorrupt", err)
	}
}
