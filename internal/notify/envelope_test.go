package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func hmacBase64(key []byte, s string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestEnvelopeWithoutSubjectOrKey(t *testing.T) {
	n := note("n-1", t0)
	n.Subject = ""
	e := NewEnvelope(n, nil)
	body, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["Subject"]; ok {
		t.Errorf("Subject sent though empty: %s", body)
	}
	want := "Message\n" + jobJSON + "\nMessageId\nn-1\nTimestamp\n2025-03-14T15:09:26.535Z\nTopicArn\n" +
		topic + "\nType\nNotification\n"
	if got := e.StringToSign(); got != want {
		t.Errorf("StringToSign = %q, want %q", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if got := m["Signature"]; got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("Signature without a key = %v, want base64 SHA-256 of the string to sign", got)
	}
	var back Envelope
	if err := json.Unmarshal(body, &back); err != nil || back != e {
		t.Errorf("envelope does not round-trip: %+v, %v", back, err)
	}
}

func TestEnvelopeTimestampHasMilliseconds(t *testing.T) {
	n := note("n-1", t0.Truncate(1e9)) // whole second: still three digits
	if got := NewEnvelope(n, nil).Timestamp; got != "2025-03-14T15:09:26.000Z" {
		t.Errorf("Timestamp = %q", got)
	}
}
