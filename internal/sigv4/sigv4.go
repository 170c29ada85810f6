package sigv4

import (
	"strconv"
	"strings"
	"time"
)

// EmptySHA256 is the hex SHA-256 of an empty body, the payload hash of every request without a body.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// UnsignedPayload is the payload-hash placeholder of a request whose body is not signed.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// DefaultMaxSkew is the clock skew allowed when Options.MaxSkew is zero.
const DefaultMaxSkew = 15 * time.Minute

// MaxExpires is the longest X-Amz-Expires accepted on a presigned request: one week, as in S3.
const MaxExpires = 7 * 24 * time.Hour

// basicISO is the ISO 8601 basic format of X-Amz-Date and of the string to sign.
const basicISO = "20060102T150405Z"

// Request is the part of an HTTP request that SigV4 covers, free of net/http. The package comment says how to
// fill it from an *http.Request.
type Request struct {
	Method   string
	RawPath  string              // the path exactly as received on the wire (URL.EscapedPath / RequestURI path part)
	RawQuery string              // the query exactly as received, without the '?'
	Header   map[string][]string // canonical MIME header keys, as in http.Header
	Host     string              // the Host header value (net/http moves it out of Header)
}

// Auth is a parsed signature: from the Authorization header or from presigned X-Amz-* query parameters. Parse
// fills it from a request; Verify checks it against the same request.
type Auth struct {
	AccessKeyID   string
	Date          string // scope date YYYYMMDD
	Region        string
	Service       string
	SignedHeaders []string // lower case, as listed
	Signature     string
	Time          time.Time // request time from X-Amz-Date (header or query) or Date header, in UTC
	Presigned     bool
	// Expires is X-Amz-Expires of a presigned request; zero when the URL carries none (aws-sdk-go-v2's
	// PresignHTTP does not add it), in which case the ordinary skew window applies instead.
	Expires time.Duration
	// SecurityToken is X-Amz-Security-Token, from the header or (presigned) the query. Both SDKs sign it;
	// checking that it belongs to AccessKeyID is the caller's job.
	SecurityToken string

	signedBuf [8]string // backing array of SignedHeaders for up to 8 names
}

// Options are the server's facts Verify checks the credential scope and the request time against.
type Options struct {
	// Service is the scope's service name; empty means "glacier".
	Service string
	// Regions lists the accepted scope regions; empty accepts any region.
	Regions []string
	// MaxSkew is the allowed distance between the request time and now, either way; zero means
	// DefaultMaxSkew (15 minutes).
	MaxSkew time.Duration
}

// Parse extracts the signature from r: from the Authorization header, or, when the query carries
// X-Amz-Signature, X-Amz-Algorithm or X-Amz-Credential, from the presigned query parameters. It checks only
// the syntax (a Kind of MissingAuth or Incomplete); Verify checks the rest. Its errors are *Error.
func Parse(r Request) (*Auth, error) {
	a := new(Auth)
	if err := ParseInto(a, r); err != nil {
		return nil, err
	}
	return a, nil
}

// ParseInto is Parse filling *a (a caller's own Auth, e.g. inside a larger
// per-request value: no allocation of its own). On error *a is
// unspecified.
func ParseInto(a *Auth, r Request) error {
	_, err := parseInto(a, r)
	return err
}

func parseInto(into *Auth, r Request) (*Auth, error) {
	var authz []string
	for _, v := range headerValues(r.Header, "authorization") {
		if strings.TrimSpace(v) != "" {
			authz = append(authz, v)
		}
	}
	pairs := parseQuery(r.RawQuery)
	presigned := false
	for _, p := range pairs {
		switch p.key {
		case "X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential":
			presigned = true
		}
	}
	switch {
	case len(authz) > 0 && presigned:
		return nil, errorf(Incomplete, "%s", msgBothAuth)
	case len(authz) > 1:
		return nil, errorf(Incomplete, "Authorization header must be sent only once")
	case len(authz) == 1:
		return parseHeader(r, strings.TrimSpace(authz[0]), into)
	case presigned:
		return parsePresigned(r, pairs, into)
	}
	return nil, errorf(MissingAuth, "%s", msgMissingAuth)
}

