package treehash

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHex(s)
	if err != nil {
		t.Fatalf("ParseHex(%q): %v", s, err)
	}
	return h
}

// vectors are the test vectors of §1.2.
var vectors = []struct {
	name   string
	data   func() []byte
	linear string
	tree   string
}{
	{"empty", func() []byte { return nil },
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"abc", func() []byte { return []byte("abc") },
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{"1MiB zeros", func() []byte { return make([]byte, mib) },
		"30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58",
		"30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58"},
	{"1MiB+1 zeros", func() []byte { return make([]byte, mib+1) },
		"2cb74edba754a81d121c9db6833704a8e7d417e5b13d1a19f4a52f007d644264",
		"28638dab8d5e1754a4ecb38b0ebe6df66c844f94aed142d4d0283d208bb786cd"},
	{"3MiB zeros", func() []byte { return make([]byte, 3*mib) },
		"bbd05cf6097ac9b1f89ea29d2542c1b7b67ee46848393895f5a9e43fa1f621e5",
		"ca6cc129a4514ec765de86a4e7a49adf44842c9cac213c383ebe4071271bdf21"},
	{"5.5MiB zeros", func() []byte { return make([]byte, 5*mib+mib/2) },
		"733cf513448ce6b20ad1bc5e50eb27c06aefae0c320713a5dd99f4e51bc1ca60",
		"a3a82dbe3644dd6046be472f2e3ec1f8ef47f8f3adb86d0de4de7a254f255455"},
	{"7MiB i mod 251", func() []byte { return patternData(7 * mib) },
		"c0c49a419ecae55243613a85dc1e1cb5ec9d5a51d5f439a8c16eb7ff0b139920",
		"8bfce57c6a4076b3e930e725fbaa00beeffff0f0d9a6491a89a53baa73b4810d"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			data := v.data()
			wantLinear, wantTree := mustParse(t, v.linear), mustParse(t, v.tree)
			if got := Hash(sha256.Sum256(data)); got != wantLinear {
				t.Errorf("sha256.Sum256 = %v, want %v (vector itself is wrong?)", got, wantLinear)
			}
			if got := Sum(data); got != wantTree {
				t.Errorf("Sum = %v, want %v", got, wantTree)
			}
			if got := Reduce(Leaves(data)); got != wantTree {
				t.Errorf("Reduce(Leaves) = %v, want %v", got, wantTree)
			}
			if got := Hash(refTreeHash(data)); got != wantTree {
				t.Errorf("reference tree hash = %v, want %v", got, wantTree)
			}
			for _, chunk := range []int{len(data) + 1, 32 << 10, 4093} {
				h := writeInSplits(data, []int{chunk})
				if got := h.Linear(); got != wantLinear {
					t.Errorf("writes of %d: Linear = %v, want %v", chunk, got, wantLinear)
				}
				if got := h.TreeHash(); got != wantTree {
					t.Errorf("writes of %d: TreeHash = %v, want %v", chunk, got, wantTree)
				}
				if got := h.Size(); got != int64(len(data)) {
					t.Errorf("writes of %d: Size = %d, want %d", chunk, got, len(data))
				}
			}
		})
	}
}

// TestMultipartVector checks the 2 MiB parts of the 7 MiB vector (§1.2) and
// that reducing their tree hashes gives the whole-archive tree hash.
func TestMultipartVector(t *testing.T) {
	data := patternData(7 * mib)
	want := []string{
		"bf4dff263ae686b64403208c35a3767e38453d6477e841947588d13d04e1d816",
		"9e217b1ceb8db81071f9c6e4a2bf0401a83491d10751ce858a2628f5d699dbdb",
		"3f1cd462b63cf286198c3f2ee91cf116dfed51d327686dca0fb06ba94a4ae759",
		"3fe5670143d04b21f7993a66e25f307e3c1083134804dd589dfc699eebc29bf2",
	}
	leaves := Leaves(data)
	var parts []Hash
	for i, w := range want {
		start, end := int64(i)*2*mib, min(int64(i+1)*2*mib, int64(len(data)))-1
		got := Sum(data[start : end+1])
		if got != mustParse(t, w) {
			t.Errorf("part %d (%d-%d): Sum = %v, want %s", i, start, end, got, w)
		}
		if got, ok := RangeTreeHash(leaves, start, end, int64(len(data))); !ok || got.String() != w {
			t.Errorf("part %d: RangeTreeHash = %v, %v, want %s, true", i, got, ok, w)
		}
		if !IsTreeHashAligned(start, end, int64(len(data))) {
			t.Errorf("part %d (%d-%d) not tree-hash aligned", i, start, end)
		}
		parts = append(parts, got)
	}
	const whole = "8bfce57c6a4076b3e930e725fbaa00beeffff0f0d9a6491a89a53baa73b4810d"
	if got := Reduce(parts).String(); got != whole {
		t.Errorf("Reduce(parts) = %s, want %s", got, whole)
	}
}

