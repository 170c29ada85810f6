package disk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// anchorDir holds the audit log's anchors (internal/audit), beside the
// blobs so that List and the sweep never see them. A file store cannot
// keep them under retention: whoever can write the directory can remove
// them (see the README's Compliance section).
const anchorDir = "audit-anchors"

// PutAnchor writes an audit anchor file durably; an anchor of that name
// that exists is left as it is. retainUntil is ignored: files have no
// retention.
func (s *Store) PutAnchor(ctx context.Context, name string, body []byte, _ time.Time) error {
	dir := filepath.Join(s.dir, anchorDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	final := filepath.Join(dir, name+".json")
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), final); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ListAnchors calls fn with the name and content of every anchor, in
// name order.
func (s *Store) ListAnchors(ctx context.Context, fn func(name string, body []byte) error) error {
	dir := filepath.Join(s.dir, anchorDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := fn(name, body); err != nil {
			return err
		}
	}
	return nil
}
