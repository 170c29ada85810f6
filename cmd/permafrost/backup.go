package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

const backupUsage = `Usage:
  permafrost backup --out FILE [--data-dir DIR]

backup writes a consistent copy of an embedded installation's metadata (the
SQLite database DIR/meta.db) to FILE while the server keeps running: SQLite's
online backup (VACUUM INTO) copies one snapshot, without blocking uploads.
FILE must not exist. Archive bytes (DIR/archives) are not copied: back them
up after the metadata, with any file-level tool (see docs/deployment.md,
"Backup and restore"). A PostgreSQL installation is backed up with pg_dump.

Flags:
`

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	var sf storeFlags
	fs := flagSet("backup", "backup --out FILE [--data-dir DIR]")
	fs.SetOutput(stderr)
	sf.bindMeta(fs)
	fs.StringVar(&out, "out", "", "file to write the copy to; must not exist (required)")
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" {
		return usageError{"--out FILE is required"}
	}
	if err := checkInstallation(ctx, sf); err != nil {
		return err
	}
	var db string
	switch scheme(sf.Meta) {
	case "":
		db = filepath.Join(sf.DataDir, "meta.db")
	case "sqlite":
		db = sqlitePath(sf.Meta)
	default:
		return usageError{"backup copies the embedded SQLite metadata; back up PostgreSQL with pg_dump (see docs/deployment.md, \"Backup and restore\")"}
	}
	start := time.Now()
	if err := sqlite.Backup(ctx, db, out); err != nil {
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, integrity checked) in %v\n", db, out, fi.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}
