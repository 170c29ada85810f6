package sigv4

import (
	"sort"
	"strings"
)

// This file builds the pieces of the canonical request. Every rule here mirrors what aws-sdk-go-v2's
// aws/signer/v4 (the primary form) or botocore's SigV4Auth (the alternative forms) does; the package comment
// lists the rules and where each SDK implements them.

const upperHex = "0123456789ABCDEF"

// unreserved reports whether SigV4 leaves c unencoded: the RFC 3986 unreserved set A-Z a-z 0-9 - _ . ~.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// uriEncode percent-encodes every byte of s outside the unreserved set (and outside '/' when keepSlash), with
// upper-case hex. It is smithy-go's httpbinding.EscapePath and botocore's quote(s, safe='/~') for the path, and
// url.QueryEscape with "%20" for spaces (aws-sdk-go-v2 encodeQueryComponent) for the query.
func uriEncode(b *strings.Builder, s string, keepSlash bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

// appendURIEncode is uriEncode appending to b.
func appendURIEncode(b []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

func encodeString(s string, keepSlash bool) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	uriEncode(&b, s, keepSlash)
	return b.String()
}

// canonicalURI is aws-sdk-go-v2's canonical path: the path as it travelled on the wire (URL.EscapedPath), "/"
// when empty, URI-encoded once more with '/' kept. It does not normalize "." / ".." / "//" segments.
func canonicalURI(rawPath string) string {
	if rawPath == "" {
		return "/"
	}
	return encodeString(rawPath, true)
}

// appendCanonicalURI appends canonicalURI(rawPath) to b.
func appendCanonicalURI(b []byte, rawPath string) []byte {
	if rawPath == "" {
		return append(b, '/')
	}
	return appendURIEncode(b, rawPath, true)
}

// canonicalURIBotocore is botocore's SigV4Auth._normalize_url_path: RFC 3986 dot-segment removal and collapse of
// empty segments (botocore.utils.remove_dot_segments), then the same second encoding. It differs from
// canonicalURI only for paths with "." or ".." segments or with "//".
func canonicalURIBotocore(rawPath string) string {
	return encodeString(removeDotSegments(rawPath), true)
}

// removeDotSegments is botocore.utils.normalize_url_path, line for line: a trailing slash survives only when a
// segment remains, the leading slash always survives.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// queryPair is one decoded query parameter.
type queryPair struct{ key, value string }

// parseQuery splits a raw query into decoded pairs in wire order, the way Go's url.ParseQuery does
// (aws-sdk-go-v2 signs req.URL.Query()): pieces separated by '&', empty pieces skipped, key and value split
// at the first '=', '+' decoded as a space, %XX decoded. Unlike url.ParseQuery it never drops a pair: a
// malformed escape keeps its '%' literally and a ';' is an ordinary byte, so everything on the wire is signed.
func parseQuery(raw string) []queryPair {
	if raw == "" {
		return nil
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		pairs = append(pairs, queryPair{queryUnescape(k), queryUnescape(v)})
	}
	return pairs
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			b = append(b, ' ')
			continue
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 2
					continue
				}
			}
		}
		b = append(b, c)
	}
	return string(b)
}

