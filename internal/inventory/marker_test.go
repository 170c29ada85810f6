package inventory

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestMarkerRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ms int64
		id string
	}{
		{base.UnixMilli(), strings.Repeat("Ab-_9", 27) + "xyz"}, // 138 characters, like a Glacier id
		{0, "a"},
		{minMilli, "\x00\xff,\"\n"},
		{maxMilli, strings.Repeat("z", maxIDLen)},
	} {
		m := string(appendMarker(nil, tc.ms, []byte(tc.id)))
		if strings.ContainsAny(m, "+/=") {
			t.Errorf("marker %q is not unpadded base64url", m)
		}
		pos, err := parseMarker(m)
		if err != nil {
			t.Fatalf("parseMarker(%q): %v", m, err)
		}
		if pos.ms != tc.ms || string(pos.id) != tc.id {
			t.Errorf("parseMarker(marker(%d, %q)) = %d, %q", tc.ms, tc.id, pos.ms, pos.id)
		}
		if err := ParseMarker(m); err != nil {
			t.Errorf("ParseMarker(%q) = %v", m, err)
		}
	}
}

func TestParseMarkerRejects(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	good := string(appendMarker(nil, 5, []byte("abc")))
	for _, tc := range []struct {
		name, marker, want string
	}{
		{"empty", "", "empty"},
		{"not base64", "not a marker!", "not base64url"},
		{"standard base64 alphabet", strings.ReplaceAll(enc([]byte{1, 0xfb, 0xff, 'a'}), "_", "/"), "not base64url"},
		{"padded", good + "=", "not base64url"},
		{"one character", "A", "not base64url"},
		{"non-zero trailing bits", good[:len(good)-1] + "Z", "not base64url"},
		{"wrong version", enc([]byte{2, 10, 'a'}), "unknown version"},
		{"version only", enc([]byte{1}), "bad position"},
		{"no id", enc([]byte{1, 10}), "bad position"},
		{"unterminated varint", enc([]byte{1, 0x80}), "bad position"},
		{"overlong varint", enc([]byte{1, 0x8a, 0x00, 'a'}), "canonical"},
		{"year 10000", string(appendMarker(nil, maxMilli+1, []byte("a"))), "bad position"},
		{"id too long", string(appendMarker(nil, 0, []byte(strings.Repeat("z", maxIDLen+1)))), "bad position"},
		{"far too long", strings.Repeat("A", 2000), "too long"},
		{"archive id, not a marker", "NkbByEK9FeQh8-WwnYb5ej4gIOHapfMmHYGQfLwKq-hJJbi9vbrYDGfHyMT-I7cXgAkaH5s3vHo9K_sidNJ8_yiq8V8M4y5e-a3Tpje97Q9QkfTRnYM8UWrpgBAnk1Rx3lugwGBNEwg", "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ParseMarker(tc.marker)
			if !errors.Is(err, ErrInvalidMarker) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseMarker(%q) = %v; want ErrInvalidMarker saying %q", tc.marker, err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "invalid marker") {
				t.Errorf("message %q does not say the marker is invalid", err)
			}
		})
	}
}
