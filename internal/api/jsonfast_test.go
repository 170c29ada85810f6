package api

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/inventory"
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

func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(5) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(rng.IntN(10001), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e9), time.UTC)
	case 2:
		return time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC) // outside 0000–9999: time's own formatting
	case 3:
		return time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 3600*(rng.IntN(25)-12)))
	}
	return time.Unix(rng.Int64N(2e9), 0)
}

func randVault(rng *rand.Rand) glacier.Vault {
	v := glacier.Vault{AccountID: randJSONString(rng), Name: randJSONString(rng), CreatedAt: randTime(rng), LastInventoryAt: randTime(rng),
		NumberOfArchives: rng.Int64N(1 << 40), SizeInBytes: rng.Int64N(1 << 60)}
	switch rng.IntN(4) {
	case 0:
		v.NumberOfArchives, v.SizeInBytes = 0, 0
	case 1:
		v.Name = strings.Repeat("n", 255) // longer than the scratch buffer with the ARN around it
	}
	return v
}

// TestVaultJSONFromDomain: the DescribeVault and ListVaults answers
// written straight from the vaults are byte for byte what encoding/json
// writes for the wire structs built from them as before (vaultOutput),
// for vault shapes with escaping, unicode and invalid UTF-8, zero and set
// dates (LastInventoryDate null), long names, empty and full lists, with
// and without a Marker.
func TestVaultJSONFromDomain(t *testing.T) {
	for _, s := range jsonSamples {
		want, _ := json.Marshal(s)
		if got := inventory.AppendJSONString(nil, s, true); string(got) != string(want) {
			t.Errorf("string %q: %s, want %s", s, got, want)
		}
		if got := inventory.AppendJSONString(nil, []byte(s), true); string(got) != string(want) {
			t.Errorf("bytes %q: %s, want %s", s, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, region := range []string{"us-east-1", "eu-<&>"} {
		s := &Server{Service: &glacier.Service{Region: region}, Region: region}
		for i := range 5000 {
			v := randVault(rng)
			want, err := json.Marshal(s.vaultOutput(v))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.appendVault(nil, &v); string(got) != string(want) {
				t.Fatalf("vault %d: %s\nwant %s", i, got, want)
			}
		}
		for i := range 500 {
			vs := make([]glacier.Vault, rng.IntN(12))
			for j := range vs {
				vs[j] = randVault(rng)
			}
			account, next := randJSONString(rng), ""
			if rng.IntN(2) == 0 {
				next = randJSONString(rng) + "x"
			}
			// The wire struct as handleListVaults built it.
			out := ListVaultsOutput{VaultList: make([]DescribeVaultOutput, len(vs))}
			for j, v := range vs {
				out.VaultList[j] = s.vaultOutput(v)
			}
			if next != "" {
				out.Marker = optString(s.Service.VaultARN(account, next))
			}
			want, _ := json.Marshal(out)
			if got := s.appendVaultList(nil, vs, account, next); string(got) != string(want) {
				t.Fatalf("list %d: %s\nwant %s", i, got, want)
			}
		}
	}
}

// TestKeyPrincipalReuse: the principal reused for the previous key is
// glacier.KeyPrincipal's for every key, root or user, in any order.
func TestKeyPrincipalReuse(t *testing.T) {
	keys := []glacier.AccessKey{
		{ID: "AKIA1", AccountID: "111111111111"}, {ID: "AKIA1", AccountID: "111111111111", UserName: "alice"},
		{ID: "AKIA2", AccountID: "111111111111", UserName: "alice"}, {ID: "AKIA2", AccountID: "222222222222", UserName: "alice"},
		{ID: "AKIA2", AccountID: "222222222222"}, {ID: "AKIA2", AccountID: "222222222222", UserName: "bob"},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 1000 {
		k := keys[rng.IntN(len(keys))]
		if got, want := keyPrincipal(k), glacier.KeyPrincipal(k); got != want {
			t.Fatalf("keyPrincipal(%+v) = %+v, want %+v", k, got, want)
		}
	}
}
