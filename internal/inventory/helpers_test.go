package inventory

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// base is the creation date the test items count from.
var base = time.Date(2012, 3, 20, 17, 3, 43, 221e6, time.UTC)

// hashOf returns a valid tree hash that differs for each i.
func hashOf(i int) string { return fmt.Sprintf("%064x", i) }

// numbered returns n items one second apart, with ids and descriptions
// that name their index.
func numbered(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{
			ArchiveID:   "archive-" + strconv.Itoa(i),
			Description: "item " + strconv.Itoa(i),
			CreatedAt:   base.Add(time.Duration(i) * time.Second),
			Size:        int64(1000 + i),
			TreeHash:    hashOf(i),
		}
	}
	return items
}

// mustSnapshot writes items into a snapshot and returns its bytes.
func mustSnapshot(tb testing.TB, items []Item) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	for _, it := range items {
		if err := w.Add(it); err != nil {
			tb.Fatalf("Add(%q): %v", it.ArchiveID, err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// mustRead reads every item of a snapshot.
func mustRead(tb testing.TB, snap []byte) []Item {
	tb.Helper()
	var got []Item
	if err := ReadSnapshot(bytes.NewReader(snap), func(it Item) error {
		got = append(got, it)
		return nil
	}); err != nil {
		tb.Fatalf("ReadSnapshot: %v", err)
	}
	return got
}

// synth produces the synthetic items of the large tests and benchmarks
// without allocating: ids, descriptions and hashes are windows onto fixed
// strings, and creation dates rise by 37 ms an item, so every position is
// distinct whatever the ids.
type synth struct{ ids, descs, hashes string }

func newSynth() *synth {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var ids, descs, hashes []byte
	x := uint32(2463534242)
	next := func() uint32 { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x }
	for range 4096 + 138 {
		ids = append(ids, alphabet[next()%64])
	}
	text := `backup of /home "weekly", part \ of many: `
	for len(descs) < 4096+64 {
		descs = append(descs, text...)
	}
	for range 4096 + 64 {
		hashes = append(hashes, hexDigits[next()%16])
	}
	return &synth{string(ids), string(descs), string(hashes)}
}

func (s *synth) item(i int) Item {
	k := i % 4096
	return Item{
		ArchiveID:   s.ids[k : k+138], // the length of a Glacier archive id
		Description: s.descs[k : k+i%41],
		CreatedAt:   base.Add(time.Duration(i) * 37 * time.Millisecond),
		Size:        int64(i%100000) * 1024,
		TreeHash:    s.hashes[k : k+64],
	}
}
