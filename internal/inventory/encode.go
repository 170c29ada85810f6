package inventory

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Date layouts of the output (§6.2): creation dates carry milliseconds, the
// inventory date whole seconds.
const (
	creationDateLayout  = "2006-01-02T15:04:05.000Z"
	inventoryDateLayout = "2006-01-02T15:04:05Z"
)

// appendCreationDate appends the creation date of millisecond ms.
func appendCreationDate(dst []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(dst, creationDateLayout)
}

// jsonSafe[b] reports whether ASCII byte b is written unescaped in a JSON
// string: everything from 0x20 up except '"' and '\\'.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s as a quoted JSON string, byte for byte as
// encoding/json writes it with HTML escaping off: short escapes for
// \b \f \n \r \t " \\, \u00XX for other control bytes, \u2028 and \u2029
// escaped, and each invalid UTF-8 byte replaced by \ufffd.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONItem appends rec as one ArchiveList element (§6.2).
func appendJSONItem(dst []byte, rec *record) []byte {
	dst = append(dst, `{"ArchiveId":`...)
	dst = appendJSONString(dst, rec.id)
	dst = append(dst, `,"ArchiveDescription":`...)
	dst = appendJSONString(dst, rec.desc)
	dst = append(dst, `,"CreationDate":"`...)
	dst = appendCreationDate(dst, rec.ms)
	dst = append(dst, `","Size":`...)
	dst = strconv.AppendInt(dst, rec.size, 10)
	dst = append(dst, `,"SHA256TreeHash":"`...)
	dst = appendHex(dst, rec.hash[:])
	return append(dst, `"}`...)
}

// csvHeader is the first line of CSV output (§6.3).
const csvHeader = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"

// appendCSVQuoted appends s in double quotes with each '"' written as \"
// and every other byte, backslashes included, unchanged (§6.3).
func appendCSVQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i, b := range s {
		if b == '"' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', '"')
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// csvNeedsQuotes reports whether a field must be quoted: it holds a comma,
// a double quote or a line break.
func csvNeedsQuotes(s []byte) bool {
	for _, b := range s {
		if b == ',' || b == '"' || b == '\n' || b == '\r' {
			return true
		}
	}
	return false
}

// appendCSVItem appends rec as one CSV line (§6.3): the description always
// quoted, the archive id only when it must be, the rest never.
func appendCSVItem(dst []byte, rec *record) []byte {
	if csvNeedsQuotes(rec.id) {
		dst = appendCSVQuoted(dst, rec.id)
	} else {
		dst = append(dst, rec.id...)
	}
	dst = append(dst, ',')
	dst = appendCSVQuoted(dst, rec.desc)
	dst = append(dst, ',')
	dst = appendCreationDate(dst, rec.ms)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, rec.size, 10)
	dst = append(dst, ',')
	dst = appendHex(dst, rec.hash[:])
	return append(dst, '\n')
}
