package api

import (
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The answers of the two hottest metadata reads, DescribeVault and
// ListVaults, are appended by hand into a pooled buffer: the very bytes
// encoding/json writes for DescribeVaultOutput and ListVaultsOutput
// (TestVaultJSONMatchesEncodingJSON), without reflection or allocation.

var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledJSON bounds the buffers kept in jsonBufs.
const maxPooledJSON = 64 << 10

// writeJSONBytes writes b as the JSON body with status, as writeJSON does.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	vals := make([]string, 2) // both header values in one allocation
	vals[0], vals[1] = "application/json", strconv.Itoa(len(b))
	h["Content-Type"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	w.WriteHeader(status)
	w.Write(b)
}

// writeVaultJSON writes a DescribeVault answer.
func writeVaultJSON(w http.ResponseWriter, v *DescribeVaultOutput) {
	bp := jsonBufs.Get().(*[]byte)
	b := appendVaultJSON((*bp)[:0], v)
	writeJSONBytes(w, http.StatusOK, b)
	putJSONBuf(bp, b)
}

// writeVaultListJSON writes a ListVaults answer.
func writeVaultListJSON(w http.ResponseWriter, out *ListVaultsOutput) {
	bp := jsonBufs.Get().(*[]byte)
	b := appendVaultListJSON((*bp)[:0], out)
	writeJSONBytes(w, http.StatusOK, b)
	putJSONBuf(bp, b)
}

func putJSONBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledJSON {
		*bp = b[:0]
		jsonBufs.Put(bp)
	}
}

// appendVaultJSON appends json.Marshal(v).
func appendVaultJSON(b []byte, v *DescribeVaultOutput) []byte {
	b = append(b, `{"VaultARN":`...)
	b = appendJSONString(b, v.VaultARN)
	b = append(b, `,"VaultName":`...)
	b = appendJSONString(b, v.VaultName)
	b = append(b, `,"CreationDate":`...)
	b = appendJSONString(b, v.CreationDate)
	b = append(b, `,"LastInventoryDate":`...)
	if v.LastInventoryDate == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *v.LastInventoryDate)
	}
	b = append(b, `,"NumberOfArchives":`...)
	b = strconv.AppendInt(b, v.NumberOfArchives, 10)
	b = append(b, `,"SizeInBytes":`...)
	b = strconv.AppendInt(b, v.SizeInBytes, 10)
	return append(b, '}')
}

// appendVaultListJSON appends json.Marshal(out).
func appendVaultListJSON(b []byte, out *ListVaultsOutput) []byte {
	b = append(b, `{"VaultList":`...)
	if out.VaultList == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range out.VaultList {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendVaultJSON(b, &out.VaultList[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"Marker":`...)
	if out.Marker == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *out.Marker)
	}
	return append(b, '}')
}

// appendJSONString appends s as encoding/json writes a string (with its
// default HTML escaping): '"' and '\\' escaped, \b \f \n \r \t by name,
// other control characters and < > & as \u00XX, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 as \u2028 and \u2029.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
