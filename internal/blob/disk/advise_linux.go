//go:build linux

package disk

import (
	"os"

	"golang.org/x/sys/unix"
)

// adviseSequential tells the kernel that f will be read from off to the
// end, in order: Linux then reads ahead twice its default window, so the
// disk keeps working while the reader (a verified download hashing and
// writing what it read) is busy. Only a hint: errors are ignored.
func adviseSequential(f *os.File, off, n int64) {
	if n < 0 {
		n = 0 // to the end
	}
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_SEQUENTIAL)
}
