package sqlite

import (
	"fmt"
	"os"
)

// The database holds every account's secret access keys: it, its WAL and
// its shared-memory index are readable by their owner only. SQLite creates
// the WAL and -shm files with the database file's permissions, so creating
// the database 0600 is enough for new installations; files of older ones
// are tightened when they are opened.

// prepareFile creates the database file with mode 0600 if it does not
// exist yet, and tightens the modes of the files that do.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	f.Close()
	return tightenFiles(path)
}

// tightenFiles removes group and other permissions from the database file
// and its companions.
func tightenFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return fmt.Errorf("sqlite: restricting %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}
