//go:build !linux

package disk

import "os"

// cached cannot tell elsewhere (see cached_linux.go).
func cached(*os.File, int64, int64) bool { return false }
