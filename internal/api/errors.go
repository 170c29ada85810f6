package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/sigv4"
)

// wireError is a Glacier error as it travels: code, HTTP status, type.
type wireError struct {
	Code   string
	Status int
}

// kindCodes is the one table from domain error kinds to Glacier codes
// (operations.md §2.2). Errors raised only by the protocol layer are made
// with protoError below.
var kindCodes = map[glacier.Kind]wireError{
	glacier.KindNotFound:         {"ResourceNotFoundException", http.StatusNotFound},
	glacier.KindInvalidParameter: {"InvalidParameterValueException", http.StatusBadRequest},
	glacier.KindMissingParameter: {"MissingParameterValueException", http.StatusBadRequest},
	glacier.KindAccessDenied:     {"AccessDeniedException", http.StatusForbidden},
	glacier.KindLimitExceeded:    {"LimitExceededException", http.StatusBadRequest},
	glacier.KindRequestTimeout:   {"RequestTimeoutException", http.StatusRequestTimeout},
	glacier.KindUnavailable:      {"ServiceUnavailableException", http.StatusInternalServerError},
	glacier.KindInternal:         {"ServiceUnavailableException", http.StatusInternalServerError},
	glacier.KindPolicyEnforced:   {"PolicyEnforcedException", http.StatusBadRequest},
	// 503 as the developer guide says (the model says 400): SDKs retry it.
	glacier.KindInsufficientCapacity: {"InsufficientCapacityException", http.StatusServiceUnavailable},
	// A conflict that escapes the service is a bug; report it as internal.
	glacier.KindConflict: {"ServiceUnavailableException", http.StatusInternalServerError},
}

// sigv4Codes maps signature failures to Glacier codes.
var sigv4Codes = map[sigv4.Kind]wireError{
	sigv4.MissingAuth:       {"MissingAuthenticationTokenException", http.StatusBadRequest},
	sigv4.Incomplete:        {"IncompleteSignatureException", http.StatusBadRequest},
	sigv4.SignatureMismatch: {"InvalidSignatureException", http.StatusForbidden},
	sigv4.TimeSkewed:        {"InvalidSignatureException", http.StatusForbidden},
	sigv4.PresignExpired:    {"InvalidSignatureException", http.StatusForbidden},
	sigv4.WrongService:      {"InvalidSignatureException", http.StatusForbidden},
	sigv4.WrongRegion:       {"InvalidSignatureException", http.StatusForbidden},
	sigv4.WrongDate:         {"InvalidSignatureException", http.StatusForbidden},
}

// protoError is an error only the protocol layer raises (bad JSON, unknown
// route, unknown access key…).
type protoError struct {
	wireError
	Message string
}

func (e *protoError) Error() string { return e.Code + ": " + e.Message }

func newProtoError(code string, status int, msg string) *protoError {
	return &protoError{wireError{code, status}, msg}
}

func errSerialization(msg string) error {
	return newProtoError("SerializationException", http.StatusBadRequest, msg)
}

func errBadRequest(msg string) error {
	return newProtoError("BadRequest", http.StatusBadRequest, msg)
}

func errUnrecognizedClient() error {
	return newProtoError("UnrecognizedClientException", http.StatusBadRequest, "The security token included in the request is invalid.")
}

// errInvalidSecurityToken answers any request carrying
// X-Amz-Security-Token, as AWS does for a session token it does not know.
func errInvalidSecurityToken() error {
	return newProtoError("UnrecognizedClientException", http.StatusForbidden, "The security token included in the request is invalid.")
}

// errPayloadHashMismatch: the body's SHA-256 differs from the signed
// x-amz-content-sha256, which the protocol reports as a signature failure.
func errPayloadHashMismatch(declared, actual any) error {
	return newProtoError("InvalidSignatureException", http.StatusForbidden,
		fmt.Sprintf("The x-amz-content-sha256 header %s does not match the SHA-256 of the request body, %s", declared, actual))
}

// errUnsignedPayload refuses x-amz-content-sha256: UNSIGNED-PAYLOAD for an
// operation whose body is not an archive or part: its body must be signed,
// or a captured request could have it swapped.
func errUnsignedPayload(op string) error {
	return newProtoError("InvalidSignatureException", http.StatusForbidden,
		"x-amz-content-sha256: "+sigv4.UnsignedPayload+" is not accepted for "+op+": the request body must be signed with its SHA-256")
}

// classify returns the wire error and the client-safe message for err.
func classify(err error) (wireError, string) {
	var pe *protoError
	if errors.As(err, &pe) {
		return pe.wireError, pe.Message
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		if w, ok := sigv4Codes[se.Kind]; ok {
			return w, se.Message
		}
		return wireError{"InvalidSignatureException", http.StatusForbidden}, se.Message
	}
	kind := glacier.KindOf(err)
	w, ok := kindCodes[kind]
	if !ok {
		w = kindCodes[glacier.KindInternal]
	}
	msg := glacier.MessageOf(err)
	if kind == glacier.KindInternal || kind == glacier.KindConflict || msg == "" {
		msg = "The service is unable to handle the request. Please retry."
	}
	return w, msg
}

// errorType is the envelope's "type": Client for 4xx, Server for 5xx.
func errorType(status int) string {
	if status >= 500 {
		return "Server"
	}
	return "Client"
}
