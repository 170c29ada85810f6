// Package notify delivers Glacier job notifications to
// HTTP(S) endpoints in the format Amazon SNS uses for HTTP subscriptions,
// reading them from a persistent outbox.
//
// Decisions:
//
//   - The outbox is the source of truth. A completed job and its
//     notification are committed together by the metadata store; this
//     package only drains the queue, so a crash between the two cannot lose
//     a message. It declares the small Outbox interface it needs, in glacier
//     types, and the stores satisfy it without importing notify (consumers
//     declare what they need).
//   - Delivery is at least once. A notification leaves the outbox only after
//     its endpoint answered 2xx (or it was dropped, see below); a crash after
//     the POST but before the store call, or two servers draining one outbox,
//     can deliver a message twice. The SNS MessageId is the notification ID,
//     stable across retries, so a receiver can drop duplicates.
//   - Anything but a 2xx answer, or a transport error, is a failed attempt:
//     the store records it with the next attempt time, BaseBackoff·2^(n-1)
//     after the n-th failure, capped at MaxBackoff, with ±20% jitter so
//     that a recovering endpoint is not hit by every message at once.
//     Redirects are not followed by the default client (a 3xx is a failure).
//     After MaxAttempts failures the notification is given up: logged at
//     error level and removed.
//   - A topic with no configured endpoint loses its messages, as a
//     misconfigured topic does in the real service: the
//     notification is logged at warning level and removed. It never affects
//     the job.
//   - Deliveries run one after another. Each POST is bounded by the HTTP
//     client's timeout (10 s by default), so a slow endpoint delays the
//     queue but cannot stall it.
//   - Envelopes are signed as SNS signs them (SignatureVersion 2,
//     SHA256withRSA), with a per-installation key kept in the metadata
//     store rather than AWS's; the Signer serves the certificate. See
//     Signer.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Defaults for the zero values of Deliverer's fields.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultInterval    = time.Second
	DefaultBaseBackoff = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultMaxAttempts = 20
	DefaultBatchSize   = 100
)

// Outbox is the persistent queue of notifications, implemented by the
// metadata stores. Notifications are added by the store in the same
// transaction that completes their job; notify never adds any.
type Outbox interface {
	// DueNotifications returns up to limit undelivered notifications whose
	// NextAttemptAt is at or before now, oldest first.
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]glacier.Notification, error)
	// NotificationDelivered removes (or marks done) a delivered
	// notification. Removing one that is already gone is not an error.
	NotificationDelivered(ctx context.Context, id string) error
	// NotificationFailed records a failed attempt: Attempts+1,
	// NextAttemptAt = next, LastError = msg.
	NotificationFailed(ctx context.Context, id string, next time.Time, msg string) error
}

// Deliverer drains an Outbox, POSTing each notification to the endpoint
// configured for its topic. Its fields are read-only once Run or DeliverDue
// has been called; the zero value of every field but Outbox is usable.
type Deliverer struct {
	Outbox Outbox
	// Endpoints maps a topic ARN to the HTTP(S) URL that receives SNS-format
	// POSTs. A notification for a topic not in the map is dropped: logged at
	// warning level and removed from the outbox, never retried, as the real
	// service loses messages for a misconfigured topic.
	Endpoints map[string]string
	// Client sends the POSTs; nil means a client with a 10 s timeout that
	// does not follow redirects. If Client has no timeout of its own, each
	// POST is still bounded by DefaultTimeout.
	Client *http.Client
	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // wall clock for retry scheduling; nil: time.Now
	// Interval is how often Run polls the outbox when idle and not woken;
	// 0: 1 s.
	Interval time.Duration
	// Backoff before attempt n+1 after n failures:
	// min(MaxBackoff, BaseBackoff·2^(n-1)) with jitter ±20%. Defaults 1 s
	// and 5 min.
	BaseBackoff, MaxBackoff time.Duration
	// MaxAttempts: after this many failures the notification is given up
	// (logged at error level, NotificationDelivered called so it leaves the
	// queue); 0: 20.
	MaxAttempts int
	// BatchSize is the limit passed to DueNotifications in one pass; 0: 100.
	BatchSize int
	// JobMessage renders the message of a notification queued as a
	// finished job (glacier.NotificationJob): the job's DescribeJob JSON,
	// a wire form internal/api owns (api.JobMessage), given here where the
	// server is assembled. Notifications queued already rendered are sent
	// as they are. A job notification met without JobMessage is dropped
	// (logged at error level).
	JobMessage func(glacier.Job) string
	// Signer signs each envelope and names its certificate and
	// unsubscribe URLs; nil sends them unsigned (empty Signature,
	// SigningCertURL and UnsubscribeURL), which only tests want.
	Signer *Signer

	once          sync.Once
	wake          chan struct{}
	defaultClient *http.Client
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.defaultClient = &http.Client{
			Timeout: DefaultTimeout,
			// An SNS endpoint answers the POST itself; following a redirect
			// would re-send the message somewhere nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
}

// Wake makes Run look at the outbox immediately rather than at its next
// poll. It never blocks; it is called when a job completes, and may be
// called before Run starts or when no Run is going.
func (d *Deliverer) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already pending; one pass serves both
	}
}

