package glacier

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// ID lengths follow the shapes of AWS's documented examples
// (data-plane.md §3.3).
const (
	archiveIDLen = 138
	uploadIDLen  = 92
)

// randomURLSafe returns n characters of URL-safe base64 from a CSPRNG,
// the first of them a letter or digit: an id that starts with '-' is read
// as an option by argument parsers (the aws CLI's argparse refuses
// "--upload-id -abc..."), so a user could not pass it on a command line.
func randomURLSafe(n int) string {
	b := make([]byte, (n*6+7)/8+1)
	rand.Read(b)
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// 62 does not divide 256; the bias of one modulo draw is harmless for an id.
	first := alnum[int(b[0])%len(alnum)]
	return string(first) + base64.RawURLEncoding.EncodeToString(b[1:])[:n-1]
}

func newArchiveID() string { return randomURLSafe(archiveIDLen) }
func newUploadID() string  { return randomURLSafe(uploadIDLen) }

// NewBlobKey returns a fresh blob key, fanned out over 256 directories.
// Tools that write blobs for the service (migrate) use it too.
func NewBlobKey() string { return newBlobKey() }

func newBlobKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return "a/" + h[:2] + "/" + h
}

// validArchiveID reports whether id could have been issued by a Glacier
// service: URL-safe base64 characters of a plausible length.
func validArchiveID(id string) bool {
	return len(id) >= 1 && len(id) <= 1024 && urlSafe(id)
}

func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newMessageID returns a random (version 4) UUID, the shape of SNS message
// ids.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ValidBlobKey reports whether key has the syntax of the BlobStore
// contract: segments of [a-z0-9-] joined by single slashes, no leading or
// trailing slash. Stores add their own length limits.
func ValidBlobKey(key string) bool {
	if key == "" {
		return false
	}
	prev := byte('/') // a leading '/' is an empty first segment
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '/':
			if prev == '/' {
				return false
			}
		default:
			return false
		}
		prev = c
	}
	return prev != '/'
}
