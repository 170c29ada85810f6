package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// fakeOutbox is an in-memory Outbox. Its error fields, when set, make the
// next call of that method fail once.
type fakeOutbox struct {
	mu        sync.Mutex
	pending   map[string]glacier.Notification
	removed   []string
	dueErr    error
	removeErr error
	onDue     func() // called after each DueNotifications, outside the lock
}

var _ Outbox = (*fakeOutbox)(nil)

func newOutbox(ns ...glacier.Notification) *fakeOutbox {
	o := &fakeOutbox{pending: map[string]glacier.Notification{}}
	for _, n := range ns {
		o.add(n)
	}
	return o
}

func (o *fakeOutbox) add(n glacier.Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n.NextAttemptAt.IsZero() {
		n.NextAttemptAt = n.CreatedAt
	}
	o.pending[n.ID] = n
}

func (o *fakeOutbox) DueNotifications(ctx context.Context, now time.Time, limit int) ([]glacier.Notification, error) {
	o.mu.Lock()
	var due []glacier.Notification
	err := o.dueErr
	o.dueErr = nil
	if err == nil {
		for _, n := range o.pending {
			if !n.NextAttemptAt.After(now) {
				due = append(due, n)
			}
		}
		sort.Slice(due, func(i, j int) bool { return due[i].CreatedAt.Before(due[j].CreatedAt) })
		if len(due) > limit {
			due = due[:limit]
		}
	}
	hook := o.onDue
	o.mu.Unlock()
	if hook != nil {
		hook()
	}
	return due, err
}

func (o *fakeOutbox) NotificationDelivered(ctx context.Context, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.removeErr; err != nil {
		o.removeErr = nil
		return err
	}
	delete(o.pending, id)
	o.removed = append(o.removed, id)
	return nil
}

func (o *fakeOutbox) NotificationFailed(ctx context.Context, id string, next time.Time, msg string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.pending[id]
	if !ok {
		return errors.New("no such notification")
	}
	n.Attempts++
	n.NextAttemptAt = next
	n.LastError = msg
	o.pending[id] = n
	return nil
}

func (o *fakeOutbox) get(t *testing.T, id string) glacier.Notification {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.pending[id]
	if !ok {
		t.Fatalf("notification %s is not in the outbox", id)
	}
	return n
}

func (o *fakeOutbox) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}

func (o *fakeOutbox) removedIDs() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.removed...)
}

// received is one request the test endpoint got.
type received struct {
	header http.Header
	body   []byte
}

// endpoint is a real HTTP server recording what it receives and answering
// with the next status from its script (the last one repeats).
type endpoint struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
	arrived  chan struct{}
}

func newEndpoint(t *testing.T, statuses ...int) *endpoint {
	t.Helper()
	if len(statuses) == 0 {
		statuses = []int{http.StatusOK}
	}
	e := &endpoint{statuses: statuses, arrived: make(chan struct{}, 100)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, received{header: r.Header.Clone(), body: body})
		status := e.statuses[0]
		if len(e.statuses) > 1 {
			e.statuses = e.statuses[1:]
		}
		e.mu.Unlock()
		if r.Method != http.MethodPost {
			status = http.StatusMethodNotAllowed
		}
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status))
		e.arrived <- struct{}{}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) requests() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

