package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// mustInstall makes dir (and its test backend) an installation without
// keys, as a server's first start does before it creates one: the
// operator commands refuse to work anywhere else.
func mustInstall(tb testing.TB, dir string) {
	tb.Helper()
	f := backendFor(tb, dir)
	f.DataDir = dir
	st, err := openStores(context.Background(), f)
	if err != nil {
		tb.Fatalf("install %s: %v", dir, err)
	}
	st.Close()
}

var builtBinary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// permafrostBinary builds the server binary once per test binary, for
// tests that run it as a real process.
func permafrostBinary(tb testing.TB) string {
	tb.Helper()
	builtBinary.once.Do(func() {
		// Without a TestMain the binary outlives the test binary; earlier
		// runs' copies are removed once they are surely unused.
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), "permafrost-bin-*"))
		for _, d := range old {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 2*time.Hour {
				os.RemoveAll(d)
			}
		}
		dir, err := os.MkdirTemp("", "permafrost-bin-")
		if err != nil {
			builtBinary.err = err
			return
		}
		builtBinary.path = filepath.Join(dir, "permafrost")
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", builtBinary.path, ".")
		builtBinary.out, builtBinary.err = cmd.CombinedOutput()
	})
	if builtBinary.err != nil {
		tb.Fatalf("go build: %v\n%s", builtBinary.err, builtBinary.out)
	}
	return builtBinary.path
}

// lockedBuffer is a bytes.Buffer safe for a process's writes and the
// test's reads at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
