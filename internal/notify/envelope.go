package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/permafrost/permafrost/internal/glacier"
)

// UserAgent is sent with every POST. It starts like the real service's so
// that receivers which look for it keep working, and says who sent it.
const UserAgent = "Amazon Simple Notification Service Agent (permafrost)"

// timestampFormat is SNS's Timestamp: ISO 8601, UTC, milliseconds, "Z".
const timestampFormat = "2006-01-02T15:04:05.000Z"

// Envelope is the JSON document SNS POSTs to an HTTP(S) subscriber for a
// notification, with the fields in SNS's order.
//
// A Signer fills SignatureVersion ("2"), Signature (SHA256withRSA over
// StringToSign, with the installation's key), SigningCertURL (where this
// server serves the certificate for that key) and UnsubscribeURL, so that
// the standard SNS validation algorithm verifies the message once the
// receiver trusts this server's certificate URL.
type Envelope struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	TopicARN         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"` // SNS leaves it out when the publisher gave none
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	UnsubscribeURL   string `json:"UnsubscribeURL"`
}

// NewEnvelope returns the unsigned SNS envelope for n. MessageId is the
// notification's ID and Timestamp its CreatedAt, so a retry sends the same
// document again (with the same signature, RSA PKCS #1 v1.5 being
// deterministic).
func NewEnvelope(n glacier.Notification) Envelope {
	return Envelope{
		Type:             "Notification",
		MessageID:        n.ID,
		TopicARN:         n.TopicARN,
		Subject:          n.Subject,
		Message:          n.Message,
		Timestamp:        n.CreatedAt.UTC().Format(timestampFormat),
		SignatureVersion: "2",
	}
}

// StringToSign is SNS's canonical form of a Notification: each field name
// and value on its own line, in byte order of the names, Subject only when
// present.
func (e Envelope) StringToSign() string {
	var b bytes.Buffer
	field := func(name, value string) { fmt.Fprintf(&b, "%s\n%s\n", name, value) }
	field("Message", e.Message)
	field("MessageId", e.MessageID)
	if e.Subject != "" {
		field("Subject", e.Subject)
	}
	field("Timestamp", e.Timestamp)
	field("TopicArn", e.TopicARN)
	field("Type", e.Type)
	return b.String()
}

// Marshal encodes the envelope as the POST body. Unlike json.Marshal it
// leaves <, > and & unescaped, as SNS does; either way the Message decodes
// to the exact string that was sent.
func (e Envelope) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encoding SNS envelope: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SetHeaders sets the headers SNS sends with a notification POST. There is
// no subscription, so x-amz-sns-subscription-arn is not sent.
func SetHeaders(h http.Header, n glacier.Notification) {
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", UserAgent)
	h.Set("x-amz-sns-message-type", "Notification")
	h.Set("x-amz-sns-message-id", n.ID)
	h.Set("x-amz-sns-topic-arn", n.TopicARN)
}
