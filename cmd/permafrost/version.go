package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (make build does this from git describe).
var version = ""

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v
}

// buildVCS is what the Go toolchain recorded about the source tree: the
// commit, its time, and whether the tree had uncommitted changes.
type buildVCS struct {
	Revision string // "" when the binary was built without VCS stamping
	Time     string
	Modified bool
}

func vcsInfo() buildVCS {
	var v buildVCS
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// revisionString is the short form for logs: the commit (12 digits), with
// "+modified" when the tree was dirty, or "unknown".
func revisionString() string {
	v := vcsInfo()
	if v.Revision == "" {
		return "unknown"
	}
	r := v.Revision
	if len(r) > 12 {
		r = r[:12]
	}
	if v.Modified {
		r += "+modified"
	}
	return r
}

func runVersion(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "permafrost %s (%s, %s/%s; Glacier API 2012-06-01)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	v := vcsInfo()
	if v.Revision == "" {
		_, err := fmt.Fprintln(w, "revision: unknown (built without VCS information; use make build)")
		return err
	}
	_, err := fmt.Fprintf(w, "revision: %s\ncommitted: %s\nmodified: %t\n", v.Revision, v.Time, v.Modified)
	return err
}
