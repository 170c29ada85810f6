package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

const accountsUsage = `Usage:
  permafrost accounts create [--account-id ID] [--json] [--data-dir DIR | --meta URL]
  permafrost accounts list [--json] [--data-dir DIR | --meta URL]

create makes an account with a root access key and prints the key.
`

// credentialOutput is the --json form of a created key.
type credentialOutput struct {
	AccountID       string `json:"account_id"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	UserName        string `json:"user_name,omitempty"`
	CreatedAt       string `json:"created_at,omitempty"`
}

func runAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountsUsage)
		return usageError{"accounts needs a subcommand: create or list"}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, accountsUsage)
		return nil
	}
	var accountID string
	var asJSON bool
	fs := flagSet("accounts "+args[0], "accounts "+args[0]+" [flags]")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bindMeta(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	switch args[0] {
	case "create":
		fs.StringVar(&accountID, "account-id", "", "12-digit id of the new account (random when empty)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if accountID != "" && !glacier.ValidAccountID(accountID) {
			return usageError{fmt.Sprintf("--account-id must be 12 digits, not %q", accountID)}
		}
		st, err := openMetaStore(ctx, sf)
		if err != nil {
			return err
		}
		defer st.Close()
		k, err := operatorService(st).CreateAccount(ctx, accountID)
		if err != nil {
			return err
		}
		return printCredential(stdout, k, asJSON)
	case "list":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		st, err := openMetaStore(ctx, sf)
		if err != nil {
			return err
		}
		defer st.Close()
		accts, err := operatorService(st).ListAccounts(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]map[string]string, len(accts))
			for i, a := range accts {
				out[i] = map[string]string{"account_id": a.ID, "created_at": a.CreatedAt.Format(time.RFC3339)}
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT ID\tCREATED")
		for _, a := range accts {
			fmt.Fprintf(tw, "%s\t%s\n", a.ID, a.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	default:
		fmt.Fprint(stderr, accountsUsage)
		return usageError{fmt.Sprintf("unknown accounts subcommand %q", args[0])}
	}
}

// printCredential prints a newly created key, with its secret, once.
func printCredential(w io.Writer, k glacier.AccessKey, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(credentialOutput{AccountID: k.AccountID, AccessKeyID: k.ID, SecretAccessKey: k.Secret, UserName: k.UserName})
	}
	fmt.Fprintf(w, "# account %s; the secret is shown only once:\n", k.AccountID)
	_, err := fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
	return err
}
