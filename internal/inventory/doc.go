// Package inventory produces vault inventories in the formats Amazon Glacier
// defines for inventory-retrieval job output (data-plane spec §6). It works
// in two passes, each streaming with constant memory:
//
//  1. A snapshot: the service streams a vault's live archives, ordered by
//     creation date then archive id, through a [SnapshotWriter] into a
//     stored blob. Its [SnapshotWriter.Count] and [SnapshotWriter.Size] are
//     the NumberOfArchives and SizeInBytes of the snapshot (§6.1).
//  2. The output: an inventory-retrieval job runs [Generate] over that blob
//     with the job's format and filter, writing the JSON (§6.2) or CSV
//     (§6.3) document and returning the marker for the next page (§6.4).
//
// The package is a pure core: standard library only, no files, no network;
// it reads an io.Reader and writes an io.Writer.
//
// Decisions:
//
//   - The snapshot is a private binary format, not stored JSON, because one
//     snapshot serves both output formats under any filter, and because a
//     length-prefixed encoding carries any description bytes (quotes,
//     newlines, invalid UTF-8) without escaping rules. Its layout is given
//     below. The header line names the format and its version so that a
//     later version can be told apart and still read. The end frame makes a
//     snapshot cut at a frame boundary detectable, and its count and size
//     must match the records; the per-frame CRC catches damage inside a
//     frame before any of that frame's items is handed out. Items of earlier
//     frames may already have been delivered when a later frame proves
//     corrupt: that is the price of streaming, and [Generate]'s caller
//     discards the partial output when it gets an error. Every corruption
//     wraps [ErrCorrupt]; read errors of the underlying reader pass through.
//   - Order is part of the format. [SnapshotWriter.Add] refuses an item that
//     does not sort strictly after the previous one by (creation
//     millisecond, archive id as bytes), and the reader checks the same, so
//     a marker is a position that means the same in every snapshot. The
//     database query must therefore order ids bytewise (SQLite's BINARY
//     collation; COLLATE "C" in PostgreSQL) and keep creation dates at
//     millisecond precision: finer precision is dropped by the writer and
//     could reorder items. Bounds keep a corrupt length from allocating:
//     ids are 1 to 1,024 bytes, descriptions at most 1 MiB (Glacier allows
//     1,024), creation dates in years 1 to 9999, sizes not negative.
//   - A marker is base64url (no padding) of a version byte, the creation
//     millisecond and the archive id of the first item a Limit cut off. A
//     job with that marker starts at that position inclusive: the first item
//     whose (millisecond, id) is not below it. Because it is a position, not
//     an index, paging stays correct when a newer snapshot has dropped the
//     item the marker names (§6.4 recommends stable order; we give it).
//   - Filters: StartDate is inclusive and EndDate exclusive (§6.4), compared
//     exactly against the millisecond creation dates. Items arrive in date
//     order, so the scan stops at the first item at or after EndDate, or at
//     the first item past a reached Limit (which becomes the next marker).
//     Finding that item is what lets a page that ends exactly at the last
//     item report "" instead of a marker to an empty page.
//   - JSON is written compactly, item by item, through one reused buffer.
//     Strings are escaped exactly as encoding/json does with HTML escaping
//     off (the tests check byte equality), which means invalid UTF-8 becomes
//     U+FFFD: JSON cannot carry the raw bytes. CreationDate has milliseconds,
//     InventoryDate whole seconds, both in UTC with a Z.
//   - CSV follows §6.3: the description is always quoted, each " inside it
//     written as \" and backslashes left alone, so `a\"b` becomes
//     `"a\\"b"`; size, date and tree hash are never quoted. Archive ids are
//     not quoted either, except one containing a comma, quote or line break,
//     which Glacier ids never do but the rule "a field containing a comma or
//     a double quote is always quoted" requires. Lines end in "\n"; the
//     description's own bytes, newlines included, are written unchanged. A
//     description ending in a backslash thus ends `\"` before its closing
//     quote, which only the line's remaining fields tell apart from an
//     escaped quote: the ambiguity is in AWS's rule, kept for fidelity.
//   - Per item, [SnapshotWriter.Add] and [Generate] allocate nothing: records
//     and output lines are appended to reused buffers, numbers with
//     strconv.AppendInt, and Generate reads records as slices of the frame
//     buffer. Creation dates are formatted by a days-to-civil conversion that
//     the tests hold equal to time.Time.Format over the whole range, about
//     three times faster (BenchmarkCreationDate). [ReadSnapshot] allocates one string per item, holding the
//     id, description and tree hash. Both passes over a million items take
//     well under a second on one core (BenchmarkSnapshotAndGenerate1M).
//
// Snapshot layout, version 1:
//
//	header  "permafrost-inventory-snapshot 1\n"
//	frame   kind (1 byte) | length (uint32 LE) | payload | CRC-32C of kind, length and payload (uint32 LE)
//	        kind 'I': items; records back to back, about 64 KiB of them per frame
//	        kind 'E': end; exactly one, last; uvarint count | uvarint total size
//	record  uvarint len(id) | uvarint len(desc) | id | desc |
//	        varint creation ms minus the previous record's (the first's minus 0) |
//	        uvarint size | tree hash (32 raw bytes)
//
// Values of type SnapshotWriter are not safe for concurrent use.
package inventory
