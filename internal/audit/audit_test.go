package audit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// memLog is an in-memory Log that appends like the stores do.
type memLog struct {
	recs []Stored
	head Head
}

func (m *memLog) AppendAudit(_ context.Context, r *Record) error {
	if !r.Claim() {
		return nil
	}
	if m.head.Hash == "" {
		m.head.Hash = Genesis
	}
	seq := m.head.Seq + 1
	body := r.Body(seq)
	h := Hash(m.head.Hash, body)
	m.recs = append(m.recs, Stored{Seq: seq, Body: body, PrevHash: m.head.Hash, Hash: h})
	m.head = Head{seq, h}
	r.Settle(true)
	return nil
}

func (m *memLog) AuditHead(context.Context) (Head, error) {
	if m.head.Hash == "" {
		return Head{0, Genesis}, nil
	}
	return m.head, nil
}

func (m *memLog) ScanAudit(_ context.Context, from int64, fn func(Stored) error) error {
	for _, s := range m.recs {
		if s.Seq >= from {
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

type memAnchors map[string][]byte

func (a memAnchors) PutAnchor(_ context.Context, name string, body []byte, _ time.Time) error {
	if _, ok := a[name]; !ok {
		a[name] = body
	}
	return nil
}

func (a memAnchors) ListAnchors(_ context.Context, fn func(string, []byte) error) error {
	for k, v := range a {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func TestChainVerify(t *testing.T) {
	ctx := context.Background()
	log, anchors := &memLog{}, memAnchors{}
	an := &Anchorer{Log: log, Store: anchors}
	for i, name := range []string{"CreateVault", "UploadArchive", "DeleteArchive", "DeleteVault"} {
		r := NewRecord(Event{EventName: name, EventTime: time.Unix(int64(i), 0).UTC(), RequestParameters: map[string]string{"vaultName": "v"}})
		if err := log.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
		if !r.Appended() || log.AppendAudit(ctx, r) != nil || len(log.recs) != i+1 {
			t.Fatal("a record is appended once")
		}
		if i == 2 {
			if err := an.Anchor(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := Verify(ctx, log, anchors)
	if err != nil || rep.Break != nil || rep.Records != 4 || rep.Covered != 3 {
		t.Fatalf("intact: %+v %v", rep, err)
	}
	check := func(what string, mutate func(l *memLog), want string) {
		t.Helper()
		l := &memLog{recs: append([]Stored(nil), log.recs...), head: log.head}
		mutate(l)
		rep, err := Verify(ctx, l, anchors)
		if err != nil || rep.Break == nil || !strings.Contains(rep.Break.Problem, want) {
			t.Errorf("%s: %+v (%v), want a break mentioning %q", what, rep.Break, err, want)
		}
	}
	check("edited", func(l *memLog) { l.recs[1].Body = []byte(strings.Replace(string(l.recs[1].Body), `"v"`, `"w"`, 1)) }, "does not match its hash")
	check("edited and rehashed", func(l *memLog) {
		// Rewriting record 2 and every hash after it keeps the chain
		// consistent, but the anchor of record 3 no longer matches.
		prev := l.recs[0].Hash
		for i := 1; i < len(l.recs); i++ {
			if i == 1 {
				l.recs[i].Body = []byte(strings.Replace(string(l.recs[i].Body), `"v"`, `"w"`, 1))
			}
			l.recs[i].PrevHash = prev
			l.recs[i].Hash = Hash(prev, l.recs[i].Body)
			prev = l.recs[i].Hash
		}
		l.head = Head{4, prev}
	}, "an anchor records hash")
	check("deleted", func(l *memLog) { l.recs = append(l.recs[:1], l.recs[2:]...) }, "record 2 is missing")
	check("last deleted", func(l *memLog) { l.recs = l.recs[:3] }, "chain head")
	check("rolled back", func(l *memLog) { l.recs = l.recs[:2]; l.head = Head{2, l.recs[1].Hash} }, "anchor vouches for record 3")
	check("reordered", func(l *memLog) {
		l.recs[1], l.recs[2] = l.recs[2], l.recs[1]
		l.recs[1].Seq, l.recs[2].Seq = 2, 3
	}, "predecessor hash")
}

func TestExportLineAndDetach(t *testing.T) {
	r := NewRecord(Event{EventName: "X", RequestID: "r"})
	s := Stored{Body: r.Body(7), PrevHash: Genesis, Hash: "ab"}
	line := string(ExportLine(s))
	if !strings.HasPrefix(line, `{"sequence":7,`) || !strings.HasSuffix(line, `"previousHash":"`+Genesis+`","hash":"ab"}`) {
		t.Fatalf("export line %s", line)
	}
	ctx := WithRecord(context.Background(), r)
	if FromContext(ctx) != r || FromContext(Detach(ctx)) != nil {
		t.Fatal("Detach must drop the record")
	}
	Note(ctx, "archiveId", "a1")
	if !strings.Contains(string(r.Body(1)), `"responseElements":{"archiveId":"a1"}`) {
		t.Fatalf("Note: %s", r.Body(1))
	}
}
