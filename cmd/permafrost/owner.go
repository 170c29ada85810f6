package main

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
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

// DefaultDiskReserve is --disk-reserve's default.
const DefaultDiskReserve = 64 << 20

// startDiskReserve keeps --disk-reserve bytes in reserve on a local blob
// directory this server owns and watches the free space every second, so
// that a full disk can always be recovered through the API (see
// internal/blob/disk/reserve.go).
func (m *Main) startDiskReserve(ctx context.Context) {
	d, ok := m.stores.baseBlobs().(*disk.Store)
	if !ok || m.Config.DiskReserve <= 0 {
		return
	}
	if err := d.SetReserve(m.Config.DiskReserve); err != nil {
		m.logger.Warn("could not keep a disk reserve", "err", err)
		return
	}
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.CheckSpace()
			}
		}
	}()
}
