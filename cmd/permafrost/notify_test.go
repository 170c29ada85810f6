package main

// End-to-end tests of job notifications (data-plane.md §7): a real
// server POSTs SNS envelopes to an HTTP receiver when jobs complete, from a
// persistent outbox that survives restarts.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
)

// notifEnvelope is the SNS HTTP notification document.
type notifEnvelope struct {
	Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature string
}

// notifPost is one POST the receiver got.
type notifPost struct {
	Path   string
	Header http.Header
	Body   []byte
	Status int // what the receiver answered
	Env    notifEnvelope
	Job    map[string]any // the Message, decoded
}

// notifReceiver is an HTTP endpoint that records every POST and answers
// with a status the test sets.
type notifReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	posts  []notifPost
}

func newNotifReceiver(t *testing.T, status int) *notifReceiver {
	r := &notifReceiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		p := notifPost{Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
		if req.Method != http.MethodPost {
			t.Errorf("receiver got %s %s", req.Method, req.URL)
		}
		if err := json.Unmarshal(body, &p.Env); err != nil {
			t.Errorf("notification body %q: %v", body, err)
		} else if err := json.Unmarshal([]byte(p.Env.Message), &p.Job); err != nil {
			t.Errorf("notification Message %q is not JSON: %v", p.Env.Message, err)
		}
		r.mu.Lock()
		p.Status = r.status
		r.posts = append(r.posts, p)
		r.mu.Unlock()
		w.WriteHeader(p.Status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *notifReceiver) setStatus(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// forJob returns the POSTs whose message is about job id.
func (r *notifReceiver) forJob(id string) []notifPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notifPost
	for _, p := range r.posts {
		if p.Job["JobId"] == id {
			out = append(out, p)
		}
	}
	return out
}

// wait polls until ok holds for the POSTs about job id, within
// jobWaitLimit.
func (r *notifReceiver) wait(t *testing.T, id, what string, ok func([]notifPost) bool) []notifPost {
	t.Helper()
	deadline := time.Now().Add(jobWaitLimit)
	for {
		ps := r.forJob(id)
		if ok(ps) {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s; the receiver got %d notifications about job %s", jobWaitLimit, what, len(ps), id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// notifDelivered reports whether a POST to path was answered 2xx.
func notifDelivered(path string) func([]notifPost) bool {
	return func(ps []notifPost) bool {
		for _, p := range ps {
			if p.Path == path && p.Status/100 == 2 {
				return true
			}
		}
		return false
	}
}

// notifCheck checks the envelope of a notification to topic about a
// completed job: SNS fields and headers, and the Message equal to the
// job's DescribeJob JSON.
func (ts *testServer) notifCheck(t *testing.T, p notifPost, topic, vault, jobID string) {
	t.Helper()
	e := p.Env
	if e.Type != "Notification" || e.TopicArn != topic || e.MessageId == "" || e.SignatureVersion == "" || e.Signature == "" {
		t.Errorf("envelope %s", p.Body)
	}
	if _, err := time.Parse(jobTimeLayout, e.Timestamp); err != nil {
		t.Errorf("envelope Timestamp %q: %v", e.Timestamp, err)
	}
	if p.Header.Get("x-amz-sns-message-type") != "Notification" || p.Header.Get("x-amz-sns-message-id") != e.MessageId ||
		p.Header.Get("x-amz-sns-topic-arn") != topic {
		t.Errorf("notification headers %v", p.Header)
	}
	// The Message is the job's DescribeJob JSON, same fields and values.
	r := ts.do(t, "GET", "/-/vaults/"+vault+"/jobs/"+jobID, nil, nil)
	if r.Status != 200 {
		t.Fatalf("DescribeJob: %d %s", r.Status, r.Body)
	}
	var described map[string]any
	if err := json.Unmarshal(r.Body, &described); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Job, described) {
		t.Errorf("notification Message\n%s\ndiffers from DescribeJob\n%s", e.Message, r.Body)
	}
	if p.Job["JobId"] != jobID || p.Job["StatusCode"] != "Succeeded" || p.Job["Completed"] != true {
		t.Errorf("Message %s: want JobId %s, StatusCode Succeeded, Completed true", e.Message, jobID)
	}
}

// notifSetVault subscribes the vault's topic to events.
func notifSetVault(t *testing.T, c *glacier.Client, vault, topic string, events ...string) {
	t.Helper()
	_, err := c.SetVaultNotifications(context.Background(), &glacier.SetVaultNotificationsInput{
		VaultName:               aws.String(vault),
		VaultNotificationConfig: &types.VaultNotificationConfig{SNSTopic: aws.String(topic), Events: events},
	})
	if err != nil {
		t.Fatal(err)
	}
}

const (
	notifAccount    = "123456789012" // the account of both topics
	notifVaultTopic = "arn:aws:sns:us-east-1:" + notifAccount + ":jobs"
	notifJobTopic   = "arn:aws:sns:us-east-1:" + notifAccount + ":per-job"
)

// notifServe is jobServe with the account that owns the test topics: a
// topic may only be used by vaults and jobs of its own account.
func notifServe(t *testing.T, set func(*Config)) *testServer {
	t.Helper()
	ts := jobServeDir(t, t.TempDir(), set)
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, notifAccount)
	return ts
}

func TestJobNotifications(t *testing.T) {
	recv := newNotifReceiver(t, 200)
	ts := notifServe(t, func(c *Config) {
		c.JobDelays = "none"
		c.SNSEndpoints = []string{notifVaultTopic + "=" + recv.URL + "/vault", notifJobTopic + "=" + recv.URL + "/job"}
	})
	c := ts.client()
	mustCreateVault(t, c, "v")
	notifSetVault(t, c, "v", notifVaultTopic, "ArchiveRetrievalCompleted")
	archiveID := jobUpload(t, c, "v", "notify me", randomBytes(3000))

	// The vault does not subscribe to inventory completions: this job
	// notifies nobody.
	quiet := ts.jobInitiate(t, c, "v", &types.JobParameters{Type: aws.String("inventory-retrieval")})

	// A job with its own topic on a vault with a topic: both are told.
	p := jobArchiveParams(archiveID, "", "")
	p.SNSTopic = aws.String(notifJobTopic)
	id := ts.jobInitiate(t, c, "v", p)
	both := func(ps []notifPost) bool { return notifDelivered("/vault")(ps) && notifDelivered("/job")(ps) }
	ps := recv.wait(t, id, "want notifications on both topics", both)
	var vaultPost, jobPost notifPost
	for _, p := range ps {
		switch p.Path {
		case "/vault":
			vaultPost = p
		case "/job":
			jobPost = p
		}
	}
	ts.notifCheck(t, vaultPost, notifVaultTopic, "v", id)
	ts.notifCheck(t, jobPost, notifJobTopic, "v", id)
	if vaultPost.Env.MessageId == jobPost.Env.MessageId {
		t.Errorf("both topics got MessageId %s; want one message per topic", vaultPost.Env.MessageId)
	}
	if jobPost.Job["SNSTopic"] != notifJobTopic || jobPost.Job["Action"] != "ArchiveRetrieval" || jobPost.Job["ArchiveId"] != archiveID {
		t.Errorf("Message %s", jobPost.Env.Message)
	}

	// An inventory job with its own topic: only that topic, and the
	// message carries the inventory fields.
	inv := ts.jobInitiate(t, c, "v", &types.JobParameters{Type: aws.String("inventory-retrieval"), SNSTopic: aws.String(notifJobTopic)})
	ps = recv.wait(t, inv, "want the inventory job's notification", notifDelivered("/job"))
	ts.notifCheck(t, ps[0], notifJobTopic, "v", inv)
	if ps[0].Job["Action"] != "InventoryRetrieval" || ps[0].Job["InventorySizeInBytes"] == nil {
		t.Errorf("inventory Message %s", ps[0].Env.Message)
	}

	// A job whose topic is the vault's own: one message, not two.
	p = jobArchiveParams(archiveID, "Bulk", "")
	p.SNSTopic = aws.String(notifVaultTopic)
	same := ts.jobInitiate(t, c, "v", p)
	recv.wait(t, same, "want the notification of a job on the vault's topic", notifDelivered("/vault"))

	// Notifications go out in order: once a last job's notification has
	// arrived, nothing about the earlier ones is still coming.
	last := ts.jobInitiate(t, c, "v", p)
	recv.wait(t, last, "want the last job's notification", notifDelivered("/vault"))
	if ps := recv.forJob(quiet); len(ps) != 0 {
		t.Errorf("the inventory job without a topic on a vault subscribed to ArchiveRetrievalCompleted sent %d notifications: %s", len(ps), ps[0].Body)
	}
	if ps := recv.forJob(inv); len(ps) != 1 {
		t.Errorf("the inventory job with a topic sent %d notifications, want 1", len(ps))
	}
	if ps := recv.forJob(same); len(ps) != 1 {
		t.Errorf("a job whose topic is the vault's sent %d notifications, want 1", len(ps))
	}
	if ps := recv.forJob(id); len(ps) != 2 {
		t.Errorf("the job with two topics sent %d notifications, want 2", len(ps))
	}
}

// TestNotificationAfterClockAdvance: a job completed by the scheduler after
// the test clock moved on is notified promptly, like any other.
func TestNotificationAfterClockAdvance(t *testing.T) {
	recv := newNotifReceiver(t, 200)
	ts := notifServe(t, func(c *Config) {
		c.SNSEndpoints = []string{notifVaultTopic + "=" + recv.URL + "/vault"}
	})
	c := ts.client()
	mustCreateVault(t, c, "v")
	notifSetVault(t, c, "v", notifVaultTopic, "ArchiveRetrievalCompleted", "InventoryRetrievalCompleted")
	archiveID := jobUpload(t, c, "v", "later", randomBytes(3000))

	id := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "Standard", ""))
	ts.advance(t, 3*time.Hour+time.Minute)
	jobWait(t, c, "v", id, types.StatusCodeSucceeded)
	deadline := time.Now().Add(jobWaitLimit)
	for !notifDelivered("/vault")(recv.forJob(id)) {
		if time.Now().After(deadline) {
			// Say where the message is: queued for later, or gone.
			ctx := context.Background()
			wall, _ := ts.stores.meta.DueNotifications(ctx, time.Now(), 100)
			server, _ := ts.stores.meta.DueNotifications(ctx, ts.service.Clock.Now(), 100)
			for _, n := range server {
				t.Logf("outbox: %s topic %s attempts %d next attempt %s (wall clock %s, server clock %s)",
					n.ID, n.TopicARN, n.Attempts, n.NextAttemptAt.UTC().Format(jobTimeLayout),
					time.Now().UTC().Format(jobTimeLayout), ts.service.Clock.Now().UTC().Format(jobTimeLayout))
			}
			t.Fatalf("no notification %v after the job completed 3 h later on the test clock; outbox: %d due by the wall clock, %d due by the server clock",
				jobWaitLimit, len(wall), len(server))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.notifCheck(t, recv.forJob(id)[0], notifVaultTopic, "v", id)
}

func TestNotificationSurvivesRestart(t *testing.T) {
	recv := newNotifReceiver(t, 500)
	set := func(c *Config) {
		c.JobDelays = "none"
		c.SNSEndpoints = []string{notifVaultTopic + "=" + recv.URL + "/vault"}
	}
	ts := notifServe(t, set)
	c := ts.client()
	mustCreateVault(t, c, "v")
	notifSetVault(t, c, "v", notifVaultTopic, "ArchiveRetrievalCompleted")
	archiveID := jobUpload(t, c, "v", "retry", randomBytes(3000))

	// The job completes while the endpoint fails; the server retries.
	id := ts.jobInitiate(t, c, "v", jobArchiveParams(archiveID, "", ""))
	recv.wait(t, id, "want two failed delivery attempts", func(ps []notifPost) bool { return len(ps) >= 2 })
	if d := jobDescribe(t, c, "v", id); d.StatusCode != types.StatusCodeSucceeded {
		t.Errorf("a failed notification changed the job: %s", d.StatusCode)
	}

	// Stop the server, let the endpoint recover, and start a new process
	// on the same data directory: the queued message is delivered.
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	failed := recv.forJob(id) // every attempt the first server made
	recv.setStatus(200)
	ts2 := jobServeDir(t, ts.Config.DataDir, set)
	ts2.AccountID, ts2.KeyID, ts2.Secret = ts.AccountID, ts.KeyID, ts.Secret
	ps := recv.wait(t, id, "want the notification delivered after the restart", notifDelivered("/vault"))
	ts2.notifCheck(t, ps[len(ps)-1], notifVaultTopic, "v", id)
	for _, p := range ps {
		if p.Env.MessageId != failed[0].Env.MessageId || p.Env.Timestamp != failed[0].Env.Timestamp || p.Env.Message != failed[0].Env.Message {
			t.Errorf("attempt %s (answered %d) differs from the first attempt %s: a retry must resend the same message", p.Body, p.Status, failed[0].Body)
		}
	}
	if n := len(ps) - len(failed); n < 1 || ps[len(ps)-1].Status != 200 {
		t.Errorf("after the restart: %d new attempts, last answered %d", n, ps[len(ps)-1].Status)
	}
}
