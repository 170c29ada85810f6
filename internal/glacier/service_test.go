package glacier_test

// Service-level tests: the domain driven directly, without HTTP, on the
// real stores — the embedded SQLite metadata store and the disk blob store
// in a temporary directory — and a test clock the tests move forward. This
// is how benbjohnson/wtf tests its services against a real database: the
// rules are checked where they live, and a failed call is checked to have
// changed nothing by reading the database and the blob directory
// themselves.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
	"github.com/permafrost/permafrost/internal/treehash"
)

// The accounts and identities every test environment holds.
const (
	ownerAccount = "111111111111"
	otherAccount = "222222222222"
	region       = "us-east-1"

	// noPolicyUser is a user of the owner's account without an identity
	// policy: it may do nothing.
	noPolicyUser = "nobody"
	// adminUser is a user of the owner's account allowed glacier:*.
	adminUser = "admin"
)

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"glacier:*","Resource":"*"}]}`

// env is one service on its own stores.
type env struct {
	t       *testing.T
	svc     *glacier.Service
	db      *sqlite.DB
	dbPath  string
	blobDir string
	clock   *clock.Test
	sel     *selectSink
}

// newService builds a glacier.Service on a fresh SQLite database and disk
// blob store in t.TempDir(), with a test clock, a recording select output
// and the accounts and users above. opts adjust the service before use.
//
// This is the ONE place that knows how a Service is put together; when the
// store fields change (role-sized interfaces instead of Meta), only this
// function changes.
func newService(t *testing.T, opts ...func(*glacier.Service)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{t: t, dbPath: filepath.Join(dir, "meta.db"), blobDir: filepath.Join(dir, "archives"), clock: clock.NewTest(0), sel: &selectSink{}}
	db, err := sqlite.Open(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := disk.Open(e.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.svc = &glacier.Service{
		Stores:       db.Roles(),
		Blobs:        glacier.InlineBlobs(blobs, db.Roles().Inline), // as cmd/permafrost assembles it
		Clock:        e.clock,
		Region:       region,
		SelectOutput: e.sel,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	now := e.clock.Now()
	for _, id := range []string{ownerAccount, otherAccount} {
		if err := db.CreateAccount(ctx, glacier.Account{ID: id, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []glacier.User{
		{AccountID: ownerAccount, Name: noPolicyUser, UserID: "AIDANOBODY0000000001", CreatedAt: now},
		{AccountID: ownerAccount, Name: adminUser, UserID: "AIDAADMIN00000000001", Policy: allowAll, CreatedAt: now},
	} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range opts {
		o(e.svc)
	}
	return e
}

// addUser stores a user with an identity policy ("" for none) and returns
// it as a caller. Like newService it reaches the store directly, and is
// the one other place that does.
func (e *env) addUser(accountID, name, policy string) *glacier.Caller {
	e.t.Helper()
	u := glacier.User{AccountID: accountID, Name: name, UserID: "AIDA" + strings.ToUpper(name), Policy: policy, CreatedAt: e.clock.Now()}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return user(accountID, name)
}

// root is the root identity of an account.
func root(accountID string) *glacier.Caller {
	return &glacier.Caller{Principal: glacier.RootPrincipal(accountID, "AKIATEST"+accountID[:4])}
}

// user is an IAM user of an account.
func user(accountID, name string) *glacier.Caller {
	return &glacier.Caller{Principal: glacier.Principal{
		AccountID: accountID, Type: glacier.PrincipalUser, UserName: name,
		ARN: "arn:aws:iam::" + accountID + ":user/" + name,
	}}
}

var owner = root(ownerAccount)

// body is a verified upload body of data.
func body(data []byte) glacier.Body {
	return glacier.Body{R: bytes.NewReader(data), Size: int64(len(data)), TreeHash: treehash.Sum(data)}
}

// payload returns n deterministic bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/1024)
	}
	return b
}

// advance moves the test clock forward and runs the scheduler's due work,
// as the scheduler would on waking.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if _, err := e.svc.RunDueWork(context.Background()); err != nil {
		e.t.Fatalf("RunDueWork: %v", err)
	}
}

// mustVault creates a vault as the owner.
func (e *env) mustVault(name string) {
	e.t.Helper()
	if _, err := e.svc.CreateVault(context.Background(), owner, ownerAccount, name); err != nil {
		e.t.Fatalf("CreateVault %s: %v", name, err)
	}
}

// mustArchive uploads data to a vault as the owner.
func (e *env) mustArchive(vault string, data []byte) glacier.Archive {
	e.t.Helper()
	a, err := e.svc.UploadArchive(context.Background(), owner, ownerAccount, vault, "test archive", body(data))
	if err != nil {
		e.t.Fatalf("UploadArchive: %v", err)
	}
	return a
}

// snapshot is the whole persistent state: every row of every table, and
// every file of the blob store with its size.
type snapshot map[string][]string

// snapshot reads the database file through its own connection and walks
// the blob directory, so that it sees what is stored, whatever the
// service's store interfaces look like.
func (e *env) snapshot() snapshot {
	e.t.Helper()
	conn, err := sql.Open("sqlite", e.dbPath)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		e.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	s := snapshot{}
	for _, tbl := range tables {
		rows, err := conn.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			e.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				e.t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				if bs, ok := v.([]byte); ok {
					fmt.Fprintf(&b, "%x", bs)
				} else {
					fmt.Fprint(&b, v)
				}
			}
			out = append(out, b.String())
		}
		rows.Close()
		sort.Strings(out)
		s["table "+tbl] = out
	}
	var files []string
	err = filepath.WalkDir(e.blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.blobDir, p)
		files = append(files, fmt.Sprintf("%s %d", rel, info.Size()))
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(files)
	s["blobs"] = files
	s["select outputs"] = e.sel.keys()
	return s
}

// diff describes how two snapshots differ ("" when equal), ignoring the
// named parts.
func (a snapshot) diff(b snapshot, ignore ...string) string {
	// Blob intents are bookkeeping of what may be in flight, and the
	// service records them ahead of time for the next uploads' keys, in
	// the background (intentpool.go): never a change a call made.
	ignore = append(ignore, "table blob_intents")
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		skip := false
		for _, ig := range ignore {
			skip = skip || k == ig
		}
		if skip {
			continue
		}
		x, y := strings.Join(a[k], "\n"), strings.Join(b[k], "\n")
		if x != y {
			out = append(out, fmt.Sprintf("%s:\n  before: %q\n  after:  %q", k, a[k], b[k]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// unchanged fails the test when the state differs from before.
func (e *env) unchanged(before snapshot, what string, ignore ...string) {
	e.t.Helper()
	if d := before.diff(e.snapshot(), ignore...); d != "" {
		e.t.Errorf("%s changed the stored state:\n%s", what, d)
	}
}

// wantErr checks an error's kind and that its client message contains
// every fragment.
func wantErr(t *testing.T, err error, kind glacier.Kind, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if k := glacier.KindOf(err); k != kind {
		t.Fatalf("got error kind %v (%v), want %v", k, err, kind)
	}
	msg := glacier.MessageOf(err)
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error message %q does not contain %q", msg, f)
		}
	}
}

// failsCleanly runs a call that must fail with kind (and message
// fragments) and leave the stored state as it was.
func (e *env) failsCleanly(what string, kind glacier.Kind, call func() error, fragments ...string) {
	e.t.Helper()
	before := e.snapshot()
	err := call()
	if err == nil {
		e.t.Fatalf("%s: got no error, want %v", what, kind)
	}
	if k := glacier.KindOf(err); k != kind {
		e.t.Fatalf("%s: got error kind %v (%v), want %v", what, k, err, kind)
	}
	msg := glacier.MessageOf(err)
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			e.t.Errorf("%s: error message %q does not contain %q", what, msg, f)
		}
	}
	e.unchanged(before, what)
}

// selectSink is a SelectOutput that keeps what select jobs write.
type selectSink struct {
	mu   sync.Mutex
	puts map[string][]byte
}

func (s *selectSink) Put(ctx context.Context, loc glacier.S3Location, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.puts == nil {
		s.puts = map[string][]byte{}
	}
	s.puts[loc.BucketName+"/"+key] = bytes.Clone(body)
	return nil
}

func (s *selectSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []string
	for k := range s.puts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// readAll drains and closes a job output.
func readAll(t *testing.T, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read job output: %v", err)
	}
	return b
}

// TestNewService: the helper's environment works end to end and its
// snapshot notices a change.
func TestNewService(t *testing.T) {
	e := newService(t)
	before := e.snapshot()
	e.mustVault("v")
	e.mustArchive("v", []byte("hello"))
	if d := before.diff(e.snapshot()); d == "" {
		t.Fatal("snapshot did not notice a vault and an archive")
	}
}
