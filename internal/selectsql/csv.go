package selectsql

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// CSVInput are the InputSerialization.csv options; empty members take
// their defaults.
type CSVInput struct {
	FileHeaderInfo       string // USE, IGNORE or NONE (default NONE)
	Comments             string // a record starting with it is skipped
	QuoteEscapeCharacter string // default the quote character
	RecordDelimiter      string // default "\n"
	FieldDelimiter       string // default ","
	QuoteCharacter       string // default `"`
}

// CSVOutput are the OutputSerialization.csv options.
type CSVOutput struct {
	QuoteFields          string // ALWAYS or ASNEEDED (default ASNEEDED)
	QuoteEscapeCharacter string
	RecordDelimiter      string
	FieldDelimiter       string
	QuoteCharacter       string
}

// MaxRecordSize is the longest input or output record, in bytes.
const MaxRecordSize = 1 << 20

// MaxColumns is the most fields a record may have.
const MaxColumns = 1 << 20

func oneChar(name, v string) error {
	if v != "" && (utf8.RuneCountInString(v) != 1 || !utf8.ValidString(v)) {
		return fmt.Errorf("%s must be a single character, not %q", name, v)
	}
	return nil
}

func recordDelim(name, v string) error {
	if v != "" && (utf8.RuneCountInString(v) > 2 || !utf8.ValidString(v)) {
		return fmt.Errorf("%s must be one or two characters, not %q", name, v)
	}
	return nil
}

// Normalize checks the input options and fills in the defaults.
func (c CSVInput) Normalize() (CSVInput, error) {
	switch strings.ToUpper(c.FileHeaderInfo) {
	case "":
		c.FileHeaderInfo = "NONE"
	case "USE", "IGNORE", "NONE":
		c.FileHeaderInfo = strings.ToUpper(c.FileHeaderInfo)
	default:
		return c, fmt.Errorf("FileHeaderInfo must be USE, IGNORE or NONE, not %q", c.FileHeaderInfo)
	}
	for _, e := range []error{oneChar("Comments", c.Comments), oneChar("QuoteEscapeCharacter", c.QuoteEscapeCharacter),
		oneChar("FieldDelimiter", c.FieldDelimiter), oneChar("QuoteCharacter", c.QuoteCharacter),
		recordDelim("RecordDelimiter", c.RecordDelimiter)} {
		if e != nil {
			return c, e
		}
	}
	c.RecordDelimiter = def(c.RecordDelimiter, "\n")
	c.FieldDelimiter = def(c.FieldDelimiter, ",")
	c.QuoteCharacter = def(c.QuoteCharacter, `"`)
	c.QuoteEscapeCharacter = def(c.QuoteEscapeCharacter, c.QuoteCharacter)
	return c, distinct(c.FieldDelimiter, c.RecordDelimiter, c.QuoteCharacter, c.QuoteEscapeCharacter)
}

// distinct checks that the delimiters, the quote and the escape can be
// told apart: none is part of the record delimiter or equal to another
// (but the escape may be the quote, which then escapes itself).
func distinct(fld, rec, quote, esc string) error {
	if fld == quote || fld == esc || strings.Contains(rec, fld) {
		return fmt.Errorf("FieldDelimiter %q must differ from QuoteCharacter, QuoteEscapeCharacter and RecordDelimiter", fld)
	}
	if strings.Contains(rec, quote) || strings.Contains(rec, esc) {
		return fmt.Errorf("RecordDelimiter %q must not contain the QuoteCharacter or QuoteEscapeCharacter", rec)
	}
	return nil
}

