package inventory

import "unicode/utf8"

// jsonSafe[b] and jsonSafeHTML[b] report whether ASCII byte b is written
// unescaped: everything from 0x20 up but '"' and '\\' (and, with HTML
// escaping, '<', '>' and '&').
var jsonSafe, jsonSafeHTML = func() (t, h [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
		h[b] = t[b] && b != '<' && b != '>' && b != '&'
	}
	return t, h
}()

// AppendJSONString appends s as a quoted JSON string, byte for byte as
// encoding/json writes it, without reflection or allocation: short escapes
// for \b \f \n \r \t " \\, \u00XX for other control bytes (and for < > &
// when escapeHTML, encoding/json's default), \u2028 and \u2029 escaped, and
// each invalid UTF-8 byte replaced by \ufffd. The inventory writes archive
// ids and descriptions with it (escapeHTML false), the API its
// hand-written answers (escapeHTML true).
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S, escapeHTML bool) []byte {
	ok := &jsonSafe
	if escapeHTML {
		ok = &jsonSafeHTML
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if ok[b] {
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
		// At most utf8.UTFMax bytes converted: no allocation for []byte.
		c, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
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
