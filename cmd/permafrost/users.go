package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

const usersUsage = `Usage:
  permafrost users create --account-id ID --name NAME [--policy-file F] [--json] [--data-dir DIR | --meta URL]
  permafrost users list --account-id ID [--json] [--data-dir DIR | --meta URL]
  permafrost users delete --account-id ID --name NAME [--data-dir DIR | --meta URL]

create adds an IAM-style user with its own access key and, from --policy-file,
its identity policy (the IAM policy language, without Principal). A user
without an identity policy allowing an action is denied it, as in IAM.
delete removes the user and its access keys.
`

// userOutput is the --json form of a user (with its key when created).
type userOutput struct {
	AccountID       string `json:"account_id"`
	UserName        string `json:"user_name"`
	UserID          string `json:"user_id"`
	ARN             string `json:"arn"`
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	HasPolicy       bool   `json:"has_policy"`
	CreatedAt       string `json:"created_at"`
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return usageError{"users needs a subcommand: create, list or delete"}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usersUsage)
		return nil
	}
	var accountID, name, policyFile string
	var asJSON bool
	fs := flagSet("users "+args[0], "users "+args[0]+" [flags]")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bindMeta(fs)
	fs.StringVar(&accountID, "account-id", "", "account of the user (required)")
	switch args[0] {
	case "create", "delete":
		fs.StringVar(&name, "name", "", "user name (required)")
	}
	switch args[0] {
	case "create":
		fs.StringVar(&policyFile, "policy-file", "", "file holding the user's identity policy (JSON)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "delete":
	default:
		fmt.Fprint(stderr, usersUsage)
		return usageError{fmt.Sprintf("unknown users subcommand %q", args[0])}
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if !glacier.ValidAccountID(accountID) {
		return usageError{"--account-id must be a 12-digit account id"}
	}
	if args[0] != "list" && !glacier.ValidUserName(name) {
		return usageError{"--name must be 1 to 64 characters of letters, digits and +=,.@_-"}
	}

	var policy string
	if policyFile != "" {
		b, err := os.ReadFile(policyFile)
		if err != nil {
			return fmt.Errorf("policy file: %w", err)
		}
		policy = string(b)
		if err := glacier.ValidateIdentityPolicy(policy); err != nil {
			return fmt.Errorf("%s: %s", policyFile, glacier.MessageOf(err))
		}
	}

	st, err := openMetaStore(ctx, sf)
	if err != nil {
		return err
	}
	defer st.Close()

	svc := operatorService(st)
	switch args[0] {
	case "create":
		u, k, err := svc.CreateUser(ctx, accountID, name, policy)
		if err != nil {
			return withCreateAccountHint(err, accountID)
		}
		if asJSON {
			out := userJSON(u)
			out.AccessKeyID, out.SecretAccessKey = k.ID, k.Secret
			return json.NewEncoder(stdout).Encode(out)
		}
		fmt.Fprintf(stdout, "# user %s (%s) in account %s; the secret is shown only once:\n", name, glacier.UserARN(u.AccountID, u.Name), accountID)
		_, err = fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
		return err
	case "list":
		users, err := svc.ListUsers(ctx, accountID)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]userOutput, len(users))
			for i, u := range users {
				out[i] = userJSON(u)
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tUSER ID\tPOLICY\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", u.Name, u.UserID, u.Policy != "", u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	default: // delete
		if err := svc.DeleteUser(ctx, accountID, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted user %s and its access keys\n", name)
		return nil
	}
}

func userJSON(u glacier.User) userOutput {
	return userOutput{AccountID: u.AccountID, UserName: u.Name, UserID: u.UserID, ARN: glacier.UserARN(u.AccountID, u.Name),
		HasPolicy: u.Policy != "", CreatedAt: u.CreatedAt.Format(time.RFC3339)}
}
