package glacier

import (
	"sync"

	"github.com/permafrost/permafrost/internal/policy"
)

// policyCache keeps parsed policies by their text, so a request does not
// re-parse the same vault and identity policies every time. Documents are
// immutable values: a changed policy is a different key. The cache is
// bounded by clearing it when full, which is cheap and rare.
type policyCache struct {
	mu sync.RWMutex
	m  map[policyKey]*policy.Policy
}

type policyKey struct {
	doc  string
	kind policy.DocKind
}

const policyCacheSize = 4096

func (c *policyCache) parse(doc string, kind policy.DocKind) (*policy.Policy, error) {
	k := policyKey{doc, kind}
	c.mu.RLock()
	p, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= policyCacheSize {
		c.m = make(map[policyKey]*policy.Policy)
	}
	c.m[k] = p
	c.mu.Unlock()
	return p, nil
}
