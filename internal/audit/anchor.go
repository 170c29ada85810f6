package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Anchor is a copy of the chain head written outside the database (to the
// blob store, under Object Lock retention where the bucket has it). A
// database rewritten or restored behind an anchor no longer matches it.
type Anchor struct {
	Seq     int64     `json:"sequence"`
	Hash    string    `json:"hash"`
	Written time.Time `json:"written"`
	Node    string    `json:"node,omitempty"`
}

// AnchorStore keeps anchors. Names are chosen by this package
// ([0-9a-f-]); an existing name is left as it is.
type AnchorStore interface {
	PutAnchor(ctx context.Context, name string, body []byte, retainUntil time.Time) error
	ListAnchors(ctx context.Context, fn func(name string, body []byte) error) error
}

// anchorName orders anchors by sequence and tells two heads of one
// sequence apart (which only a rewritten database can produce).
func anchorName(h Head) string {
	return fmt.Sprintf("%020d-%s", h.Seq, h.Hash[:16])
}

// Anchorer writes the chain head as an anchor at an interval and at
// shutdown, when it has moved since the last anchor.
type Anchorer struct {
	Log       Log
	Store     AnchorStore
	Interval  time.Duration
	Retention func() time.Duration // how long anchors are kept under retention
	Logger    *slog.Logger

	last Head
}

// Anchor writes the current head unless it was anchored already.
func (a *Anchorer) Anchor(ctx context.Context) error {
	h, err := a.Log.AuditHead(ctx)
	if err != nil {
		return err
	}
	if h.Seq == 0 || h == a.last {
		return nil
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	body, _ := json.Marshal(Anchor{Seq: h.Seq, Hash: h.Hash, Written: now, Node: host})
	var until time.Time
	if a.Retention != nil {
		if d := a.Retention(); d > 0 {
			until = now.Add(d)
		}
	}
	if err := a.Store.PutAnchor(ctx, anchorName(h), body, until); err != nil {
		return err
	}
	a.last = h
	return nil
}

// Run anchors every Interval until ctx ends. The clean shutdown's anchor
// is the caller's: Anchor once more after the last request has finished.
func (a *Anchorer) Run(ctx context.Context) {
	t := time.NewTicker(a.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Anchor(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Warn("writing the audit anchor failed; retrying at the next interval", "err", err)
			}
		}
	}
}

// Break is the first place the chain does not hold.
type Break struct {
	Seq     int64  // the record (or anchor sequence) where it breaks
	Problem string // what is wrong
	Body    string // the stored record, when there is one
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit log broken at record %d: %s", b.Seq, b.Problem)
}

// Report is the result of Verify.
type Report struct {
	Records int64
	Head    Head
	Anchors int
	Covered int64 // highest sequence an anchor vouches for
	Break   *Break
}

// Verify checks the whole chain: sequence numbers without gaps from 1,
// every record's predecessor hash and own hash, the head, and every
// anchor (its record must exist and have its hash).
func Verify(ctx context.Context, log Log, anchors AnchorStore) (Report, error) {
	var rep Report
	want := map[int64][]string{}
	if anchors != nil {
		err := anchors.ListAnchors(ctx, func(name string, body []byte) error {
			var a Anchor
			if err := json.Unmarshal(body, &a); err != nil || a.Seq <= 0 || len(a.Hash) != 64 {
				return fmt.Errorf("anchor %s is not readable", name)
			}
			want[a.Seq] = append(want[a.Seq], a.Hash)
			rep.Anchors++
			if a.Seq > rep.Covered {
				rep.Covered = a.Seq
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	prev, next := Genesis, int64(1)
	stop := fmt.Errorf("stop")
	err := log.ScanAudit(ctx, 1, func(s Stored) error {
		brk := func(format string, args ...any) error {
			rep.Break = &Break{Seq: s.Seq, Problem: fmt.Sprintf(format, args...), Body: string(s.Body)}
			return stop
		}
		if s.Seq != next {
			rep.Break = &Break{Seq: next, Problem: fmt.Sprintf("record %d is missing (the next stored record is %d)", next, s.Seq)}
			return stop
		}
		if s.PrevHash != prev {
			return brk("its predecessor hash %s is not the hash %s of record %d", short(s.PrevHash), short(prev), s.Seq-1)
		}
		if h := Hash(s.PrevHash, s.Body); h != s.Hash {
			return brk("its content does not match its hash (edited?)")
		}
		var seqOnly struct {
			Sequence int64 `json:"sequence"`
		}
		if err := json.Unmarshal(s.Body, &seqOnly); err != nil || seqOnly.Sequence != s.Seq {
			return brk("its content names sequence %d", seqOnly.Sequence)
		}
		for _, h := range want[s.Seq] {
			if h != s.Hash {
				return brk("an anchor records hash %s for it, the log has %s (rewritten?)", short(h), short(s.Hash))
			}
		}
		prev, next = s.Hash, next+1
		rep.Records++
		return nil
	})
	if err != nil && err != stop {
		return rep, err
	}
	if rep.Break != nil {
		return rep, nil
	}
	head, err := log.AuditHead(ctx)
	if err != nil {
		return rep, err
	}
	rep.Head = head
	switch {
	case head.Seq != rep.Records || head.Hash != prev:
		rep.Break = &Break{Seq: head.Seq, Problem: fmt.Sprintf("the chain head (record %d, %s) is not the last record (%d, %s): records were removed", head.Seq, short(head.Hash), rep.Records, short(prev))}
	case rep.Covered > rep.Records:
		rep.Break = &Break{Seq: rep.Covered, Problem: fmt.Sprintf("an anchor vouches for record %d, but the log ends at record %d: records were removed or the database was restored from an older backup", rep.Covered, rep.Records)}
	}
	return rep, nil
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// ExportLine is a stored record as one JSON line: its body with the chain
// fields added.
func ExportLine(s Stored) []byte {
	body := strings.TrimSuffix(strings.TrimSpace(string(s.Body)), "}")
	return []byte(body + fmt.Sprintf(`,"previousHash":%q,"hash":%q}`, s.PrevHash, s.Hash))
}
