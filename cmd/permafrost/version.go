package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
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

func runVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "permafrost %s (%s, %s/%s; Glacier API 2012-06-01)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
