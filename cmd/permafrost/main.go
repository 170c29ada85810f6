// Command permafrost is a self-hosted archive server that speaks the Amazon
// S3 Glacier vault API. main dispatches to one file per subcommand; only
// this package reads flags and the environment and knows every
// implementation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `permafrost is a self-hosted archive server that speaks the Amazon S3 Glacier API.

Usage:
  permafrost <command> [flags]

Commands:
  serve      run the Glacier API server
  accounts   create and list accounts
  keys       create, list and delete access keys
  users      create, list and delete IAM-style users with identity policies
  migrate    copy an embedded installation to PostgreSQL + S3-compatible storage
  policy     validate vault access, vault lock and identity policies
  backup     write a consistent copy of an embedded installation's metadata
  audit      verify or export the tamper-evident audit log
  lock       show a vault's lock, retention floor and retention progress
  import     bring a vault in from AWS Glacier (or any Glacier endpoint), archive ids and all
  scrub      re-read every archive now and check it against its stored hashes
  reconcile  list every blob now and remove those no metadata references (older than 13 h)
  version    print the version, VCS revision and whether the tree was modified

Run "permafrost <command> -h" for a command's flags. Every flag can also be
set through the PERMAFROST_* environment variable named in its help.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	registerEnvSecrets()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(os.Stderr, "permafrost:", redactString(err.Error()))
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "permafrost:", redactString(err.Error()))
		os.Exit(1)
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "--help", "-help":
		return true
	}
	return false
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "accounts":
		return runAccounts(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "users":
		return runUsers(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "policy":
		return runPolicy(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "lock":
		return runLock(ctx, rest, stdout, stderr)
	case "scrub":
		return runScrub(ctx, rest, stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, rest, stdout, stderr)
	case "import":
		return runImport(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(stdout)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}
