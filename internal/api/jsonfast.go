package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/permafrost/permafrost/internal/glacier"
)

// The answers of the two hottest metadata reads, DescribeVault and
// ListVaults, are appended by hand into a pooled buffer: the very bytes
// encoding/json writes for DescribeVaultOutput and ListVaultsOutput
// (TestVaultJSONMatchesEncodingJSON, TestVaultJSONFromDomain), without
// reflection or allocation.

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

func putJSONBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledJSON {
		*bp = b[:0]
		jsonBufs.Put(bp)
	}
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

// appendVault appends json.Marshal(s.vaultOutput(*v)) straight from the
// vault: the ARN and dates formatted into a scratch buffer, not strings.
func (s *Server) appendVault(b []byte, v *glacier.Vault) []byte {
	var scratch [128]byte
	b = append(b, `{"VaultARN":`...)
	b = appendJSONBytes(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, v.AccountID, v.Name))
	b = append(b, `,"VaultName":`...)
	b = appendJSONString(b, v.Name)
	b = append(b, `,"CreationDate":`...)
	b = appendJSONTime(b, v.CreatedAt)
	b = append(b, `,"LastInventoryDate":`...)
	if v.LastInventoryAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendJSONTime(b, v.LastInventoryAt)
	}
	b = append(b, `,"NumberOfArchives":`...)
	b = strconv.AppendInt(b, v.NumberOfArchives, 10)
	b = append(b, `,"SizeInBytes":`...)
	b = strconv.AppendInt(b, v.SizeInBytes+v.NumberOfArchives*glacier.PerArchiveOverhead, 10)
	return append(b, '}')
}

// appendJSONBytes is appendJSONString for bytes: appended as they are
// when nothing in them needs escaping (the usual case), else through
// appendJSONString.
func appendJSONBytes(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendJSONString(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends the JSON string of formatTime(t).
func appendJSONTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		var scratch [40]byte
		return appendJSONBytes(b, t.AppendFormat(scratch[:0], timeFormat))
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b, '"', byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// writeVault writes a DescribeVault answer for v.
func (s *Server) writeVault(w http.ResponseWriter, v *glacier.Vault) {
	bp := jsonBufs.Get().(*[]byte)
	b := s.appendVault((*bp)[:0], v)
	writeJSONBytes(w, http.StatusOK, b)
	putJSONBuf(bp, b)
}

// appendVaultList appends the ListVaults answer for vs and the account's
// next vault ("" at the end): json.Marshal of the ListVaultsOutput
// handleListVaults used to build.
func (s *Server) appendVaultList(b []byte, vs []glacier.Vault, account, next string) []byte {
	b = append(b, `{"VaultList":[`...)
	for i := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendVault(b, &vs[i])
	}
	return s.appendListMarker(b, account, next)
}

// appendListMarker closes a ListVaults answer: the list, then its Marker,
// the ARN of account's vault next ("" at the end: null).
func (s *Server) appendListMarker(b []byte, account, next string) []byte {
	b = append(b, `],"Marker":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		var scratch [128]byte
		b = appendJSONBytes(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, account, next))
	}
	return append(b, '}')
}
