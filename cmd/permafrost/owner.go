package main

import (
	"errors"
	"net/url"

	"github.com/permafrost/permafrost/internal/dirlock"
)

// lockOwnedDirs makes this process the one owner of the directories serve
// keeps embedded state in: --data-dir when the embedded metadata or blob
// store is used, and a file:/// blob directory. A second serve on the same
// directory fails here, before it opens (and could sweep) anything. The
// locks live as long as the process holds them; the kernel drops them when
// it dies, so a crash never leaves a directory locked.
func lockOwnedDirs(c Config) ([]*dirlock.Lock, error) {
	var dirs []string
	if c.Meta == "" || c.Blobs == "" {
		dirs = append(dirs, c.DataDir)
	}
	if scheme(c.Blobs) == "file" {
		if u, err := url.Parse(c.Blobs); err == nil && u.Path != "" {
			dirs = append(dirs, u.Path)
		}
	}
	var locks []*dirlock.Lock
	for _, d := range dirs {
		l, err := dirlock.Acquire(d)
		if err != nil {
			releaseLocks(locks)
			var held *dirlock.HeldError
			if errors.As(err, &held) {
				return nil, held
			}
			return nil, err
		}
		locks = append(locks, l)
	}
	return locks, nil
}

func releaseLocks(locks []*dirlock.Lock) {
	for _, l := range locks {
		l.Release()
	}
}
