package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// flagSet returns a FlagSet whose usage lists every flag with its
// PERMAFROST_* environment twin.
func flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: permafrost %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment twin of a flag: --data-dir → PERMAFROST_DATA_DIR.
func envName(flagName string) string {
	return "PERMAFROST_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringFlag binds --name and PERMAFROST_NAME; the flag wins over the
// environment, which wins over def.
func stringFlag(fs *flag.FlagSet, p *string, name, def, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	fs.StringVar(p, name, def, help+" (env "+envName(name)+")")
}

func boolFlag(fs *flag.FlagSet, p *bool, name string, def bool, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	fs.BoolVar(p, name, def, help+" (env "+envName(name)+")")
}

func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, help+" (env "+envName(name)+")")
}

// parseFlags parses args and refuses stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

const defaultDataDir = "./permafrost-data"

// stores are the storage components of a data directory.
type stores struct {
	meta  *sqlite.DB
	blobs *disk.Store
}

// openStores opens the embedded stores under dir: metadata in
// dir/meta.db, archive bytes under dir/archives.
func openStores(dir string) (*stores, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("archive store: %w", err)
	}
	return &stores{meta: meta, blobs: blobs}, nil
}

func (s *stores) Close() error { return s.meta.Close() }
