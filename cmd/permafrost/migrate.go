package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/permafrost/permafrost/internal/migrate"
)

const migrateUsage = `Usage:
  permafrost migrate --from-data-dir DIR --meta postgres://… --blobs s3://…

migrate copies an embedded installation (SQLite + files in DIR) to other
stores: every account, key, user, vault (tags, notifications, access and lock
policies) and archive, verifying each archive's tree hash on the way. It can
be re-run safely: what the target already has is skipped. Stop the server on
DIR first, and let open multipart uploads and jobs finish: they are not
copied.
`

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from string
	var to storeFlags
	fs := flagSet("migrate", "migrate --from-data-dir DIR --meta URL --blobs URL")
	fs.SetOutput(stderr)
	fs.StringVar(&from, "from-data-dir", "", "data directory of the embedded installation to copy (required)")
	to.bind(fs)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if from == "" {
		return usageError{"--from-data-dir is required"}
	}
	if to.Meta == "" && to.Blobs == "" {
		if a, b := filepath.Clean(from), filepath.Clean(to.DataDir); a == b {
			return usageError{"the target is the source: give --meta and --blobs (or another --data-dir)"}
		}
	}
	if err := checkStoreSettings(to); err != nil {
		return err
	}
	if err := checkInstallation(ctx, storeFlags{DataDir: from}); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	src, err := openStores(ctx, storeFlags{DataDir: from, ReadSide: true})
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := openStores(ctx, to)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	target := migrate.Stores{Meta: dst.meta.Roles(), Blobs: dst.blobs}
	if os.Getenv(failpointEnv) == "kill-after-blob-write" {
		log.Warn("test failpoint set: migrate kills itself after its first blob write", "env", failpointEnv)
		target.AfterBlobPut = func(string) { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	stats, err := migrate.Run(ctx, migrate.Stores{Meta: src.meta.Roles(), Blobs: src.serviceBlobs()}, target, log)
	fmt.Fprintf(stdout, "copied %d accounts, %d keys, %d users, %d vaults, %d archives (%d bytes, every tree hash verified), %d locks, %d access policies, %d inventories; %d archives were already there\n",
		stats.Accounts, stats.Keys, stats.Users, stats.Vaults, stats.Archives, stats.Bytes, stats.Locks, stats.AccessPolicies, stats.Inventories, stats.ArchivesSkipped)
	return err
}
