package sigv4

import (
	"fmt"
	"strings"
	"time"
)

// Kind classifies why a request failed authentication. The HTTP layer maps each kind to one Glacier error code;
// the recommended table is in the package comment.
type Kind int

// The kinds of authentication failure.
const (
	// MissingAuth: the request carries neither an Authorization header nor a presigned X-Amz-Signature
	// (or X-Amz-Algorithm / X-Amz-Credential) query parameter.
	MissingAuth Kind = iota + 1
	// Incomplete: the signature is present but malformed: an Authorization header without one of its
	// parameters, a malformed credential, a missing or unparsable date, an unsupported algorithm, an unsigned
	// host header, an invalid X-Amz-Expires, or both signing mechanisms at once.
	Incomplete
	// SignatureMismatch: the signature is well formed but does not match the one computed from the secret.
	SignatureMismatch
	// TimeSkewed: the request time is further than the allowed skew from now, in either direction.
	TimeSkewed
	// PresignExpired: a presigned request is used after X-Amz-Date + X-Amz-Expires.
	PresignExpired
	// WrongService: the credential scope names another service.
	WrongService
	// WrongRegion: the credential scope names a region the server does not accept.
	WrongRegion
	// WrongDate: the credential scope date differs from the date of the request time.
	WrongDate
)

var kindNames = map[Kind]string{
	MissingAuth:       "MissingAuth",
	Incomplete:        "Incomplete",
	SignatureMismatch: "SignatureMismatch",
	TimeSkewed:        "TimeSkewed",
	PresignExpired:    "PresignExpired",
	WrongService:      "WrongService",
	WrongRegion:       "WrongRegion",
	WrongDate:         "WrongDate",
}

// String returns the kind's name.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is the only error type Parse and Verify return. Message is safe to show to the client and uses AWS's
// wording where it is known. For SignatureMismatch, CanonicalRequest and StringToSign hold what the server
// computed (for the first canonicalization tried), for the log; they contain no secret, and AWS itself returns
// them in its mismatch message, but the HTTP layer may keep them out of the response.
type Error struct {
	Kind    Kind
	Message string

	CanonicalRequest string
	StringToSign     string
}

// Error returns the kind and the message.
func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Messages; the quoted ones are AWS's own wording (see the package comment for sources).
const (
	msgMissingAuth  = "Missing Authentication Token"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBothAuth     = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
	msgQueryParams  = "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
	msgQueryAlgo    = `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`
	msgAmzDate      = `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`
	msgHostUnsigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgExpired      = "Request has expired"
)

// incompleteHeader builds AWS's message for an Authorization header that lacks parameters: one sentence per
// missing part, then the header itself.
func incompleteHeader(header string, cred, signed, sig, date bool) *Error {
	var b strings.Builder
	if !cred {
		b.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if !sig {
		b.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !signed {
		b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if !date {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	b.WriteString("Authorization=")
	b.WriteString(header)
	return &Error{Kind: Incomplete, Message: b.String()}
}

// skewText renders a duration the way AWS prints the skew window: "15 min." or, when not whole minutes, "90 sec.".
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}