const (
	topic      = "arn:aws:sns:us-east-1:111122223333:glacier-jobs"
	otherTopic = "arn:aws:sns:eu-west-1:444455556666:elsewhere"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// jobJSON is a DescribeJob body with characters JSON and HTML escaping
// would both like to touch.
const jobJSON = `{"Action":"ArchiveRetrieval","ArchiveId":"a<b>&c","Completed":true,` +
	`"JobDescription":"quote \" backslash \\ newline \n tab \t é 雪 🧊","StatusCode":"Succeeded","SHA256TreeHash":null}`

func note(id string, created time.Time) glacier.Notification {
	return glacier.Notification{
		ID:        id,
		TopicARN:  topic,
		Subject:   "Notification From AWS Glacier",
		Message:   jobJSON,
		CreatedAt: created,
	}
}

// clock is an injectable Now that the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects log output; the Deliverer may log from Run's goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func deliverDue(t *testing.T, d *Deliverer) int {
	t.Helper()
	n, err := d.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

func TestDeliverPostsSNSEnvelope(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	created := time.Date(2025, 3, 14, 10, 9, 26, 535_000_000, time.FixedZone("EST", -5*3600))
	ob := newOutbox(note("n-1", created))
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL + "/hook"}, Logger: log,
		Now: func() time.Time { return t0 }, Signer: &Signer{Store: &memSettings{}, BaseURL: "https://pf.example:9400"}}

	if got := deliverDue(t, d); got != 1 {
		t.Fatalf("DeliverDue delivered %d, want 1", got)
	}
	if ob.size() != 0 {
		t.Errorf("outbox still holds %d notifications", ob.size())
	}
	reqs := ep.requests()
	if len(reqs) != 1 {
		t.Fatalf("endpoint got %d requests, want 1", len(reqs))
	}
	r := reqs[0]

	for name, want := range map[string]string{
		"Content-Type":           "text/plain; charset=UTF-8",
		"X-Amz-Sns-Message-Type": "Notification",
		"X-Amz-Sns-Message-Id":   "n-1",
		"X-Amz-Sns-Topic-Arn":    topic,
		"User-Agent":             "Amazon Simple Notification Service Agent (permafrost)",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	// Decode into a map to see exactly which fields were sent.
	var env map[string]any
	if err := jsonUnmarshal(r.body, &env); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	wantStrings := map[string]string{
		"Type":             "Notification",
		"MessageId":        "n-1",
		"TopicArn":         topic,
		"Subject":          "Notification From AWS Glacier",
		"Message":          jobJSON,
		"Timestamp":        "2025-03-14T15:09:26.535Z",
		"SignatureVersion": "2",
		"UnsubscribeURL":   "https://pf.example:9400/_permafrost/v1/sns/unsubscribe?TopicArn=" + url.QueryEscape(topic),
	}
	for k, want := range wantStrings {
		if got, ok := env[k].(string); !ok || got != want {
			t.Errorf("%s = %#v, want %q", k, env[k], want)
		}
	}
	if len(env) != len(wantStrings)+2 {
		t.Errorf("envelope has %d fields, want %d: %v", len(env), len(wantStrings)+2, env)
	}
	wantToSign := "Message\n" + jobJSON + "\nMessageId\nn-1\nSubject\nNotification From AWS Glacier\n" +
		"Timestamp\n2025-03-14T15:09:26.535Z\nTopicArn\n" + topic + "\nType\nNotification\n"
	if got := snsStringToSign(env); got != wantToSign {
		t.Errorf("string to sign = %q, want %q", got, wantToSign)
	}
	certURL, _ := env["SigningCertURL"].(string)
	if !strings.HasPrefix(certURL, "https://pf.example:9400/_permafrost/v1/sns/SimpleNotificationService-") ||
		!strings.HasSuffix(certURL, ".pem") {
		t.Errorf("SigningCertURL = %q", certURL)
	}
	pemCert, err := d.Signer.CertificatePEM(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySNS(env, pemCert); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	// SNS does not HTML-escape; neither do we.
	if !bytes.Contains(r.body, []byte(`a<b>&c`)) {
		t.Errorf("body escapes <, > or &: %s", r.body)
	}
	// Field order follows SNS's.
	order := []string{`"Type"`, `"MessageId"`, `"TopicArn"`, `"Subject"`, `"Message"`, `"Timestamp"`,
		`"SignatureVersion"`, `"Signature"`, `"SigningCertURL"`, `"UnsubscribeURL"`}
	last := -1
	for _, k := range order {
		i := bytes.Index(r.body, []byte(k+":"))
		if i <= last {
			t.Errorf("field %s out of SNS order in %s", k, r.body)
		}
		last = i
	}
}

func TestFailureThenSuccess(t *testing.T) {
	ep := newEndpoint(t, http.StatusInternalServerError, http.StatusOK)
	ob := newOutbox(note("n-1", t0.Add(-time.Minute)))
	clk := &clock{now: t0}
	log, _ := newLogger()
	const base = 10 * time.Second
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log, Now: clk.Now,
		BaseBackoff: base, MaxBackoff: time.Hour}

	if got := deliverDue(t, d); got != 0 {
		t.Fatalf("first pass delivered %d, want 0 (endpoint answered 500)", got)
	}
	n := ob.get(t, "n-1")
	if n.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", n.Attempts)
	}
	if !strings.Contains(n.LastError, "500") {
		t.Errorf("LastError = %q, want it to name the 500 status", n.LastError)
	}
	if wait := n.NextAttemptAt.Sub(t0); wait < base*8/10 || wait > base*12/10 {
		t.Errorf("NextAttemptAt is %v after now, want BaseBackoff %v ±20%%", wait, base)
	}

	// Not due yet: nothing is sent.
	if got := deliverDue(t, d); got != 0 || len(ep.requests()) != 1 {
		t.Fatalf("pass before NextAttemptAt delivered %d and sent %d requests, want 0 and 1", got, len(ep.requests()))
	}

	clk.advance(2 * base)
	if got := deliverDue(t, d); got != 1 {
		t.Fatalf("pass after the backoff delivered %d, want 1", got)
	}
	if ob.size() != 0 {
		t.Errorf("outbox still holds %d notifications", ob.size())
	}
	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("endpoint got %d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if id := r.header.Get("X-Amz-Sns-Message-Id"); id != "n-1" {
			t.Errorf("request %d: message id header %q, want n-1", i, id)
		}
	}
	// The retry is the same message: same MessageId, Timestamp, signature.
	if !bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Errorf("retry body differs:\n%s\n%s", reqs[0].body, reqs[1].body)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	ep := newEndpoint(t, http.StatusServiceUnavailable)
	ob := newOutbox(note("n-1", t0))
	clk := &clock{now: t0}
	log, logs := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log, Now: clk.Now,
		BaseBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxAttempts: 3}

	for pass := 1; pass <= 3; pass++ {
		deliverDue(t, d)
		if pass < 3 {
			if a := ob.get(t, "n-1").Attempts; a != pass {
				t.Fatalf("after pass %d Attempts = %d, want %d", pass, a, pass)
			}
		}
		clk.advance(time.Minute)
	}
	if ob.size() != 0 {
		t.Fatalf("outbox still holds the notification after MaxAttempts failures: %+v", ob.get(t, "n-1"))
	}
	if got := ob.removedIDs(); len(got) != 1 || got[0] != "n-1" {
		t.Errorf("NotificationDelivered calls = %v, want [n-1]", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "giving up") {
		t.Errorf("no error-level give-up in the log:\n%s", logs)
	}
	deliverDue(t, d)
	if got := len(ep.requests()); got != 3 {
		t.Errorf("endpoint got %d requests, want exactly MaxAttempts = 3", got)
	}
}

