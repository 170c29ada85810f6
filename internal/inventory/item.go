package inventory

import (
	"errors"
	"fmt"
	"time"
)

// Item is one archive in an inventory.
type Item struct {
	ArchiveID   string
	Description string
	CreatedAt   time.Time // UTC, millisecond precision
	Size        int64
	TreeHash    string // 64 lowercase hex digits
}

// ErrCorrupt is wrapped by every error that reports a snapshot as damaged,
// truncated or not a snapshot at all.
var ErrCorrupt = errors.New("inventory: corrupt snapshot")

// ErrInvalidItem is wrapped by the errors of [SnapshotWriter.Add] for an
// item that cannot be stored: out of order, or outside the format's bounds.
var ErrInvalidItem = errors.New("inventory: invalid item")

// Bounds of an item, checked on write and on read (see the package comment).
const (
	maxIDLen          = 1 << 10
	maxDescriptionLen = 1 << 20
	hashLen           = 32
)

// The creation dates a snapshot can hold: years 1 to 9999, so that every
// date formats as four-digit-year ISO-8601.
var (
	minMilli = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxMilli = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - 1
)

// checkItemBounds reports what is wrong with an item's fields, or nil.
// ms is its creation time in milliseconds.
func checkItemBounds(idLen, descLen int, ms, size int64) error {
	switch {
	case idLen == 0:
		return errors.New("empty archive id")
	case idLen > maxIDLen:
		return fmt.Errorf("archive id of %d bytes exceeds %d", idLen, maxIDLen)
	case descLen > maxDescriptionLen:
		return fmt.Errorf("description of %d bytes exceeds %d", descLen, maxDescriptionLen)
	case ms < minMilli || ms > maxMilli:
		return fmt.Errorf("creation date %s outside years 1 to 9999", time.UnixMilli(ms).UTC().Format(time.RFC3339))
	case size < 0:
		return fmt.Errorf("negative size %d", size)
	}
	return nil
}

// comparePos orders positions by creation millisecond, then archive id
// bytewise: -1, 0 or +1 as (ams, aid) sorts before, with or after (bms, bid).
func comparePos[A, B ~string | ~[]byte](ams int64, aid A, bms int64, bid B) int {
	if ams != bms {
		if ams < bms {
			return -1
		}
		return 1
	}
	n := min(len(aid), len(bid))
	for i := 0; i < n; i++ {
		if aid[i] != bid[i] {
			if aid[i] < bid[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(aid) < len(bid):
		return -1
	case len(aid) > len(bid):
		return 1
	}
	return 0
}

const hexDigits = "0123456789abcdef"

// unhex maps each byte to its value as a lowercase hex digit, or 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(hexDigits) {
		t[hexDigits[i]] = byte(i)
	}
	return t
}()

// appendTreeHash appends the 32 bytes that the 64 lowercase hex digits of s
// stand for, or reports false.
func appendTreeHash(dst []byte, s string) ([]byte, bool) {
	if len(s) != 2*hashLen {
		return dst, false
	}
	bad := byte(0)
	for i := 0; i < len(s); i += 2 {
		hi, lo := unhex[s[i]], unhex[s[i+1]]
		bad |= hi | lo // 0xff has the high bit that no digit value has
		dst = append(dst, hi<<4|lo)
	}
	return dst, bad&0x80 == 0
}

// appendHex appends b as lowercase hex digits.
func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}
