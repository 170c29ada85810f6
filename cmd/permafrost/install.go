package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/permafrost/permafrost/internal/meta/postgres"
)

// checkInstallation makes sure the operator commands are pointed at an
// existing installation, found the way the server finds it: --meta, else
// the SQLite database in --data-dir. Pointed anywhere else they fail and
// create nothing (a key made in a stray ./permafrost-data is a key the
// server will reject).
func checkInstallation(ctx context.Context, f storeFlags) error {
	if err := checkStoreSettings(storeFlags{Meta: f.Meta}); err != nil {
		return err
	}
	hint := "point the command at the server's installation with --data-dir DIR or --meta URL (PERMAFROST_DATA_DIR / PERMAFROST_META), the same settings `permafrost serve` uses"
	switch scheme(f.Meta) {
	case "":
		db := filepath.Join(f.DataDir, "meta.db")
		if _, err := os.Stat(db); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no permafrost installation in %s (%s does not exist); %s", absPath(f.DataDir), db, hint)
			}
			return fmt.Errorf("data dir: %w", err)
		}
	case "sqlite":
		db := sqlitePath(f.Meta)
		if _, err := os.Stat(db); err != nil {
			return fmt.Errorf("no permafrost installation at --meta %s: %v; %s", f.Meta, err, hint)
		}
	case "postgres", "postgresql":
		ok, err := postgres.Installed(ctx, f.Meta)
		if err != nil {
			return redactedError{fmt.Errorf("metadata store %s: %w", redact(f.Meta), err)}
		}
		if !ok {
			return fmt.Errorf("no permafrost installation in the database %s (it has no permafrost tables; `permafrost serve --meta` creates them); %s", redactString(redact(f.Meta)), hint)
		}
	}
	return nil
}

// sqlitePath is the file of a sqlite:PATH setting.
func sqlitePath(v string) string {
	return strings.TrimPrefix(strings.TrimPrefix(v, "sqlite:"), "//")
}
