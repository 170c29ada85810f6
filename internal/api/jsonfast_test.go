package api

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonSamples are strings encoding/json treats specially.
var jsonSamples = []string{
	"", "plain", "my-vault_1.2", "arn:aws:glacier:us-east-1:123456789012:vaults/v", "2026-12-07T15:04:05.120Z",
	`q"uote`, `back\slash`, "<script>&amp;</script>", "tab\tnew\nline\rret\bback\fform", "\x00\x01\x1f\x7f",
	"déjà vu", "日本語", "emoji 😀", "\u2028\u2029", "a\u2028b\u2029c", "bad\xffutf8", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\ufffd", "/", "'", "\u00a0", strings.Repeat("x", 300),
}

func randJSONString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(12) {
		switch rng.IntN(4) {
		case 0:
			b.WriteByte(byte(rng.IntN(256)))
		case 1:
			b.WriteRune(rune(rng.IntN(0x3000)))
		case 2:
			b.WriteString(jsonSamples[rng.IntN(len(jsonSamples))])
		default:
			b.WriteByte(byte(' ' + rng.IntN(95)))
		}
	}
	return b.String()
}

func randVault(rng *rand.Rand) DescribeVaultOutput {
	v := DescribeVaultOutput{VaultARN: randJSONString(rng), VaultName: randJSONString(rng), CreationDate: randJSONString(rng),
		NumberOfArchives: rng.Int64() - math.MaxInt64/2, SizeInBytes: rng.Int64()}
	switch rng.IntN(4) {
	case 0:
		v.NumberOfArchives, v.SizeInBytes = 0, 0
	case 1:
		v.NumberOfArchives, v.SizeInBytes = math.MinInt64, math.MaxInt64
	}
	if rng.IntN(2) == 0 {
		d := randJSONString(rng)
		v.LastInventoryDate = &d
	}
	return v
}

// TestVaultJSONMatchesEncodingJSON: the hand-written DescribeVault and
// ListVaults answers are byte for byte what encoding/json writes, for
// vault shapes with escaping, unicode and invalid UTF-8, null and set
// LastInventoryDate, empty, null and full lists, with and without Marker.
func TestVaultJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("string %q: %s, want %s", s, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5000 {
		v := randVault(rng)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendVaultJSON(nil, &v); string(got) != string(want) {
			t.Fatalf("vault %d: %s\nwant %s", i, got, want)
		}
		if !utf8.Valid(want) {
			t.Fatalf("encoding/json wrote invalid UTF-8: %q", want)
		}
	}
	for i := range 500 {
		var out ListVaultsOutput
		switch n := rng.IntN(12); n {
		case 11: // VaultList nil
		default:
			out.VaultList = make([]DescribeVaultOutput, n)
			for j := range out.VaultList {
				out.VaultList[j] = randVault(rng)
			}
		}
		if rng.IntN(2) == 0 {
			m := randJSONString(rng)
			out.Marker = &m
		}
		want, _ := json.Marshal(out)
		if got := appendVaultListJSON(nil, &out); string(got) != string(want) {
			t.Fatalf("list %d: %s\nwant %s", i, got, want)
		}
	}
}
