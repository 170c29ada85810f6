package notify

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// A notification queued as a finished job is sent with the message the
// JobMessage renderer makes of it; without a renderer it is dropped, never
// sent in its stored form.
func TestJobNotificationsAreRenderedAtDelivery(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	job := glacier.Job{ID: "job-1", Action: glacier.ArchiveRetrieval, Status: glacier.JobSucceeded, CompletedAt: t0}
	n := note("n-job", t0)
	n.Message = glacier.JobEventMessage(job)
	ob := newOutbox(n, note("n-plain", t0.Add(time.Second)))
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log,
		Now:        func() time.Time { return t0.Add(time.Minute) },
		JobMessage: func(j glacier.Job) string { return `{"JobId":"` + j.ID + `","rendered":true}` }}
	if got := deliverDue(t, d); got != 2 {
		t.Fatalf("delivered %d, want 2", got)
	}
	msgs := map[string]string{}
	for _, r := range ep.requests() {
		var e Envelope
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatal(err)
		}
		msgs[e.MessageID] = e.Message
	}
	if got := msgs["n-job"]; got != `{"JobId":"job-1","rendered":true}` {
		t.Errorf("job notification sent as %q", got)
	}
	if got := msgs["n-plain"]; got != jobJSON {
		t.Errorf("a message queued rendered was changed: %q", got)
	}

	// Without a renderer the job notification is dropped, loudly.
	ep2 := newEndpoint(t, http.StatusOK)
	ob2 := newOutbox(n)
	log2, logs := newLogger()
	d2 := &Deliverer{Outbox: ob2, Endpoints: map[string]string{topic: ep2.URL}, Logger: log2,
		Now: func() time.Time { return t0.Add(time.Minute) }}
	if got := deliverDue(t, d2); got != 0 || ob2.size() != 0 || len(ep2.requests()) != 0 {
		t.Errorf("without a renderer: delivered %d, %d left, %d sent", got, ob2.size(), len(ep2.requests()))
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("no error logged:\n%s", logs)
	}
}