// parseHeader parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". Like AWS it splits the
// parameters at commas and at whitespace, so a stray space inside a value is reported as a parameter without
// '=' (AWS's IncompleteSignatureException wording).
func parseHeader(r Request, header string, into *Auth) (*Auth, error) {
	amzDate := firstHeader(r, "x-amz-date")
	date := ""
	if amzDate == "" { // the Date header counts only without X-Amz-Date
		date = firstHeader(r, "date")
	}
	haveDate := amzDate != "" || date != ""

	algo, rest, _ := strings.Cut(header, " ")
	if algo != Algorithm {
		return nil, incompleteHeader(header, false, false, false, haveDate)
	}
	var cred, signed, sig string
	for rest != "" {
		// The pieces are what strings.FieldsFunc would give at ',', ' ' and '\t' (all ASCII, so a byte scan
		// splits exactly where a rune scan does), without the slice.
		i := 0
		for i < len(rest) && isParamSep(rest[i]) {
			i++
		}
		rest = rest[i:]
		if rest == "" {
			break
		}
		j := 0
		for j < len(rest) && !isParamSep(rest[j]) {
			j++
		}
		piece := rest[:j]
		rest = rest[j:]
		k, v, ok := strings.Cut(piece, "=")
		if !ok {
			return nil, errorf(Incomplete, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", piece, header)
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &cred
		case "SignedHeaders":
			dst = &signed
		case "Signature":
			dst = &sig
		default:
			continue // unknown parameters are ignored
		}
		if *dst != "" {
			return nil, errorf(Incomplete, "Authorization header has more than one '%s' parameter. Authorization=%s", k, header)
		}
		*dst = v
	}
	if cred == "" || signed == "" || sig == "" || !haveDate {
		return nil, incompleteHeader(header, cred != "", signed != "", sig != "", haveDate)
	}

	a := into
	*a = Auth{Signature: sig, SecurityToken: firstHeader(r, "x-amz-security-token")}
	if err := a.setCredential(cred); err != nil {
		return nil, err
	}
	var ok bool
	if amzDate != "" {
		a.Time, ok = parseBasicISO(amzDate)
		if !ok {
			return nil, errorf(Incomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
		}
	} else {
		a.Time, ok = parseDateHeader(date)
		if !ok {
			return nil, errorf(Incomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", date)
		}
	}
	if err := a.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	return a, nil
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func parsePresigned(r Request, pairs []queryPair, into *Auth) (*Auth, error) {
	const (
		pAlgo = iota
		pCred
		pDate
		pExpires
		pSigned
		pSig
		pToken
		nParams
	)
	names := [nParams]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
		"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}
	var vals [nParams]string
	var seen [nParams]bool
	for _, p := range pairs {
		for i, n := range names {
			if p.key == n {
				if seen[i] {
					return nil, errorf(Incomplete, "%s", msgQueryParams)
				}
				seen[i], vals[i] = true, p.value
			}
		}
	}
	for _, i := range []int{pAlgo, pCred, pDate, pSigned, pSig} {
		if vals[i] == "" {
			return nil, errorf(Incomplete, "%s", msgQueryParams)
		}
	}
	if vals[pAlgo] != Algorithm {
		return nil, errorf(Incomplete, "%s", msgQueryAlgo)
	}
	a := into
	*a = Auth{Presigned: true, Signature: vals[pSig], SecurityToken: vals[pToken]}
	if err := a.setCredential(vals[pCred]); err != nil {
		return nil, err
	}
	var ok bool
	if a.Time, ok = parseBasicISO(vals[pDate]); !ok {
		return nil, errorf(Incomplete, "%s", msgAmzDate)
	}
	if seen[pExpires] {
		v := vals[pExpires]
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil && !isDigits(strings.TrimPrefix(v, "-")):
			return nil, errorf(Incomplete, "X-Amz-Expires should be a number")
		case n < 0 || err != nil && strings.HasPrefix(v, "-"):
			return nil, errorf(Incomplete, "X-Amz-Expires must be non-negative")
		case err != nil || n > int64(MaxExpires/time.Second):
			return nil, errorf(Incomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		case n == 0:
			// Zero would be indistinguishable from "absent" (skew window only); no SDK sends it.
			return nil, errorf(Incomplete, "X-Amz-Expires must be greater than 0")
		}
		a.Expires = time.Duration(n) * time.Second
	}
	if err := a.setSignedHeaders(vals[pSigned]); err != nil {
		return nil, err
	}
	return a, nil
}

// setCredential splits "AKID/20130524/us-east-1/glacier/aws4_request" into the scope fields.
func (a *Auth) setCredential(cred string) error {
	// Five slash-delimited elements, as strings.Split would give them, without the slice.
	var parts [5]string
	n, rest := 0, cred
	for n < 4 {
		p, r, ok := strings.Cut(rest, "/")
		if !ok {
			break
		}
		parts[n], rest, n = p, r, n+1
	}
	if n != 4 || strings.IndexByte(rest, '/') >= 0 || parts[0] == "" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return errorf(Incomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	parts[4] = rest
	if parts[4] != "aws4_request" {
		return errorf(Incomplete, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", parts[4])
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// setSignedHeaders splits "host;x-amz-date" and insists on host, as AWS does.
func (a *Auth) setSignedHeaders(s string) error {
	n := strings.Count(s, ";") + 1
	var names []string
	if n <= len(a.signedBuf) {
		names = a.signedBuf[:n:n] // no allocation of its own for the usual handful of names
	} else {
		names = make([]string, n)
	}
	host := false
	rest := s
	for i := range names {
		n, r, _ := strings.Cut(rest, ";")
		rest = r
		if n == "" {
			return errorf(Incomplete, "SignedHeaders must be a ';'-separated list of header names, got '%s'", s)
		}
		names[i] = strings.ToLower(n) // returns n itself when it has no upper case
		host = host || names[i] == "host"
	}
	if !host {
		return errorf(Incomplete, "%s", msgHostUnsigned)
	}
	a.SignedHeaders = names
	return nil
}

// isParamSep reports whether c separates the parameters of an Authorization header.
func isParamSep(c byte) bool { return c == ',' || c == ' ' || c == '\t' }

func firstHeader(r Request, lower string) string {
	if v := headerValues(r.Header, lower); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseBasicISO accepts exactly YYYYMMDD'T'HHMMSS'Z' (time.Parse alone would accept one-digit fields, and the
// string to sign must be reproducible from the parsed time).
func parseBasicISO(s string) (time.Time, bool) {
	if len(s) != len(basicISO) || s[8] != 'T' || s[15] != 'Z' || !isDigits(s[:8]) || !isDigits(s[9:15]) {
		return time.Time{}, false
	}
	// The ranges time.Parse checks, without its layout interpretation.
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // past the month's last day
		return time.Time{}, false
	}
	return t, true
}

// appendBasicISO appends t (UTC) as YYYYMMDD'T'HHMMSS'Z', or only
// YYYYMMDD when dateOnly: t.AppendFormat(basicISO) without the layout
// interpretation.
func appendBasicISO(b []byte, t time.Time, dateOnly bool) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		if dateOnly {
			return t.AppendFormat(b, "20060102")
		}
		return t.AppendFormat(b, basicISO)
	}
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10),
		byte('0'+int(month)/10), byte('0'+int(month)%10), byte('0'+day/10), byte('0'+day%10))
	if dateOnly {
		return b
	}
	hour, minute, sec := t.Clock()
	return append(b, 'T', byte('0'+hour/10), byte('0'+hour%10), byte('0'+minute/10), byte('0'+minute%10),
		byte('0'+sec/10), byte('0'+sec%10), 'Z')
}

// dateLayouts are the HTTP date forms a Date header may take (RFC 7231 §7.1.1.1, plus RFC 1123 with a numeric
// zone, which botocore's email.utils.formatdate writes as "-0000").
var dateLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	time.RFC1123Z,
	"Monday, 02-Jan-06 15:04:05 GMT",
	time.ANSIC,
}

// parseDateHeader reads a Date header in basic ISO form or in one of dateLayouts.
func parseDateHeader(s string) (time.Time, bool) {
	if t, ok := parseBasicISO(s); ok {
		return t, true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
