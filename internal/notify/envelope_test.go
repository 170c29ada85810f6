package notify

import (
	"encoding/json"
	"testing"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestEnvelopeWithoutSubjectOrKey(t *testing.T) {
	n := note("n-1", t0)
	n.Subject = ""
	e := NewEnvelope(n)
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
	if got := m["Signature"]; got != "" || m["SignatureVersion"] != "2" {
		t.Errorf("unsigned envelope: Signature %v, SignatureVersion %v; want empty and 2", got, m["SignatureVersion"])
	}
	var back Envelope
	if err := json.Unmarshal(body, &back); err != nil || back != e {
		t.Errorf("envelope does not round-trip: %+v, %v", back, err)
	}
}

func TestEnvelopeTimestampHasMilliseconds(t *testing.T) {
	n := note("n-1", t0.Truncate(1e9)) // whole second: still three digits
	if got := NewEnvelope(n).Timestamp; got != "2025-03-14T15:09:26.000Z" {
		t.Errorf("Timestamp = %q", got)
	}
}
