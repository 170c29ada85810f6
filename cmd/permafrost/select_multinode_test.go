package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/testenv"
)

// countingLog counts the lines of every node's log that contain a needle.
type countingLog struct {
	mu     sync.Mutex
	needle string
	n      int
}

func (l *countingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.n += strings.Count(string(p), l.needle)
	l.mu.Unlock()
	return len(p), nil
}

func (l *countingLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// TestSelectJobMultiNode: three nodes on one database and bucket, with
// select output through the blob store's endpoint. When a select job falls
// due every scheduler sees it, yet one node runs it (ClaimJob's lease) and
// it completes once.
func TestSelectJobMultiNode(t *testing.T) {
	out := newSelectBucket(t)
	shared := storeFlags{Meta: testenv.PostgresDSN(t), Blobs: testenv.S3URL(t)}
	runs := &countingLog{needle: "select job done"}
	var nodes []*testServer
	for i := range 3 {
		cfg := DefaultConfig()
		cfg.Listen, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "info"
		cfg.Meta, cfg.Blobs, cfg.TestClock, cfg.InventoryInterval = shared.Meta, shared.Blobs, true, 0
		m := &Main{Config: cfg, Stderr: runs}
		if err := m.Open(context.Background()); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { m.Close() })
		nodes = append(nodes, &testServer{Main: m})
	}
	acct, key, secret := nodes[0].mustCreateAccount(t, "")
	for _, n := range nodes {
		n.AccountID, n.KeyID, n.Secret = acct, key, secret
	}
	a, b := nodes[0].client(), nodes[1].client()
	mustCreateVault(t, a, "mn")
	var data strings.Builder
	for i := range 1_500_000 {
		fmt.Fprintf(&data, "%d,row %d\n", i, i)
	}
	archive := jobUpload(t, a, "mn", "", []byte(data.String()))
	p := selectParams(archive, out.Name, "mn", "SELECT _2 FROM ARCHIVE WHERE CAST(_1 AS INT) % 500000 = 0", nil, nil)
	p.Tier = aws.String("Bulk")
	id := nodes[0].jobInitiate(t, a, "mn", p)
	nodes[2].advance(t, 6*time.Hour)
	jobWait(t, b, "mn", id, types.StatusCodeSucceeded)
	if got := out.results(t, "mn/"+id+"/"); got != "row 0\nrow 500000\nrow 1000000\n" {
		t.Errorf("results %q", got)
	}
	time.Sleep(time.Second) // let every scheduler pass over the job
	if n := runs.count(); n != 1 {
		t.Errorf("the job ran %d times, want once", n)
	}
}
