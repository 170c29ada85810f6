package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

const keysUsage = `Usage:
  permafrost keys create --account-id ID [--json] [--data-dir DIR | --meta URL]
  permafrost keys list [--account-id ID] [--json] [--data-dir DIR | --meta URL]
  permafrost keys delete [--data-dir DIR | --meta URL] ACCESS_KEY_ID

create adds a root access key to an existing account and prints it.
`

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return usageError{"keys needs a subcommand: create, list or delete"}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	var accountID string
	var asJSON bool
	fs := flagSet("keys "+args[0], "keys "+args[0]+" [flags]")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bindMeta(fs)
	switch args[0] {
	case "create":
		fs.StringVar(&accountID, "account-id", "", "account that owns the key (required)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if !glacier.ValidAccountID(accountID) {
			return usageError{"--account-id must be a 12-digit account id"}
		}
		st, err := openMetaStore(ctx, sf)
		if err != nil {
			return err
		}
		defer st.Close()
		k, err := operatorService(st).CreateAccessKey(ctx, accountID)
		if err != nil {
			return withCreateAccountHint(err, accountID)
		}
		return printCredential(stdout, k, asJSON)
	case "list":
		fs.StringVar(&accountID, "account-id", "", "only keys of this account")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		st, err := openMetaStore(ctx, sf)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := operatorService(st).ListAccessKeys(ctx, accountID)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]credentialOutput, len(keys))
			for i, k := range keys {
				out[i] = credentialOutput{AccountID: k.AccountID, AccessKeyID: k.ID, UserName: k.UserName, CreatedAt: k.CreatedAt.Format(time.RFC3339)}
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tACCOUNT ID\tUSER\tCREATED")
		for _, k := range keys {
			user := k.UserName
			if user == "" {
				user = "(root)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.AccountID, user, k.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "delete":
		if err := fs.Parse(args[1:]); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return usageError{err.Error()}
		}
		if fs.NArg() != 1 {
			return usageError{"keys delete takes exactly one ACCESS_KEY_ID"}
		}
		st, err := openMetaStore(ctx, sf)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := operatorService(st).DeleteAccessKey(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted access key %s\n", fs.Arg(0))
		return nil
	default:
		fmt.Fprint(stderr, keysUsage)
		return usageError{fmt.Sprintf("unknown keys subcommand %q", args[0])}
	}
}

// withCreateAccountHint adds to a missing account's error the command
// that creates it.
func withCreateAccountHint(err error, accountID string) error {
	if glacier.IsNotFound(err) {
		return fmt.Errorf("%w (create it with: permafrost accounts create --account-id %s)", err, accountID)
	}
	return err
}