// Normalize checks the output options and fills in the defaults.
func (c CSVOutput) Normalize() (CSVOutput, error) {
	switch strings.ToUpper(c.QuoteFields) {
	case "":
		c.QuoteFields = "ASNEEDED"
	case "ALWAYS", "ASNEEDED":
		c.QuoteFields = strings.ToUpper(c.QuoteFields)
	default:
		return c, fmt.Errorf("QuoteFields must be ALWAYS or ASNEEDED, not %q", c.QuoteFields)
	}
	for _, e := range []error{oneChar("QuoteEscapeCharacter", c.QuoteEscapeCharacter),
		oneChar("FieldDelimiter", c.FieldDelimiter), oneChar("QuoteCharacter", c.QuoteCharacter),
		recordDelim("RecordDelimiter", c.RecordDelimiter)} {
		if e != nil {
			return c, e
		}
	}
	c.RecordDelimiter = def(c.RecordDelimiter, "\n")
	c.FieldDelimiter = def(c.FieldDelimiter, ",")
	c.QuoteCharacter = def(c.QuoteCharacter, `"`)
	c.QuoteEscapeCharacter = def(c.QuoteEscapeCharacter, c.QuoteCharacter)
	return c, distinct(c.FieldDelimiter, c.RecordDelimiter, c.QuoteCharacter, c.QuoteEscapeCharacter)
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Reader reads CSV records one at a time from a stream.
type Reader struct {
	r                          *bufio.Reader
	opt                        CSVInput
	rec, fld, quote, esc, comm []byte
	fields                     []string
	buf                        []byte
	ends                       []int
	n                          int64 // records read, including the header
	stripCR                    bool
	// special marks the bytes that may start a delimiter, quote or escape.
	special [256]bool
}

// NewReader reads records with the (normalized) options.
func NewReader(rd io.Reader, opt CSVInput) *Reader {
	r := &Reader{
		r: bufio.NewReaderSize(rd, 1<<16), opt: opt,
		rec: []byte(opt.RecordDelimiter), fld: []byte(opt.FieldDelimiter), quote: []byte(opt.QuoteCharacter),
		esc: []byte(opt.QuoteEscapeCharacter), comm: []byte(opt.Comments),
		stripCR: opt.RecordDelimiter == "\n",
	}
	for _, d := range []string{opt.RecordDelimiter, opt.FieldDelimiter, opt.QuoteCharacter, opt.QuoteEscapeCharacter, opt.Comments} {
		if d != "" {
			r.special[d[0]] = true
		}
	}
	return r
}

// Line is the number of the last record read (1-based, counting the
// header and skipped comment lines).
func (r *Reader) Line() int64 { return r.n }

// at reports whether the input continues with d after the byte c just
// read, consuming the rest of d if so.
func (r *Reader) at(c byte, d []byte) bool {
	if len(d) == 0 || c != d[0] {
		return false
	}
	if len(d) == 1 {
		return true
	}
	rest, err := r.r.Peek(len(d) - 1)
	if err != nil || !bytes.Equal(rest, d[1:]) {
		return false
	}
	r.r.Discard(len(d) - 1)
	return true
}

// next consumes d if the input continues with it.
func (r *Reader) next(d []byte) bool {
	if len(d) == 0 {
		return false
	}
	p, err := r.r.Peek(len(d))
	if err != nil || !bytes.Equal(p, d) {
		return false
	}
	r.r.Discard(len(d))
	return true
}

// Read returns the next record's fields (valid until the next call), or
// io.EOF. Blank records and comment records are skipped.
func (r *Reader) Read() ([]string, error) {
	for {
		fields, blank, err := r.read()
		if err != nil {
			return nil, err
		}
		if !blank {
			return fields, nil
		}
	}
}

func (r *Reader) read() (fields []string, blank bool, err error) {
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	if _, err := r.r.Peek(1); err != nil {
		return nil, false, err // io.EOF at a record boundary
	}
	r.n++
	if r.next(r.comm) {
		for {
			c, err := r.r.ReadByte()
			if err == io.EOF || err == nil && r.at(c, r.rec) {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, err
			}
		}
	}
	quoted, inQuotes, atStart := false, false, true
	endField := func(last bool) error {
		if last && !quoted && r.stripCR && len(r.buf) > 0 && r.buf[len(r.buf)-1] == '\r' && (len(r.ends) == 0 || r.ends[len(r.ends)-1] < len(r.buf)) {
			r.buf = r.buf[:len(r.buf)-1]
		}
		r.ends = append(r.ends, len(r.buf))
		if len(r.ends) > MaxColumns {
			return fmt.Errorf("record %d has more than %d columns", r.n, MaxColumns)
		}
		quoted, atStart = false, true
		return nil
	}
	for {
		// Fast path: copy the run of bytes that cannot start a delimiter,
		// a quote or an escape straight from the buffer.
		if n := r.r.Buffered(); n > 0 {
			chunk, _ := r.r.Peek(n)
			i := 0
			for i < len(chunk) && !r.special[chunk[i]] {
				i++
			}
			if i > 0 {
				r.buf = append(r.buf, chunk[:i]...)
				r.r.Discard(i)
				if !inQuotes {
					atStart = false
				}
				if len(r.buf) > MaxRecordSize {
					return nil, false, fmt.Errorf("record %d is larger than %d bytes", r.n, MaxRecordSize)
				}
				continue
			}
		}
		c, err := r.r.ReadByte()
		if err == io.EOF {
			if inQuotes {
				return nil, false, fmt.Errorf("record %d: unterminated quoted field at the end of the input", r.n)
			}
			break
		}
		if err != nil {
			return nil, false, err
		}
		if len(r.buf) > MaxRecordSize {
			return nil, false, fmt.Errorf("record %d is larger than %d bytes", r.n, MaxRecordSize)
		}
		if inQuotes {
			switch {
			case len(r.esc) > 0 && !bytes.Equal(r.esc, r.quote) && r.at(c, r.esc):
				// An escape character: the next quote (or escape) is data.
				if r.next(r.quote) {
					r.buf = append(r.buf, r.quote...)
				} else if r.next(r.esc) {
					r.buf = append(r.buf, r.esc...)
				} else {
					r.buf = append(r.buf, r.esc...)
				}
			case r.at(c, r.quote):
				if next, err := r.r.Peek(len(r.quote)); err == nil && bytes.Equal(next, r.quote) && bytes.Equal(r.esc, r.quote) {
					r.r.Discard(len(r.quote))
					r.buf = append(r.buf, r.quote...)
				} else {
					inQuotes = false
				}
			default:
				r.buf = append(r.buf, c)
			}
			continue
		}
		switch {
		case r.at(c, r.fld):
			if err := endField(false); err != nil {
				return nil, false, err
			}
			continue
		case r.at(c, r.rec):
			goto done
		case atStart && r.at(c, r.quote):
			quoted, inQuotes, atStart = true, true, false
			continue
		}
		atStart = false
		r.buf = append(r.buf, c)
	}
done:
	if len(r.ends) == 0 && !quoted && (len(r.buf) == 0 || r.stripCR && string(r.buf) == "\r") {
		return nil, true, nil
	}
	if err := endField(true); err != nil {
		return nil, false, err
	}
	// One string for the record, sliced into fields.
	all := string(r.buf)
	r.fields = r.fields[:0]
	start := 0
	for _, e := range r.ends {
		r.fields = append(r.fields, all[start:e])
		start = e
	}
	return r.fields, false, nil
}

// Writer writes CSV records.
type Writer struct {
	w       *bufio.Writer
	opt     CSVOutput
	always  bool
	special []string
	n       int64
}

// NewWriter writes records with the (normalized) options.
func NewWriter(out io.Writer, opt CSVOutput) *Writer {
	w := &Writer{
		w: bufio.NewWriterSize(out, 1<<16), opt: opt, always: opt.QuoteFields == "ALWAYS",
		special: []string{opt.FieldDelimiter, opt.QuoteCharacter, opt.QuoteEscapeCharacter, "\n", "\r"},
	}
	// Any character of the record delimiter: a field ending with the
	// first of two would otherwise run into the delimiter.
	for _, c := range opt.RecordDelimiter {
		w.special = append(w.special, string(c))
	}
	return w
}

// Write writes one record.
func (w *Writer) Write(fields []string) error {
	size := 0
	for i, f := range fields {
		if i > 0 {
			w.w.WriteString(w.opt.FieldDelimiter)
		}
		size += len(f)
		q := w.always
		if !q {
			for _, s := range w.special {
				if strings.Contains(f, s) {
					q = true
					break
				}
			}
		}
		if !q {
			w.w.WriteString(f)
			continue
		}
		w.w.WriteString(w.opt.QuoteCharacter)
		for len(f) > 0 {
			i := strings.Index(f, w.opt.QuoteCharacter)
			j := -1
			if w.opt.QuoteEscapeCharacter != w.opt.QuoteCharacter {
				j = strings.Index(f, w.opt.QuoteEscapeCharacter)
			}
			if i < 0 && j < 0 {
				w.w.WriteString(f)
				break
			}
			k, s := i, w.opt.QuoteCharacter
			if i < 0 || j >= 0 && j < i {
				k, s = j, w.opt.QuoteEscapeCharacter
			}
			w.w.WriteString(f[:k])
			w.w.WriteString(w.opt.QuoteEscapeCharacter)
			w.w.WriteString(s)
			f = f[k+len(s):]
		}
		w.w.WriteString(w.opt.QuoteCharacter)
	}
	if size > MaxRecordSize {
		return fmt.Errorf("output record %d is larger than %d bytes", w.n+1, MaxRecordSize)
	}
	w.n++
	_, err := w.w.WriteString(w.opt.RecordDelimiter)
	return err
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }

// Stats count a run's records.
type Stats struct {
	RecordsRead, RecordsWritten, BytesRead int64
}

// countingReader counts bytes read.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Run streams the input through the query into out: records are read,
// filtered and projected one at a time, so memory does not grow with the
// input. A data error stops the run with an error naming the record.
func Run(q *Query, in io.Reader, inOpt CSVInput, out io.Writer, outOpt CSVOutput, now time.Time) (Stats, error) {
	var st Stats
	cr := &countingReader{r: in}
	r := NewReader(cr, inOpt)
	w := NewWriter(out, outOpt)
	var header []string
	if inOpt.FileHeaderInfo != "NONE" {
		h, err := r.Read()
		if err != nil && err != io.EOF {
			st.BytesRead = cr.n
			return st, err
		}
		if inOpt.FileHeaderInfo == "USE" {
			header = append([]string(nil), h...)
		}
	}
	q.Bind(header)
	var buf []string
	for {
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		st.BytesRead = cr.n
		if err != nil {
			return st, err
		}
		st.RecordsRead++
		res, ok, err := q.Eval(fields, now, buf)
		if err != nil {
			var re *RuntimeError
			if errors.As(err, &re) {
				return st, fmt.Errorf("record %d: %s", r.Line(), re.Msg)
			}
			return st, err
		}
		if !ok {
			continue
		}
		buf = res
		if err := w.Write(res); err != nil {
			return st, err
		}
		st.RecordsWritten++
	}
	st.BytesRead = cr.n
	return st, w.Flush()
}
