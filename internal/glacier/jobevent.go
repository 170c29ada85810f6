package glacier

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A finished job's notifications are queued in the outbox as a domain
// event: the finished job itself, not its wire form. The message SNS
// receivers get (the job's DescribeJob JSON) is rendered at delivery by
// the edge (internal/notify, with internal/api's renderer), so the domain
// never calls back into the wire layer.

// jobEventPrefix starts the stored Message of a notification that carries
// a finished job. A message queued already rendered (by a version before
// the job events) is JSON and starts with "{".
const jobEventPrefix = "permafrost.job-completed.v1:"

// JobEventMessage is the stored Message of a notification about the
// finished job j (read back by NotificationJob).
func JobEventMessage(j Job) string {
	j.Segments = nil // pinned blobs: not part of what the message says
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return jobEventPrefix + string(b)
}

// NotificationJob returns the finished job a queued notification is about.
// ok is false when the notification's Message is already the rendered
// message (queued by an earlier version); err reports a damaged event.
func NotificationJob(n Notification) (j Job, ok bool, err error) {
	rest, ok := strings.CutPrefix(n.Message, jobEventPrefix)
	if !ok {
		return Job{}, false, nil
	}
	if err := json.Unmarshal([]byte(rest), &j); err != nil {
		return Job{}, true, fmt.Errorf("notification %s: reading its job: %w", n.ID, err)
	}
	return j, true, nil
}
