package inventory

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// record is one item as the reader decodes it. id and desc are slices of
// the frame buffer, valid only until the callback returns.
type record struct {
	id, desc []byte
	ms       int64
	size     int64
	hash     [hashLen]byte
}

// corrupt returns an error wrapping ErrCorrupt.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// ReadSnapshot calls fn for each item of a snapshot in order; an error from
// fn stops the reading and is returned as it is. A damaged, truncated or
// foreign snapshot yields an error wrapping [ErrCorrupt], possibly after
// items of earlier, intact frames have been passed to fn. Each Item holds
// its own memory (one allocation) and may be kept.
func ReadSnapshot(r io.Reader, fn func(Item) error) error {
	var scratch []byte
	return scan(r, func(rec *record) error {
		// One allocation holds the id, the description and the hex hash.
		scratch = append(scratch[:0], rec.id...)
		scratch = append(scratch, rec.desc...)
		scratch = appendHex(scratch, rec.hash[:])
		s := string(scratch)
		d := len(rec.id) + len(rec.desc)
		return fn(Item{
			ArchiveID:   s[:len(rec.id)],
			Description: s[len(rec.id):d],
			CreatedAt:   time.UnixMilli(rec.ms).UTC(),
			Size:        rec.size,
			TreeHash:    s[d:],
		})
	})
}

// scan reads a snapshot and calls fn for each record, reusing one record
// and one frame buffer. An error from fn is returned unwrapped.
func scan(r io.Reader, fn func(*record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if err := readMagic(br); err != nil {
		return err
	}
	var (
		hdr    [frameHeaderLen]byte // here, not in readFrame: it escapes, once per scan
		buf    []byte
		rec    record
		prevID []byte
		prevMs int64
		count  int64
		size   int64
	)
	for {
		kind, payload, err := readFrame(br, &hdr, buf)
		if err != nil {
			return err
		}
		buf = payload[:0]
		if kind == kindEnd {
			return checkEnd(br, payload, count, size)
		}
		if len(payload) == 0 {
			return corrupt("empty items frame")
		}
		for p := payload; len(p) > 0; {
			n, err := decodeRecord(p, prevMs, &rec)
			if err != nil {
				return corrupt("item %d: %v", count+1, err)
			}
			p = p[n:]
			if count > 0 && comparePos(rec.ms, rec.id, prevMs, prevID) <= 0 {
				return corrupt("item %d is out of order", count+1)
			}
			if size+rec.size < size {
				return corrupt("total size overflows")
			}
			count++
			size += rec.size
			prevMs = rec.ms
			prevID = append(prevID[:0], rec.id...)
			if err := fn(&rec); err != nil {
				return err
			}
		}
	}
}

// readMagic consumes the header line and checks format and version.
func readMagic(br *bufio.Reader) error {
	head, err := br.Peek(len(magic))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("inventory: reading snapshot: %w", err)
	}
	const name = "permafrost-inventory-snapshot "
	if string(head) == magic {
		_, err := br.Discard(len(magic))
		return err
	}
	if len(head) >= len(name) && string(head[:len(name)]) == name {
		return corrupt("unsupported snapshot version %q", head[len(name):])
	}
	if len(head) < len(magic) && string(head) == magic[:len(head)] {
		return corrupt("truncated header")
	}
	return corrupt("not an inventory snapshot")
}

// readFrame reads one frame into buf (grown as needed) and checks its
// length bound and CRC. A frame missing entirely is truncation: a snapshot
// ends with its end frame.
func readFrame(br *bufio.Reader, hdr *[frameHeaderLen]byte, buf []byte) (kind byte, payload []byte, err error) {
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, nil, readErr(err)
	}
	kind = hdr[0]
	if kind != kindItems && kind != kindEnd {
		return 0, nil, corrupt("unknown frame kind %#x", kind)
	}
	n := binary.LittleEndian.Uint32(hdr[1:])
	if n > maxPayload {
		return 0, nil, corrupt("frame of %d bytes exceeds %d", n, maxPayload)
	}
	need := int(n) + frameCRCLen
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	if _, err := io.ReadFull(br, buf); err != nil {
		return 0, nil, readErr(err)
	}
	payload = buf[:n]
	sum := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, payload)
	if binary.LittleEndian.Uint32(buf[n:]) != sum {
		return 0, nil, corrupt("frame checksum mismatch")
	}
	return kind, payload, nil
}

// readErr classifies an error from reading a frame: running out of bytes
// is truncation, anything else belongs to the underlying reader.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("truncated")
	}
	return fmt.Errorf("inventory: reading snapshot: %w", err)
}

// checkEnd checks the end frame against what was read and that nothing
// follows it.
func checkEnd(br *bufio.Reader, payload []byte, count, size int64) error {
	c, n1 := binary.Uvarint(payload)
	if n1 <= 0 {
		return corrupt("bad end frame")
	}
	s, n2 := binary.Uvarint(payload[n1:])
	if n2 <= 0 || n1+n2 != len(payload) {
		return corrupt("bad end frame")
	}
	if c != uint64(count) || s != uint64(size) {
		return corrupt("end frame records %d items of %d bytes, found %d of %d", c, s, count, size)
	}
	switch _, err := br.ReadByte(); {
	case err == nil:
		return corrupt("data after the end frame")
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("inventory: reading snapshot: %w", err)
	}
	return nil
}

// decodeRecord decodes the record at the start of p into rec, given the
// previous record's creation millisecond, and returns its length.
func decodeRecord(p []byte, prevMs int64, rec *record) (int, error) {
	idLen, n1 := binary.Uvarint(p)
	if n1 <= 0 {
		return 0, errors.New("bad id length")
	}
	descLen, n2 := binary.Uvarint(p[n1:])
	if n2 <= 0 {
		return 0, errors.New("bad description length")
	}
	i := n1 + n2
	if idLen > maxIDLen || descLen > maxDescriptionLen || uint64(len(p)-i) < idLen+descLen {
		return 0, errors.New("lengths exceed the frame or the bounds")
	}
	rec.id = p[i : i+int(idLen)]
	i += int(idLen)
	rec.desc = p[i : i+int(descLen)]
	i += int(descLen)
	delta, n3 := binary.Varint(p[i:])
	if n3 <= 0 {
		return 0, errors.New("bad creation date")
	}
	i += n3
	size, n4 := binary.Uvarint(p[i:])
	if n4 <= 0 || size > 1<<63-1 {
		return 0, errors.New("bad size")
	}
	i += n4
	if len(p)-i < hashLen {
		return 0, errors.New("short tree hash")
	}
	copy(rec.hash[:], p[i:i+hashLen])
	i += hashLen
	rec.ms = prevMs + delta // a wrap lands outside the bounds or out of order
	rec.size = int64(size)
	if err := checkItemBounds(len(rec.id), len(rec.desc), rec.ms, rec.size); err != nil {
		return 0, err
	}
	return i, nil
}
