package authcache

import (
	"context"
	"sync/atomic"
	"testing"
)

// pairStamper counts its reads: Stamps answers (auth, data) = (n, 100+n)
// for the n-th read; the single-stamp methods must not be called.
type pairStamper struct {
	pairs, singles atomic.Int64
}

func (p *pairStamper) Stamps(ctx context.Context, accountID string) (int64, int64, error) {
	n := p.pairs.Add(1)
	return n, 100 + n, nil
}

func (p *pairStamper) AuthStamp(ctx context.Context, accountID string) (int64, error) {
	p.singles.Add(1)
	return -1, nil
}

func (p *pairStamper) DataStamp(ctx context.Context, accountID string) (int64, error) {
	p.singles.Add(1)
	return -1, nil
}

// TestPairStamperOneRead: with a store that reads both stamps in one
// statement, a request that needs both costs one shared read, which
// answers both from the same read; one that needs the authorization stamp
// alone uses the same reads.
func TestPairStamperOneRead(t *testing.T) {
	st := &pairStamper{}
	c := newCache(st)
	if !c.shared || !c.pair {
		t.Fatalf("cache on a PairStamper: shared %v, pair %v; want both", c.shared, c.pair)
	}
	ctx := t.Context()
	for i := int64(1); i <= 3; i++ {
		a, d, err := c.stampsOf(ctx, "acct")
		if err != nil || a != i || d != 100+i {
			t.Fatalf("stampsOf #%d = %d, %d, %v; want %d, %d (one read each)", i, a, d, err, i, 100+i)
		}
	}
	if a, err := c.authStamp(ctx, "acct"); err != nil || a != 4 {
		t.Fatalf("authStamp = %d, %v; want 4", a, err)
	}
	if n := st.pairs.Load(); n != 4 {
		t.Errorf("%d reads of both stamps, want 4", n)
	}
	if n := st.singles.Load(); n != 0 {
		t.Errorf("%d reads of a single stamp, want 0", n)
	}
}