// Run delivers until ctx ends, then returns nil. It makes a pass over the
// due notifications when it starts, whenever Wake is called, every Interval,
// and again at once after a pass that found a full batch. Store errors are
// logged and the work retried on a later pass; Run returns an error only if
// the Deliverer has no Outbox.
func (d *Deliverer) Run(ctx context.Context) error {
	if d.Outbox == nil {
		return errors.New("notify: Deliverer has no Outbox")
	}
	d.init()
	interval := d.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	// Since Go 1.23 Reset discards a tick that fired unread, so the timer
	// can be reused without draining.
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		more := false
		if ctx.Err() == nil {
			r, err := d.pass(ctx)
			if err != nil && ctx.Err() == nil {
				d.logger().Error("notify: delivering notifications", "error", err)
			}
			// Go straight on only if the store kept up: after a store error
			// the same batch may still be due, and looping would spin.
			more = err == nil && r.fetched >= d.batchSize()
		}
		if more {
			continue
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// DeliverDue makes one pass over the notifications due now (at most
// BatchSize of them) and returns how many were delivered, meaning answered
// 2xx by their endpoint. Failed deliveries are recorded in the outbox, not
// returned as errors; the error reports a store that could not be read or
// updated (the pass goes on past an update error, and the affected
// notifications are retried on a later pass).
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	if d.Outbox == nil {
		return 0, errors.New("notify: Deliverer has no Outbox")
	}
	d.init()
	r, err := d.pass(ctx)
	return r.delivered, err
}

type passResult struct{ fetched, delivered int }

func (d *Deliverer) pass(ctx context.Context) (passResult, error) {
	var r passResult
	due, err := d.Outbox.DueNotifications(ctx, d.now(), d.batchSize())
	if err != nil {
		return r, fmt.Errorf("notify: reading outbox: %w", err)
	}
	r.fetched = len(due)
	var errs []error
	for _, n := range due {
		if ctx.Err() != nil {
			break
		}
		ok, err := d.handle(ctx, n)
		if ok {
			r.delivered++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return r, errors.Join(errs...)
}

// handle delivers one notification and records the outcome. It reports
// whether the endpoint accepted it, and any error from the store.
func (d *Deliverer) handle(ctx context.Context, n glacier.Notification) (bool, error) {
	log := d.logger().With("notification", n.ID, "topic", n.TopicARN)
	url, ok := d.Endpoints[n.TopicARN]
	if !ok {
		log.Warn("notify: no endpoint configured for topic (--sns-endpoint, --sns-topics-file); dropping notification, as SNS drops messages for a misconfigured topic")
		return false, d.remove(ctx, n.ID)
	}
	if j, ok, err := glacier.NotificationJob(n); ok {
		if err == nil && d.JobMessage == nil {
			err = errors.New("notify: the Deliverer has no JobMessage renderer")
		}
		if err != nil {
			log.Error("notify: dropping a notification whose message cannot be rendered", "error", err)
			return false, d.remove(ctx, n.ID)
		}
		n.Message = d.JobMessage(j)
	}
	maxAttempts := d.maxAttempts()
	if n.Attempts >= maxAttempts { // MaxAttempts was lowered since it last failed
		log.Error("notify: giving up on notification", "attempts", n.Attempts, "last_error", n.LastError)
		return false, d.remove(ctx, n.ID)
	}

	sendErr := d.post(ctx, url, n)
	if sendErr == nil {
		return true, d.remove(ctx, n.ID)
	}
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short by us, not failed by the
		// endpoint, so it is not counted.
		return false, nil
	}
	failures := n.Attempts + 1
	if failures >= maxAttempts {
		log.Error("notify: giving up on notification", "attempts", failures, "last_error", sendErr)
		return false, d.remove(ctx, n.ID)
	}
	next := d.now().Add(d.backoff(failures))
	log.Warn("notify: delivery failed; will retry", "attempts", failures, "next_attempt", next, "error", sendErr)
	if err := d.Outbox.NotificationFailed(ctx, n.ID, next, sendErr.Error()); err != nil {
		return false, fmt.Errorf("notify: recording failed attempt of %s: %w", n.ID, err)
	}
	return false, nil
}

func (d *Deliverer) remove(ctx context.Context, id string) error {
	if err := d.Outbox.NotificationDelivered(ctx, id); err != nil {
		return fmt.Errorf("notify: removing %s from outbox: %w", id, err)
	}
	return nil
}

// post sends n to url and returns nil if the endpoint answered 2xx.
func (d *Deliverer) post(ctx context.Context, url string, n glacier.Notification) error {
	e := NewEnvelope(n)
	if d.Signer != nil {
		if err := d.Signer.Sign(ctx, &e); err != nil {
			return err
		}
	}
	body, err := e.Marshal()
	if err != nil {
		return err
	}
	client := d.Client
	if client == nil {
		client = d.defaultClient
	}
	if client.Timeout <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	SetHeaders(req.Header, n)
	resp, err := client.Do(req)
	if err != nil {
		return err // *url.Error: names the URL without its password
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("endpoint answered %s", resp.Status)
	if s := cleanSnippet(snippet); s != "" {
		msg += ": " + s
	}
	return errors.New(msg)
}

// cleanSnippet makes the start of an error response fit for a log line and
// the outbox's LastError column.
func cleanSnippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "") // also drops a rune cut by the limit
	return strings.Join(strings.Fields(s), " ")
}

// backoff is the delay before the next attempt after failures failed ones:
// min(MaxBackoff, BaseBackoff·2^(failures-1)), then ±20% jitter.
func (d *Deliverer) backoff(failures int) time.Duration {
	base, ceiling := d.BaseBackoff, d.MaxBackoff
	if base <= 0 {
		base = DefaultBaseBackoff
	}
	if ceiling <= 0 {
		ceiling = DefaultMaxBackoff
	}
	delay := base
	for i := 1; i < failures && delay < ceiling; i++ {
		delay *= 2 // stops at the ceiling long before it could overflow
	}
	delay = min(delay, ceiling)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(delay) * jitter)
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (d *Deliverer) batchSize() int {
	if d.BatchSize > 0 {
		return d.BatchSize
	}
	return DefaultBatchSize
}
