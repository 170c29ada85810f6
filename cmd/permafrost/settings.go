package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/permafrost/permafrost/internal/blob/s3"
)

// checkStoreSettings checks --meta and --blobs before anything is opened:
// a value that is set must parse and name a known store. A typo never
// falls back to the embedded stores, because with several nodes that is a
// silent split brain. Secrets in the values are registered for redaction
// first, so no message below (or later) can show them.
func checkStoreSettings(f storeFlags) error {
	registerURLSecrets(f.Meta)
	registerURLSecrets(f.Blobs)
	if err := checkMetaSetting(f.Meta); err != nil {
		return err
	}
	return checkBlobsSetting(f.Blobs)
}

func checkMetaSetting(v string) error {
	if v == "" {
		return nil
	}
	bad := func(why string) error {
		return usageError{fmt.Sprintf("--meta (PERMAFROST_META) %q: %s", redactString(v), redactString(why))}
	}
	if !strings.Contains(v, ":") {
		return bad("not a URL; use postgres://USER:PASSWORD@HOST:PORT/DB, sqlite:PATH, or leave it empty for SQLite in --data-dir")
	}
	switch scheme(v) {
	case "postgres", "postgresql":
		if !strings.Contains(v, "://") {
			return bad("a PostgreSQL URL starts with postgres://")
		}
		if _, err := pgconn.ParseConfig(v); err != nil {
			return bad(err.Error())
		}
		return nil
	case "sqlite":
		if p := strings.TrimPrefix(strings.TrimPrefix(v, "sqlite:"), "//"); p == "" {
			return bad("sqlite: needs a file path, e.g. sqlite:/var/lib/permafrost/meta.db")
		}
		return nil
	}
	return bad(fmt.Sprintf("unknown scheme %q; use postgres://…, sqlite:PATH, or leave it empty for SQLite in --data-dir", scheme(v)))
}

func checkBlobsSetting(v string) error {
	if v == "" {
		return nil
	}
	bad := func(why string) error {
		return usageError{fmt.Sprintf("--blobs (PERMAFROST_BLOBS) %q: %s", redactString(v), redactString(why))}
	}
	if !strings.Contains(v, "://") {
		return bad("not a URL; use s3://BUCKET/PREFIX?endpoint=URL, file:///absolute/path, or leave it empty for files in --data-dir")
	}
	switch scheme(v) {
	case "s3":
		if _, err := s3.ParseURL(v); err != nil {
			return bad(err.Error())
		}
		return nil
	case "file":
		u, err := url.Parse(v)
		if err != nil {
			return bad(err.Error())
		}
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return bad("use file:///absolute/path (three slashes)")
		}
		return nil
	}
	return bad(fmt.Sprintf("unknown scheme %q; use s3://…, file:///path, or leave it empty for files in --data-dir", scheme(v)))
}

// secrets are the strings no log line or error message may show: the
// passwords and keys in store URLs, and the bootstrap secret key.
var secrets struct {
	mu   sync.RWMutex // read on every log attribute: readers do not wait for each other
	list []string     // longest first, so a secret containing another goes first
}

// registerSecret adds s to the strings that are redacted everywhere.
func registerSecret(s string) {
	if len(s) < 3 { // too short to redact without mangling ordinary text
		return
	}
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for _, have := range secrets.list {
		if have == s {
			return
		}
	}
	secrets.list = append(secrets.list, s)
	sort.Slice(secrets.list, func(i, j int) bool { return len(secrets.list[i]) > len(secrets.list[j]) })
}

var (
	// userinfoPassword finds scheme://user:PASSWORD@ even where the URL
	// does not parse (a bad port, say), which is when libraries echo it.
	userinfoPassword = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:([^/@]*)@`)
	// secretParam finds password=… in key=value DSNs and URL queries.
	secretParam = regexp.MustCompile(`(?i)(?:password|sslpassword|secret|secret_access_key|secret-key|session_token|token)=([^&\s]+)`)
)

// registerURLSecrets registers the passwords and keys inside a store
// setting (URL or key=value DSN), in raw and decoded forms.
func registerURLSecrets(v string) {
	var found []string
	if m := userinfoPassword.FindStringSubmatch(v); m != nil {
		found = append(found, m[1])
	}
	for _, m := range secretParam.FindAllStringSubmatch(v, -1) {
		found = append(found, strings.Trim(m[1], `'"`))
	}
	for _, s := range found {
		registerSecret(s)
		if d, err := url.PathUnescape(s); err == nil {
			registerSecret(d)
		}
		if d, err := url.QueryUnescape(s); err == nil {
			registerSecret(d)
		}
	}
}

// registerEnvSecrets registers the secrets the process was given in its
// environment: the AWS and libpq ones, and every PERMAFROST_* setting
// whose name says it is a secret, password or token.
func registerEnvSecrets() {
	for _, name := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD"} {
		registerSecret(os.Getenv(name))
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "PERMAFROST_") {
			continue
		}
		if u := strings.ToUpper(k); strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD") || strings.Contains(u, "TOKEN") {
			registerSecret(v)
		}
		if strings.Contains(v, "://") {
			registerURLSecrets(v)
		}
	}
}

// redactString replaces every registered secret in s with "xxxxx".
func redactString(s string) string {
	secrets.mu.RLock()
	defer secrets.mu.RUnlock()
	for _, sec := range secrets.list {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// redactedError is err with its message redacted; errors.Is/As still see
// the original.
type redactedError struct{ err error }

func (e redactedError) Error() string { return redactString(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// describeMeta names the metadata store for the banner and messages,
// without secrets.
func describeMeta(f storeFlags) string {
	switch scheme(f.Meta) {
	case "":
		return "sqlite:" + absPath(filepath.Join(f.DataDir, "meta.db"))
	case "sqlite":
		return f.Meta
	}
	return redactString(redact(f.Meta))
}

// describeBlobs names the blob store for the banner and messages, without
// secrets.
func describeBlobs(f storeFlags) string {
	if f.Blobs == "" {
		return "file://" + absPath(filepath.Join(f.DataDir, "archives"))
	}
	return redactString(redact(f.Blobs))
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