func TestUnknownTopicIsDropped(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	lost := note("n-lost", t0)
	lost.TopicARN = otherTopic
	ob := newOutbox(lost, note("n-ok", t0.Add(time.Second)))
	log, logs := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log,
		Now: func() time.Time { return t0.Add(time.Minute) }}

	if got := deliverDue(t, d); got != 1 {
		t.Errorf("delivered %d, want 1 (only the configured topic)", got)
	}
	if ob.size() != 0 {
		t.Errorf("outbox still holds %d notifications; the unknown topic's should be dropped", ob.size())
	}
	reqs := ep.requests()
	if len(reqs) != 1 || reqs[0].header.Get("X-Amz-Sns-Message-Id") != "n-ok" {
		t.Errorf("endpoint got %d requests, want only n-ok", len(reqs))
	}
	warns := strings.Count(logs.String(), "level=WARN")
	if warns != 1 || !strings.Contains(logs.String(), "n-lost") {
		t.Errorf("want one warning naming n-lost, got %d:\n%s", warns, logs)
	}
}

func TestTransportErrorsAndRedirectsAreFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	target := newEndpoint(t, http.StatusOK)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)

	for name, url := range map[string]string{"closed": closed.URL, "redirect": redirect.URL} {
		t.Run(name, func(t *testing.T) {
			ob := newOutbox(note("n-1", t0))
			log, _ := newLogger()
			d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: url}, Logger: log,
				Now: func() time.Time { return t0 }}
			if got := deliverDue(t, d); got != 0 {
				t.Fatalf("delivered %d, want 0", got)
			}
			if n := ob.get(t, "n-1"); n.Attempts != 1 || n.LastError == "" {
				t.Errorf("Attempts = %d, LastError = %q; want 1 and a message", n.Attempts, n.LastError)
			}
		})
	}
	if got := len(target.requests()); got != 0 {
		t.Errorf("redirect was followed: target got %d requests", got)
	}
}

func TestSlowEndpointTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	ob := newOutbox(note("n-1", t0))
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: slow.URL}, Logger: log,
		Client: &http.Client{Timeout: 100 * time.Millisecond}, Now: func() time.Time { return t0 }}

	start := time.Now()
	if got := deliverDue(t, d); got != 0 {
		t.Fatalf("delivered %d, want 0", got)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("pass took %v despite a 100 ms client timeout", took)
	}
	if n := ob.get(t, "n-1"); n.Attempts != 1 || n.LastError == "" {
		t.Errorf("Attempts = %d, LastError = %q; want 1 and a timeout message", n.Attempts, n.LastError)
	}
}

