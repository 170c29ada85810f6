//go:build !linux

package disk

import "os"

// adviseSequential: no read-ahead hint outside Linux.
func adviseSequential(*os.File, int64, int64) {}