// canonicalQuery encodes every pair (key and value separately), sorts by encoded key then encoded value and
// joins them as k=v with '&' (aws-sdk-go-v2 v4Internal.EncodeQuery; botocore sorts the already-encoded wire
// pieces, which is the same string for anything either SDK sends). X-Amz-Signature is left out when presigned.
func canonicalQuery(pairs []queryPair, presigned bool) string {
	if len(pairs) == 0 {
		return ""
	}
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryPair{encodeString(p.key, false), encodeString(p.value, false)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// headerValues returns every value of the header named lower (a lower-case name) in r.Header. Keys are
// normally canonical MIME keys (net/http); any other spelling is found too, so the lookup never depends on
// how the map was built. Values of differently spelled keys are concatenated in key order.
func headerValues(h map[string][]string, lower string) []string {
	var buf [64]byte
	if k := knownCanonicalKey(lower); k != "" {
		if v, ok := h[k]; ok {
			return v
		}
	} else if len(lower) <= len(buf) {
		// The canonical key built on the stack: a map index with string(bytes) does not allocate.
		if v, ok := h[string(appendCanonicalKey(buf[:0], lower))]; ok {
			return v
		}
	} else if v, ok := h[canonicalKey(lower)]; ok {
		return v
	}
	var keys []string
	for k := range h {
		if strings.EqualFold(k, lower) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return h[keys[0]]
	}
	sort.Strings(keys)
	var all []string
	for _, k := range keys {
		all = append(all, h[k]...)
	}
	return all
}

// knownCanonicalKey is canonicalKey for the names looked up on every
// request, "" for others.
func knownCanonicalKey(lower string) string {
	switch lower {
	case "authorization":
		return "Authorization"
	case "x-amz-date":
		return "X-Amz-Date"
	case "date":
		return "Date"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "x-amz-glacier-version":
		return "X-Amz-Glacier-Version"
	case "host":
		return "Host"
	}
	return ""
}

// canonicalKey is textproto.CanonicalMIMEHeaderKey for an ASCII name: upper case at the start and after each
// hyphen, lower case elsewhere. (net/textproto is not imported: this package stays off net/....)
func canonicalKey(lower string) string {
	return string(appendCanonicalKey(make([]byte, 0, len(lower)), lower))
}

// appendCanonicalKey appends canonicalKey(lower) to b.
func appendCanonicalKey(b []byte, lower string) []byte {
	up := true
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if up && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !up && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		up = lower[i] == '-'
	}
	return b
}

// stripExcessSpaces is aws-sdk-go-v2's v4Internal.StripExcessSpaces: trim leading and trailing ' ' and
// collapse runs of ' ' (spaces only, not tabs).
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// trimAllGo is aws-sdk-go-v2's value rule: strings.TrimSpace(StripExcessSpaces(v)).
func trimAllGo(v string) string { return strings.TrimSpace(stripExcessSpaces(v)) }

// pyWhitespace is the ASCII whitespace Python's str.split() splits on.
const pyWhitespace = " \t\n\v\f\r\x1c\x1d\x1e\x1f"

// trimAllPy is botocore's SigV4Auth._header_value: ' '.join(value.split()), which also folds tabs and other
// ASCII whitespace into single spaces.
func trimAllPy(v string) string {
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool {
		return r < 0x80 && strings.ContainsRune(pyWhitespace, r)
	}), " ")
}

// canonicalHeaders renders the canonical header block (each "name:value\n") for the signed headers.
// host is the value for the host header (requestHost or a variant of it); everything else, content-length
// included, comes from the header map, multiple values joined with ','. A signed header the request lacks is
// rendered with an empty value, which is also how an SDK renders a header it signed with an empty value.
// With botocore false the values follow aws-sdk-go-v2 (host: StripExcessSpaces; others: TrimSpace of
// StripExcessSpaces); with botocore true they follow botocore (' '.join(v.split()) for every header).
func canonicalHeaders(r *Request, signed []string, host string, botocore bool) string {
	if !botocore {
		return string(appendCanonicalHeaders(nil, r, signed, host))
	}
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		if name == "host" {
			b.WriteString(trimAllPy(host))
		} else {
			for i, v := range headerValues(r.Header, name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimAllPy(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// appendCanonicalHeaders appends the aws-sdk-go-v2 form of the canonical header block (canonicalHeaders with
// botocore false) to b.
func appendCanonicalHeaders(b []byte, r *Request, signed []string, host string) []byte {
	for _, name := range signed {
		b = append(b, name...)
		b = append(b, ':')
		if name == "host" {
			b = append(b, stripExcessSpaces(host)...)
		} else {
			for i, v := range headerValues(r.Header, name) {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, trimAllGo(v)...)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// requestHost is r.Host, or the Host entry of the header map when r.Host is empty.
func requestHost(r *Request) string {
	if r.Host != "" {
		return r.Host
	}
	if v := headerValues(r.Header, "host"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// stripDefaultPort removes a trailing ":80" or ":443". Both SDKs sign the host without its scheme's default
// port (aws-sdk-go-v2 SanitizeHostForHeader, botocore _host_from_url); a URL presigned by aws-sdk-go-v2 for
// "https://host:443/…" still carries the port, so the client then sends it in Host. This package does not know
// the scheme, so either default port is removed.
func stripDefaultPort(host string) string {
	for _, p := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, p); ok && h != "" && !strings.HasSuffix(h, ":") {
			return h
		}
	}
	return host
}