// TestSubRangeVectors checks the two sub-range hashes of §1.2.
func TestSubRangeVectors(t *testing.T) {
	data := patternData(7 * mib)
	n := int64(len(data))
	leaves := Leaves(data)
	for _, tc := range []struct {
		start, end  int64
		want        string
		treeAligned bool
	}{
		{4 * mib, 7*mib - 1, "2ed31f9001aae783cf780d7d6be26828f453988c4168a9d84e290de24d0237b3", true},
		{2 * mib, 6*mib - 1, "7353df074b2ff53f8123affe971066a3ad5195c701ae5e63723eff4d7d73ad9b", false},
	} {
		if got := Sum(data[tc.start : tc.end+1]).String(); got != tc.want {
			t.Errorf("Sum(data[%d:%d]) = %s, want %s", tc.start, tc.end+1, got, tc.want)
		}
		if got, ok := RangeTreeHash(leaves, tc.start, tc.end, n); !ok || got.String() != tc.want {
			t.Errorf("RangeTreeHash(%d, %d) = %v, %v, want %s, true", tc.start, tc.end, got, ok, tc.want)
		}
		if !IsMiBAligned(tc.start, tc.end, n) {
			t.Errorf("IsMiBAligned(%d, %d, %d) = false, want true", tc.start, tc.end, n)
		}
		if got := IsTreeHashAligned(tc.start, tc.end, n); got != tc.treeAligned {
			t.Errorf("IsTreeHashAligned(%d, %d, %d) = %v, want %v", tc.start, tc.end, n, got, tc.treeAligned)
		}
	}
}

func TestRangeTreeHashRejects(t *testing.T) {
	data := patternData(3*mib + 5)
	n := int64(len(data))
	leaves := Leaves(data)
	for _, tc := range []struct {
		name       string
		leaves     []Hash
		start, end int64
	}{
		{"start not on MiB", leaves, 1, mib - 1},
		{"end not before MiB", leaves, 0, mib},
		{"end past archive", leaves, 0, n},
		{"start after end", leaves, mib, mib - 1},
		{"negative start", leaves, -mib, mib - 1},
		{"too few leaves", leaves[:3], 0, n - 1},
		{"too many leaves", append(leaves[:4:4], Hash{}), 0, n - 1},
	} {
		if got, ok := RangeTreeHash(tc.leaves, tc.start, tc.end, n); ok || got != (Hash{}) {
			t.Errorf("%s: RangeTreeHash = %v, %v, want zero, false", tc.name, got, ok)
		}
	}
	if got, ok := RangeTreeHash(leaves, 0, n-1, n); !ok || got != Sum(data) {
		t.Errorf("whole archive: RangeTreeHash = %v, %v, want %v, true", got, ok, Sum(data))
	}
}

func TestReduce(t *testing.T) {
	empty := Hash(sha256.Sum256(nil))
	if got := Reduce(nil); got != empty {
		t.Errorf("Reduce(nil) = %v, want SHA-256(\"\") %v", got, empty)
	}
	one := Hash(sha256.Sum256([]byte("x")))
	if got := Reduce([]Hash{one}); got != one {
		t.Errorf("Reduce of one = %v, want it unchanged %v", got, one)
	}
	// Every count up to 70 and a few beyond, including 2^k±1, against the
	// literal level-by-level reference.
	counts := []int{}
	for n := 1; n <= 70; n++ {
		counts = append(counts, n)
	}
	counts = append(counts, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025)
	for _, n := range counts {
		hs := make([]Hash, n)
		ref := make([][32]byte, n)
		for i := range hs {
			hs[i] = Hash(sha256.Sum256([]byte{byte(i), byte(i >> 8), 0x5a}))
			ref[i] = hs[i]
		}
		if got, want := Reduce(hs), Hash(refReduce(ref)); got != want {
			t.Errorf("Reduce of %d hashes = %v, want %v", n, got, want)
		}
	}
	if a := testing.AllocsPerRun(10, func() { Reduce(make([]Hash, 0)) }); a != 0 {
		t.Errorf("Reduce allocates %v times", a)
	}
}

