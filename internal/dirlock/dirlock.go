// Package dirlock gives one process exclusive ownership of a directory: an
// flock(2) on a LOCK file inside it, held for the life of the process (the
// kernel drops it when the process dies, however it dies), with the
// holder's pid written into the file so that a refused newcomer can name
// it.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FileName is the lock file's name inside the locked directory.
const FileName = "LOCK"

// Lock is a held directory lock.
type Lock struct {
	f *os.File
}

// HeldError is returned when another process (or another Lock in this
// one) holds the directory.
type HeldError struct {
	Dir string
	PID int // 0 when the holder's pid could not be read
}

func (e *HeldError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("data directory %s is already in use by %s (a running permafrost serve); only one server may own a data directory", e.Dir, holder)
}

// Acquire creates dir if needed and locks it, without waiting: if the
// directory is held, it returns a *HeldError at once.
func Acquire(dir string) (*Lock, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(abs, FileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Dir: abs, PID: readPID(filepath.Join(abs, FileName))}
		}
		return nil, fmt.Errorf("locking %s: %w", abs, err)
	}
	// The pid is for messages only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the directory up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}
