package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/authcache"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/notify"
)

// metaStore is an opened metadata store as the commands see it: the roles
// they use themselves (identity administration, settings, lock reads), the
// notification outbox (notify.Outbox), Roles for the service, and Close.
// Both engines implement it; the service gets the store split by role
// (serviceStores), so no part of it sees more than it uses.
type metaStore interface {
	glacier.IdentityStore
	glacier.SettingStore
	glacier.PolicyStore
	notify.Outbox
	// Roles returns the store in every role of glacier.Stores.
	Roles() glacier.Stores
	Close() error
}

// stores are the storage components of an installation.
type stores struct {
	meta   metaStore
	blobs  glacier.BlobStore
	shared bool // metadata lives in a server several nodes may share
}

// storeFlags binds --data-dir, --meta and --blobs, shared by serve and the
// operator commands.
type storeFlags struct {
	DataDir string
	Meta    string
	Blobs   string
	// ReadSide opens a local blob directory without owning it (no tmp
	// clean-up): for commands that run beside a server (migrate's source,
	// scrub).
	ReadSide bool
}

// bindMeta binds --data-dir and --meta (the operator commands).
func (f *storeFlags) bindMeta(fs *flag.FlagSet) {
	stringFlag(fs, &f.DataDir, "data-dir", defaultDataDir, "directory holding the embedded metadata and archive bytes")
	stringFlag(fs, &f.Meta, "meta", "", "metadata store: a postgres:// URL; empty for SQLite in --data-dir")
}

// bind binds --data-dir, --meta and --blobs (serve, migrate).
func (f *storeFlags) bind(fs *flag.FlagSet) {
	f.bindMeta(fs)
	stringFlag(fs, &f.Blobs, "blobs", "", "archive byte store: s3://bucket/prefix?endpoint=URL&region=R&storage-class=C&path-style=true, or file:///path; empty for files in --data-dir")
}

// openMetaStore opens only the metadata store of an existing installation
// (the operator commands); it creates nothing.
func openMetaStore(ctx context.Context, f storeFlags) (*stores, error) {
	if err := checkInstallation(ctx, f); err != nil {
		return nil, err
	}
	meta, shared, err := openMeta(ctx, f)
	if err != nil {
		return nil, err
	}
	return &stores{meta: meta, shared: shared}, nil
}

// openStores opens the metadata and blob stores: by default the embedded
// ones under dataDir (SQLite in dataDir/meta.db, files under
// dataDir/archives); --meta and --blobs choose others by URL scheme, in
// this one switch.
func openStores(ctx context.Context, f storeFlags) (*stores, error) {
	meta, shared, err := openMeta(ctx, f)
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobs(ctx, f)
	if err != nil {
		meta.Close()
		return nil, err
	}
	return &stores{meta: meta, blobs: blobs, shared: shared}, nil
}

func openMeta(ctx context.Context, f storeFlags) (metaStore, bool, error) {
	if err := checkStoreSettings(storeFlags{Meta: f.Meta}); err != nil {
		return nil, false, err
	}
	switch scheme(f.Meta) {
	case "":
		if err := os.MkdirAll(f.DataDir, 0o700); err != nil {
			return nil, false, fmt.Errorf("data dir: %w", err)
		}
		m, err := sqlite.Open(filepath.Join(f.DataDir, "meta.db"))
		if err != nil {
			return nil, false, fmt.Errorf("metadata store: %w", err)
		}
		return m, false, nil
	case "sqlite":
		m, err := sqlite.Open(strings.TrimPrefix(strings.TrimPrefix(f.Meta, "sqlite:"), "//"))
		if err != nil {
			return nil, false, fmt.Errorf("metadata store: %w", err)
		}
		return m, false, nil
	case "postgres", "postgresql":
		return openPostgres(ctx, f.Meta)
	}
	return nil, false, usageError{fmt.Sprintf("--meta %q: use a postgres:// URL, sqlite:PATH, or nothing for the embedded database in --data-dir", redact(f.Meta))}
}

func openBlobs(ctx context.Context, f storeFlags) (glacier.BlobStore, error) {
	if err := checkStoreSettings(storeFlags{Blobs: f.Blobs}); err != nil {
		return nil, err
	}
	dir := ""
	switch scheme(f.Blobs) {
	case "":
		dir = filepath.Join(f.DataDir, "archives")
	case "file":
		u, err := url.Parse(f.Blobs)
		if err != nil || u.Path == "" {
			return nil, usageError{fmt.Sprintf("--blobs %q: use file:///absolute/path", f.Blobs)}
		}
		dir = u.Path
	case "s3":
		return openS3(ctx, f.Blobs)
	default:
		return nil, usageError{fmt.Sprintf("--blobs %q: use an s3:// URL, file:///path, or nothing for files in --data-dir", f.Blobs)}
	}
	open := disk.Open
	if f.ReadSide {
		open = disk.OpenShared
	}
	b, err := open(dir)
	if err != nil {
		return nil, fmt.Errorf("archive store: %w", err)
	}
	return b, nil
}

func (s *stores) Close() error { return s.meta.Close() }

// serviceStores is the one place that splits the opened metadata store into
// the service's roles (glacier.Service.Stores). With cached, the
// authorization reads of the identity, vault and policy roles are kept in
// memory (internal/meta/authcache), checked against the store's stamp on
// every use: for a serving node, not for one-shot operator commands.
func (s *stores) serviceStores(cached bool) glacier.Stores {
	roles := s.meta.Roles()
	if cached {
		stamps, _ := s.meta.(authcache.Stamper)
		roles = authcache.Wrap(roles, stamps)
	}
	return roles
}

// scheme returns the lower-cased URL scheme of v, "" when it has none.
func scheme(v string) string {
	i := strings.Index(v, ":")
	if i <= 0 {
		return ""
	}
	return strings.ToLower(v[:i])
}

// redact hides a password in a URL for messages.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	return u.Redacted()
}
