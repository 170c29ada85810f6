package inventory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// magic is the snapshot's header line: format name and version.
const magic = "permafrost-inventory-snapshot 1\n"

// Frame kinds.
const (
	kindItems = 'I'
	kindEnd   = 'E'
)

const (
	frameHeaderLen = 5 // kind and uint32 length
	frameCRCLen    = 4
	// frameTarget is the payload size at which the writer ends an items
	// frame. A frame holds at least one record, so the largest payload is
	// just under frameTarget plus one largest record.
	frameTarget = 64 << 10
	maxRecord   = 2*binary.MaxVarintLen64 + maxIDLen + maxDescriptionLen + 2*binary.MaxVarintLen64 + hashLen
	maxPayload  = frameTarget + maxRecord
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SnapshotWriter streams items into the stored snapshot format (see the
// package comment). It buffers one frame, about 64 KiB, and writes each
// frame with a single Write.
type SnapshotWriter struct {
	w      io.Writer
	frame  []byte // frame being built, header space reserved at the front
	prevID []byte // id of the last item added, for the order check
	prevMs int64
	count  int64
	size   int64
	wrote  bool // header written
	closed bool
	err    error // sticky write error
}

// NewSnapshotWriter returns a writer of a snapshot to w. Nothing is written
// until the first frame is full or Close is called.
func NewSnapshotWriter(w io.Writer) *SnapshotWriter {
	s := &SnapshotWriter{w: w, frame: make([]byte, frameHeaderLen, frameHeaderLen+frameTarget+256)}
	s.frame[0] = kindItems
	return s
}

// Add appends it to the snapshot. Items must arrive in strictly increasing
// (CreatedAt millisecond, ArchiveID bytes) order; CreatedAt is truncated to
// the millisecond. An item that breaks the order or the format's bounds is
// refused with an error wrapping [ErrInvalidItem] and not added; the writer
// stays usable. An error writing to the underlying writer is returned by
// this and every later call.
func (s *SnapshotWriter) Add(it Item) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("inventory: add to a closed snapshot writer")
	}
	ms := it.CreatedAt.UnixMilli()
	if err := checkItemBounds(len(it.ArchiveID), len(it.Description), ms, it.Size); err != nil {
		return fmt.Errorf("%w %q: %v", ErrInvalidItem, it.ArchiveID, err)
	}
	if s.count > 0 && comparePos(ms, it.ArchiveID, s.prevMs, s.prevID) <= 0 {
		return fmt.Errorf("%w %q: not after the previous item %q in (creation date, archive id) order",
			ErrInvalidItem, it.ArchiveID, s.prevID)
	}
	start := len(s.frame)
	f := binary.AppendUvarint(s.frame, uint64(len(it.ArchiveID)))
	f = binary.AppendUvarint(f, uint64(len(it.Description)))
	f = append(f, it.ArchiveID...)
	f = append(f, it.Description...)
	f = binary.AppendVarint(f, ms-s.prevMs)
	f = binary.AppendUvarint(f, uint64(it.Size))
	f, ok := appendTreeHash(f, it.TreeHash)
	if !ok {
		s.frame = f[:start] // keep the grown buffer, drop the partial record
		return fmt.Errorf("%w %q: tree hash %q is not 64 lowercase hex digits", ErrInvalidItem, it.ArchiveID, it.TreeHash)
	}
	s.frame = f
	s.prevID = append(s.prevID[:0], it.ArchiveID...)
	s.prevMs = ms
	s.count++
	s.size += it.Size
	if len(s.frame)-frameHeaderLen >= frameTarget {
		return s.flushFrame()
	}
	return nil
}

// Close writes the last items frame and the end frame. It does not close
// the underlying writer. Closing twice returns the first Close's result.
func (s *SnapshotWriter) Close() error {
	if s.closed || s.err != nil {
		return s.err
	}
	s.closed = true
	if len(s.frame) > frameHeaderLen {
		if err := s.flushFrame(); err != nil {
			return err
		}
	}
	s.frame[0] = kindEnd // flushFrame left an empty frame
	s.frame = binary.AppendUvarint(s.frame, uint64(s.count))
	s.frame = binary.AppendUvarint(s.frame, uint64(s.size))
	return s.flushFrame()
}

// Count returns the number of items added.
func (s *SnapshotWriter) Count() int64 { return s.count }

// Size returns the sum of the sizes of the items added.
func (s *SnapshotWriter) Size() int64 { return s.size }

// flushFrame completes the frame being built (its kind already set), writes
// it, and starts a new items frame in the same buffer.
func (s *SnapshotWriter) flushFrame() error {
	if !s.wrote {
		s.wrote = true
		if _, err := io.WriteString(s.w, magic); err != nil {
			s.err = fmt.Errorf("inventory: writing snapshot: %w", err)
			return s.err
		}
	}
	binary.LittleEndian.PutUint32(s.frame[1:frameHeaderLen], uint32(len(s.frame)-frameHeaderLen))
	s.frame = binary.LittleEndian.AppendUint32(s.frame, crc32.Checksum(s.frame, castagnoli))
	if _, err := s.w.Write(s.frame); err != nil {
		s.err = fmt.Errorf("inventory: writing snapshot: %w", err)
		return s.err
	}
	s.frame = s.frame[:frameHeaderLen]
	s.frame[0] = kindItems
	return nil
}
