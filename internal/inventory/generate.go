package inventory

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

// Format is the output format of an inventory-retrieval job.
type Format string

// The formats of §6.2 and §6.3.
const (
	JSON Format = "JSON"
	CSV  Format = "CSV"
)

// ContentType returns the Content-Type of job output in format f (§5.6).
func (f Format) ContentType() string {
	if f == CSV {
		return "text/csv"
	}
	return "application/json"
}

// Filter is an inventory job's InventoryRetrievalParameters (§6.4).
type Filter struct {
	StartDate time.Time // zero: none; include archives created at or after it
	EndDate   time.Time // zero: none; include archives created strictly before it
	Limit     int       // 0: no limit; else max items in this output
	Marker    string    // "" or a marker from a previous job's output
}

// errStop ends a scan early without error.
var errStop = errors.New("stop")

// Generate reads a snapshot and writes the job output in format (JSON when
// empty) to out: every item that passes f's dates and is not before f's
// Marker, at most f.Limit of them. It returns the number of items written
// and next, the marker of the first item that passed the filter but was not
// written because of the Limit, or "" when the output reached the end.
//
// Reading stops at the first item past the output, so damage further on in
// the snapshot goes unnoticed. On error, out may hold partial output, to be
// discarded. An invalid marker is reported with an error wrapping
// [ErrInvalidMarker], a damaged snapshot with one wrapping [ErrCorrupt].
func Generate(snapshot io.Reader, out io.Writer, format Format, vaultARN string, inventoryDate time.Time, f Filter) (written int64, next string, err error) {
	if format == "" {
		format = JSON
	}
	if format != JSON && format != CSV {
		return 0, "", fmt.Errorf("inventory: unknown format %q", format)
	}
	if f.Limit < 0 {
		return 0, "", fmt.Errorf("inventory: negative limit %d", f.Limit)
	}
	var from position
	hasMarker := f.Marker != ""
	if hasMarker {
		if from, err = parseMarker(f.Marker); err != nil {
			return 0, "", err
		}
	}
	hasStart, hasEnd := !f.StartDate.IsZero(), !f.EndDate.IsZero()
	startMs, endMs := ceilMilli(f.StartDate), ceilMilli(f.EndDate)

	bw := bufio.NewWriterSize(out, 64<<10)
	line := make([]byte, 0, 1024)
	switch format {
	case JSON:
		line = append(line, `{"VaultARN":`...)
		line = AppendJSONString(line, vaultARN, false)
		line = append(line, `,"InventoryDate":"`...)
		line = inventoryDate.UTC().AppendFormat(line, inventoryDateLayout)
		line = append(line, `","ArchiveList":[`...)
	case CSV:
		line = append(line, csvHeader...)
	}
	if _, err := bw.Write(line); err != nil {
		return 0, "", fmt.Errorf("inventory: writing output: %w", err)
	}
	limit := int64(f.Limit)
	err = scan(snapshot, func(rec *record) error {
		switch {
		case hasEnd && rec.ms >= endMs:
			return errStop // items are in date order: none later qualifies
		case hasStart && rec.ms < startMs:
			return nil
		case hasMarker && comparePos(rec.ms, rec.id, from.ms, from.id) < 0:
			return nil
		case limit > 0 && written == limit:
			next = string(appendMarker(line[:0], rec.ms, rec.id))
			return errStop
		}
		line = line[:0]
		if format == JSON {
			if written > 0 {
				line = append(line, ',')
			}
			line = appendJSONItem(line, rec)
		} else {
			line = appendCSVItem(line, rec)
		}
		written++
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("inventory: writing output: %w", err)
		}
		return nil
	})
	if err != nil && err != errStop {
		return written, "", err
	}
	if format == JSON {
		if _, err := bw.WriteString("]}"); err != nil {
			return written, "", fmt.Errorf("inventory: writing output: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return written, "", fmt.Errorf("inventory: writing output: %w", err)
	}
	return written, next, nil
}

// ceilMilli returns the first millisecond at or after t, so that an item
// created at millisecond ms is at or after t exactly when ms >= ceilMilli(t).
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}