func TestShutdownDoesNotCountAsAttempt(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	ob := newOutbox(note("n-1", t0))
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: slow.URL}, Logger: log,
		Now: func() time.Time { return t0 }}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if got, _ := d.DeliverDue(ctx); got != 0 {
		t.Fatalf("delivered %d, want 0", got)
	}
	if n := ob.get(t, "n-1"); n.Attempts != 0 {
		t.Errorf("Attempts = %d after a cancelled pass, want 0", n.Attempts)
	}
}

func TestStoreErrorsAreReportedAndRetried(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	ob := newOutbox(note("n-1", t0))
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log,
		Now: func() time.Time { return t0 }}

	ob.dueErr = errors.New("database is locked")
	if _, err := d.DeliverDue(context.Background()); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("DeliverDue with a failing store: err = %v, want the store's error", err)
	}

	// Delivered, but the store could not record it: it stays queued and is
	// sent again (at least once).
	ob.removeErr = errors.New("disk full")
	if _, err := d.DeliverDue(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("DeliverDue: err = %v, want the store's error", err)
	}
	if ob.size() != 1 {
		t.Fatalf("outbox holds %d, want the notification still queued", ob.size())
	}
	if got := deliverDue(t, d); got != 1 || ob.size() != 0 {
		t.Fatalf("retry pass delivered %d leaving %d queued, want 1 and 0", got, ob.size())
	}
	if got := len(ep.requests()); got != 2 {
		t.Errorf("endpoint got %d requests, want 2", got)
	}
}

func TestWakeDeliversPromptly(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	ob := newOutbox()
	passes := make(chan struct{}, 10)
	ob.onDue = func() {
		select {
		case passes <- struct{}{}:
		default:
		}
	}
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log,
		Interval: time.Hour} // only Wake can explain a prompt delivery

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after ctx was cancelled")
		}
	}()

	// Let Run finish its first (empty) pass, so the next one is Wake's doing.
	select {
	case <-passes:
	case <-time.After(5 * time.Second):
		t.Fatal("Run made no first pass")
	}
	ob.add(note("n-1", time.Now().Add(-time.Second)))
	d.Wake()
	select {
	case <-ep.arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5 s of Wake (Interval is 1 h)")
	}
}

func TestRunDrainsFullBatchesWithoutWaiting(t *testing.T) {
	ep := newEndpoint(t, http.StatusOK)
	ob := newOutbox()
	for i := range 5 {
		ob.add(note(string(rune('a'+i)), time.Now().Add(-time.Minute+time.Duration(i)*time.Second)))
	}
	log, _ := newLogger()
	d := &Deliverer{Outbox: ob, Endpoints: map[string]string{topic: ep.URL}, Logger: log,
		Interval: time.Hour, BatchSize: 2}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := range 5 {
		select {
		case <-ep.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 5 delivered; Run stopped after a full batch", i)
		}
	}
	cancel()
	<-done
	var order []string
	for _, r := range ep.requests() {
		order = append(order, r.header.Get("X-Amz-Sns-Message-Id"))
	}
	if got := strings.Join(order, ""); got != "abcde" {
		t.Errorf("delivery order %q, want oldest first, abcde", got)
	}
}

func TestWakeNeverBlocks(t *testing.T) {
	var d Deliverer
	for range 100 {
		d.Wake() // no Run: must not block
	}
}

func TestNoOutbox(t *testing.T) {
	var d Deliverer
	if _, err := d.DeliverDue(context.Background()); err == nil {
		t.Error("DeliverDue without an Outbox: want an error")
	}
	if err := d.Run(context.Background()); err == nil {
		t.Error("Run without an Outbox: want an error")
	}
}

func TestBackoff(t *testing.T) {
	d := &Deliverer{BaseBackoff: time.Second, MaxBackoff: 10 * time.Second}
	for _, tc := range []struct {
		failures int
		want     time.Duration // before jitter
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second},
		{5, 10 * time.Second}, {64, 10 * time.Second}, {1 << 30, 10 * time.Second},
	} {
		for range 200 {
			got := d.backoff(tc.failures)
			if got < tc.want*8/10 || got > tc.want*12/10 {
				t.Fatalf("backoff(%d) = %v, want %v ±20%%", tc.failures, got, tc.want)
			}
		}
	}
	var zero Deliverer
	if got := zero.backoff(1); got < 800*time.Millisecond || got > 1200*time.Millisecond {
		t.Errorf("default backoff(1) = %v, want 1 s ±20%%", got)
	}
	if got := zero.backoff(100); got < 4*time.Minute || got > 6*time.Minute {
		t.Errorf("default backoff(100) = %v, want 5 min ±20%%", got)
	}
}