func TestLeavesAndSumAgree(t *testing.T) {
	for _, n := range []int{0, 1, mib - 1, mib, mib + 1, 2 * mib, 3*mib - 1, 3*mib + 7} {
		data := randomData(uint64(n), n)
		leaves := Leaves(data)
		ref := refLeaves(data)
		if int64(len(leaves)) != LeafCount(int64(n)) || len(leaves) != len(ref) {
			t.Fatalf("size %d: %d leaves, LeafCount %d, reference %d", n, len(leaves), LeafCount(int64(n)), len(ref))
		}
		for i := range ref {
			if leaves[i] != Hash(ref[i]) {
				t.Errorf("size %d: leaf %d = %v, want %v", n, i, leaves[i], Hash(ref[i]))
			}
		}
		if got, want := Sum(data), Hash(refTreeHash(data)); got != want {
			t.Errorf("size %d: Sum = %v, want %v", n, got, want)
		}
	}
	data := make([]byte, 3*mib+1)
	if a := testing.AllocsPerRun(2, func() { Sum(data) }); a != 0 {
		t.Errorf("Sum allocates %v times", a)
	}
}

func TestLeafCount(t *testing.T) {
	for _, tc := range []struct{ size, want int64 }{
		{0, 1}, {1, 1}, {mib - 1, 1}, {mib, 1}, {mib + 1, 2}, {2 * mib, 2}, {7 * mib, 7}, {7*mib + 1, 8},
		{40 << 40, 40 << 20},
	} {
		if got := LeafCount(tc.size); got != tc.want {
			t.Errorf("LeafCount(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestHex(t *testing.T) {
	const lower = "8bfce57c6a4076b3e930e725fbaa00beeffff0f0d9a6491a89a53baa73b4810d"
	h := mustParse(t, lower)
	if got := h.String(); got != lower {
		t.Errorf("String = %s, want %s", got, lower)
	}
	for _, s := range []string{strings.ToUpper(lower), "8BFCE57c6a4076b3e930e725fbaa00beeffff0f0d9a6491a89a53baa73b4810D"} {
		if got := mustParse(t, s); got != h {
			t.Errorf("ParseHex(%s) = %v, want %v", s, got, h)
		}
	}
	if got := (Hash{}).String(); got != strings.Repeat("0", 64) {
		t.Errorf("zero Hash String = %s", got)
	}
	for i := range 256 {
		var x Hash
		for k := range x {
			x[k] = byte(i*31 + k*7)
		}
		if y, err := ParseHex(x.String()); err != nil || y != x {
			t.Errorf("round trip of %v: got %v, %v", x, y, err)
		}
	}
	for _, s := range []string{
		"",
		lower[:63],
		lower + "0",
		lower[:62],
		"g" + lower[1:],
		lower[:63] + "G",
		lower[:32] + " " + lower[33:],
		"0x" + lower[2:],
		" " + lower[1:],
		lower[:10] + "é" + lower[12:], // 64 bytes, non-ASCII
		strings.Repeat("z", 64),
	} {
		got, err := ParseHex(s)
		if err == nil || !errors.Is(err, ErrInvalidHash) || got != (Hash{}) {
			t.Errorf("ParseHex(%q) = %v, %v; want zero and an ErrInvalidHash", s, got, err)
		}
	}
}

func TestEncodeLeaves(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100} {
		leaves := make([]Hash, n)
		for i := range leaves {
			leaves[i] = Hash(sha256.Sum256([]byte{byte(i)}))
		}
		b := EncodeLeaves(leaves)
		if len(b) != 32*n {
			t.Errorf("EncodeLeaves of %d: %d bytes, want %d", n, len(b), 32*n)
		}
		for i := range leaves {
			if !bytes.Equal(b[32*i:32*i+32], leaves[i][:]) {
				t.Errorf("EncodeLeaves of %d: leaf %d not at offset %d", n, i, 32*i)
			}
		}
		got, err := DecodeLeaves(b)
		if err != nil || len(got) != n {
			t.Fatalf("DecodeLeaves: %d leaves, %v; want %d, nil", len(got), err, n)
		}
		for i := range got {
			if got[i] != leaves[i] {
				t.Errorf("DecodeLeaves: leaf %d = %v, want %v", i, got[i], leaves[i])
			}
		}
	}
	for _, n := range []int{1, 31, 33, 63, 65} {
		if got, err := DecodeLeaves(make([]byte, n)); err == nil || !errors.Is(err, ErrInvalidHash) || got != nil {
			t.Errorf("DecodeLeaves of %d bytes = %v, %v; want nil, ErrInvalidHash", n, got, err)
		}
	}
}
