package api

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/permafrost/permafrost/internal/glacier"
)

// The ListVaults answer of a page the vault cache still holds is kept in
// its rendered form (the bytes appendVaultList writes), keyed by the
// cached slice itself: the cache (internal/meta/authcache) hands out one
// slice per page until the account's stamps move, never modifies it, and
// keeps a new read in a new slice. An entry here holds its slice, so its
// memory cannot be reused for another while the entry exists: the same
// first element and length is the same page, and the bytes are what
// rendering it again would write (the region and inventory settings
// rendering uses are fixed for the server's life). A page read again
// after any change is a different slice and is rendered anew. Without the
// cache every read is a new slice and nothing is served from here.

// maxRenderedLists bounds renderedLists.m; a full map is cleared.
const maxRenderedLists = 1024

type renderedLists struct {
	mu sync.RWMutex
	m  map[renderedListKey]*renderedList
}

type renderedListKey struct {
	account, from string
	limit         int
}

type renderedList struct {
	src  []glacier.Vault // the page rendered, held so its memory is not reused
	next string
	body []byte
	clen string // strconv.Itoa(len(body))
}

// get returns the rendered answer of p, nil when it has none.
func (c *renderedLists) get(k renderedListKey, p *glacier.VaultPage) *renderedList {
	if len(p.Stored) == 0 {
		return nil
	}
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e != nil && &e.src[0] == &p.Stored[0] && len(e.src) == len(p.Stored) && e.next == p.Next {
		return e
	}
	return nil
}

func (c *renderedLists) put(k renderedListKey, e *renderedList) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxRenderedLists {
		c.m = make(map[renderedListKey]*renderedList)
	}
	c.m[k] = e
	c.mu.Unlock()
}

// appendVaultPage appends the ListVaults answer of p (appendVaultList of
// its vaults as clients see them).
func (s *Server) appendVaultPage(b []byte, p *glacier.VaultPage, account string) []byte {
	b = append(b, `{"VaultList":[`...)
	for i := range p.Stored {
		if i > 0 {
			b = append(b, ',')
		}
		v := p.Vault(i)
		b = s.appendVault(b, &v)
	}
	return s.appendListMarker(b, account, p.Next)
}

// writeVaultPage writes the ListVaults answer of p for account's page
// starting at from, rendered once per cached page.
func (s *Server) writeVaultPage(w http.ResponseWriter, p *glacier.VaultPage, account, from string, limit int) {
	k := renderedListKey{account, from, limit}
	e := s.lists.get(k, p)
	if e == nil {
		body := s.appendVaultPage(nil, p, account)
		e = &renderedList{src: p.Stored, next: p.Next, body: body, clen: strconv.Itoa(len(body))}
		if len(p.Stored) > 0 {
			s.lists.put(k, e)
		}
	}
	h := w.Header()
	vals := make([]string, 2)
	vals[0], vals[1] = "application/json", e.clen
	h["Content-Type"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	w.WriteHeader(http.StatusOK)
	w.Write(e.body)
}
