package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/inventory"
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

// appendVault appends json.Marshal(s.vaultOutput(*v)) straight from the
// vault: the ARN and dates formatted into a scratch buffer, not strings.
func (s *Server) appendVault(b []byte, v *glacier.Vault) []byte {
	var scratch [128]byte
	b = append(b, `{"VaultARN":`...)
	b = inventory.AppendJSONString(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, v.AccountID, v.Name), true)
	b = append(b, `,"VaultName":`...)
	b = inventory.AppendJSONString(b, v.Name, true)
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

// appendJSONTime appends the JSON string of formatTime(t).
func appendJSONTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		var scratch [40]byte
		return inventory.AppendJSONString(b, t.AppendFormat(scratch[:0], timeFormat), true)
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
		b = inventory.AppendJSONString(b, glacier.AppendVaultARN(scratch[:0], s.Service.Region, account, next), true)
	}
	return append(b, '}')
}
