package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/permafrost/permafrost/internal/devkey"
	"github.com/permafrost/permafrost/internal/glacier"
)

// The --dev preset: a development server for the tests of Glacier tools.
// It turns on the test clock (and with it the clock, reset and fault
// endpoints), completes jobs at once, keeps inventories live, makes a
// well-known access key and keeps its data in a temporary directory that
// is removed at exit. Each preset value yields to its own flag or
// environment variable.

const devHelp = "development preset: --test-clock, --job-delays none, --inventory-interval 0, a well-known access key, data in a temporary directory removed at exit unless --data-dir is given; each can be overridden by its own flag. No retention guarantee"

// applyDev applies the --dev preset to cfg for every setting that neither
// its flag nor its environment variable gives. cleanup removes the
// temporary data directory, if one was made; call it after the server
// closed.
func applyDev(fs *flag.FlagSet, cfg *Config) (cleanup func(), err error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	given := func(name string) bool {
		_, inEnv := os.LookupEnv(envName(name))
		return set[name] || inEnv
	}
	cfg.Dev = true
	if !given("test-clock") {
		cfg.TestClock = true
	}
	if !given("job-delays") {
		cfg.JobDelays = "none"
	}
	if !given("inventory-interval") {
		cfg.InventoryInterval = 0
	}
	cleanup = func() {}
	if !given("data-dir") {
		dir, err := os.MkdirTemp("", "permafrost-dev-")
		if err != nil {
			return nil, fmt.Errorf("--dev: temporary data directory: %w", err)
		}
		cfg.DataDir = dir
		cfg.devTempDir = true
		cleanup = func() { os.RemoveAll(dir) }
	}
	return cleanup, nil
}

// devKeyFromEnv returns the key a --dev server makes: the one in
// PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY, or the
// well-known one, in PERMAFROST_ACCOUNT_ID's account or the well-known one.
func devKeyFromEnv() (glacier.AccessKey, error) {
	k := glacier.AccessKey{
		ID:        os.Getenv("PERMAFROST_ACCESS_KEY_ID"),
		Secret:    os.Getenv("PERMAFROST_SECRET_ACCESS_KEY"),
		AccountID: os.Getenv("PERMAFROST_ACCOUNT_ID"),
	}
	if (k.ID == "") != (k.Secret == "") {
		return k, usageError{"set both PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY, or neither"}
	}
	if k.ID == "" {
		k.ID, k.Secret = devkey.AccessKeyID, devkey.SecretAccessKey
	}
	if k.AccountID == "" {
		k.AccountID = devkey.AccountID
	}
	return k, checkEnvKey(k)
}

// ensureDevKey creates the --dev key unless it exists; an existing key
// stays as stored. It returns no first key: runServe prints the --dev key
// at every start (printDev).
func ensureDevKey(ctx context.Context, svc *glacier.Service, log *slog.Logger) (*glacier.AccessKey, error) {
	want, err := devKeyFromEnv()
	if err != nil {
		return nil, err
	}
	k, _, err := svc.EnsureAccessKey(ctx, want)
	if err != nil {
		return nil, err
	}
	if k.Secret != want.Secret {
		log.Warn("the --dev access key already exists with another secret; keeping the stored key", "access_key_id", k.ID)
	}
	return nil, nil
}

// printDev writes the --dev banner and the ready export lines of the key,
// once the server listens.
func (m *Main) printDev(ctx context.Context, w io.Writer) error {
	want, err := devKeyFromEnv()
	if err != nil {
		return err
	}
	k, err := m.service.AccessKey(ctx, want.ID)
	if err != nil {
		return err
	}
	where := "in " + m.Config.DataDir
	if m.Config.devTempDir {
		where = "in the temporary " + m.Config.DataDir + ", removed at exit"
	}
	if m.Config.Meta != "" {
		where = "in " + redact(m.Config.Meta) + " and " + m.Config.DataDir
	}
	endpoints := "test clock, reset and fault endpoints on"
	if !m.Config.TestClock {
		endpoints = "test clock, reset and fault endpoints off (--test-clock=false)"
	}
	fmt.Fprintf(w, "# permafrost --dev: a development installation with NO retention guarantee (%s; data %s)\n", endpoints, where)
	fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s\n", k.ID, k.Secret, m.Config.Region)
	fmt.Fprintf(w, "export AWS_ENDPOINT_URL_GLACIER=%s\n", m.URL())
	return nil
}
