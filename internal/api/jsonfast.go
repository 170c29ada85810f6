package api

import (
	"net/http"
	"strconv"
	"sync"
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
func appendJSONString[T string | []byte](b []byte, s T) []byte {
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
		// At most 4 bytes converted: the copy stays on the stack.
		n := min(len(s)-i, utf8.UTFMax)
		r, size := utf8.DecodeRuneInString(string(s[i : i+n]))
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
	b = appendJSONString(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, v.AccountID, v.Name))
	b = append(b, `,"VaultName":`...)
	b = appendJSONString(b, v.Name)
	b = append(b, `,"CreationDate":`...)
	b = appendJSONString(b, v.CreatedAt.UTC().AppendFormat(scratch[:0], timeFormat))
	b = append(b, `,"LastInventoryDate":`...)
	if v.LastInventoryAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, v.LastInventoryAt.UTC().AppendFormat(scratch[:0], timeFormat))
	}
	b = append(b, `,"NumberOfArchives":`...)
	b = strconv.AppendInt(b, v.NumberOfArchives, 10)
	b = append(b, `,"SizeInBytes":`...)
	b = strconv.AppendInt(b, v.SizeInBytes+v.NumberOfArchives*glacier.PerArchiveOverhead, 10)
	return append(b, '}')
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
	b = append(b, `],"Marker":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		var scratch [128]byte
		b = appendJSONString(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, account, next))
	}
	return append(b, '}')
}

// writeVaultList writes a ListVaults answer.
func (s *Server) writeVaultList(w http.ResponseWriter, vs []glacier.Vault, account, next string) {
	bp := jsonBufs.Get().(*[]byte)
	b := s.appendVaultList((*bp)[:0], vs, account, next)
	writeJSONBytes(w, http.StatusOK, b)
	putJSONBuf(bp, b)
}
