package inventory

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrInvalidMarker is wrapped by the error of [ParseMarker], and of
// [Generate] given an invalid marker.
var ErrInvalidMarker = errors.New("inventory: invalid marker")

// markerVersion is the first byte of every marker, so the encoding can change.
const markerVersion = 1

var markerEncoding = base64.RawURLEncoding.Strict()

// position is a place in snapshot order: the creation millisecond and
// archive id of an item, present or not.
type position struct {
	ms int64
	id []byte
}

// appendMarker appends the marker for position (ms, id): base64url without
// padding of the version byte, varint ms and the id bytes.
func appendMarker(dst []byte, ms int64, id []byte) []byte {
	var raw [1 + binary.MaxVarintLen64 + maxIDLen]byte
	b := append(raw[:0], markerVersion)
	b = binary.AppendVarint(b, ms)
	b = append(b, id...)
	return markerEncoding.AppendEncode(dst, b)
}

// ParseMarker validates a client-supplied marker, as produced by [Generate]
// for a previous page. An invalid one returns an error wrapping
// [ErrInvalidMarker] whose message says what is wrong.
func ParseMarker(s string) error {
	_, err := parseMarker(s)
	return err
}

func parseMarker(s string) (position, error) {
	invalid := func(why string) (position, error) {
		return position{}, fmt.Errorf("%w: %s", ErrInvalidMarker, why)
	}
	if s == "" {
		return invalid("empty")
	}
	if len(s) > markerEncoding.EncodedLen(1+binary.MaxVarintLen64+maxIDLen) {
		return invalid("too long")
	}
	raw, err := markerEncoding.DecodeString(s)
	if err != nil {
		return invalid("not base64url")
	}
	if len(raw) == 0 || raw[0] != markerVersion {
		return invalid("unknown version")
	}
	ms, n := binary.Varint(raw[1:])
	if n <= 0 {
		return invalid("bad position")
	}
	id := raw[1+n:]
	if err := checkItemBounds(len(id), 0, ms, 0); err != nil {
		return invalid("bad position")
	}
	// One spelling per position: reject overlong varints and the like.
	if string(appendMarker(nil, ms, id)) != s {
		return invalid("not in canonical form")
	}
	return position{ms: ms, id: id}, nil
}
