package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/policy"
)

const policyUsage = `Usage:
  permafrost policy validate [--lock | --identity] [--json]
        [--vault-arn ARN | --account-id ID --region R --vault NAME] FILE|-
  permafrost policy validate --account-id ID --vault NAME [--region R] [--json]
        [--data-dir DIR | --meta URL]

validate checks a policy document the way IAM Access Analyzer does and
prints its findings: errors (invalid JSON or grammar, unknown operators,
actions or resources that can never match a Glacier request, resources in
another region or account than the vault), security warnings (a Deny that
can never apply, e.g. because its condition needs a key never present for
the actions it names; principals that never match), warnings and
suggestions. It exits 1 when there are errors.

The document is a vault access policy, or with --lock a vault lock policy
(the checks InitiateVaultLock makes before accepting it), or with
--identity a user's identity policy. --vault-arn, or --account-id, --region
and --vault, name the vault it is for, so that resources are checked
against it. Without FILE, validate reads the lock policy stored for
--vault of --account-id in the installation (--data-dir or --meta) and
reports its findings: the warnings InitiateVaultLock logged; its
resources are checked against the installation's region unless --region
says otherwise.
`

// findingOutput is the --json form of a finding.
type findingOutput struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}

// validateOutput is the --json output of policy validate.
type validateOutput struct {
	Source   string          `json:"source"`
	Valid    bool            `json:"valid"` // no errors
	Findings []findingOutput `json:"findings"`
}

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "validate" {
		fmt.Fprint(stderr, policyUsage)
		if len(args) == 0 {
			return usageError{"policy needs a subcommand: validate"}
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return flag.ErrHelp
		}
		return usageError{fmt.Sprintf("unknown policy subcommand %q", args[0])}
	}
	var lock, identity, asJSON bool
	var vaultARN, accountID, vault, region string
	fs := flagSet("policy validate", "policy validate [flags] FILE|-")
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.bindMeta(fs)
	fs.BoolVar(&lock, "lock", false, "the document is a vault lock policy")
	fs.BoolVar(&identity, "identity", false, "the document is a user's identity policy")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&vaultARN, "vault-arn", "", "ARN of the vault the policy is for (arn:aws:glacier:REGION:ACCOUNT:vaults/NAME)")
	fs.StringVar(&accountID, "account-id", "", "account that owns the vault")
	stringFlag(fs, &region, "region", "", "region of the vault; resources are checked against it when given (default for a stored lock policy: the installation's region)")
	fs.StringVar(&vault, "vault", "", "name of the vault")
	file, err := parseFlagsAndFile(fs, args[1:])
	if err != nil {
		return err
	}
	if lock && identity {
		return usageError{"--lock and --identity exclude each other"}
	}
	if vaultARN != "" {
		if accountID != "" || vault != "" {
			return usageError{"give --vault-arn or --account-id and --vault, not both"}
		}
		var ok bool
		if region, accountID, vault, ok = glacier.ParseVaultARN(vaultARN); !ok {
			return usageError{fmt.Sprintf("--vault-arn %q is not a vault ARN (arn:aws:glacier:REGION:ACCOUNT:vaults/NAME)", vaultARN)}
		}
	}
	opt := policy.AnalyzeOptions{Kind: policy.ResourcePolicy, Lock: lock, Region: region, AccountID: accountID, Vault: vault}
	if identity {
		opt.Kind = policy.IdentityPolicy
	}

	var doc, source string
	switch file {
	case "":
		if accountID == "" || vault == "" {
			fmt.Fprint(stderr, policyUsage)
			return usageError{"give a FILE (or - for standard input), or --account-id and --vault to check a stored lock policy"}
		}
		l, installed, err := storedLock(ctx, sf, accountID, vault)
		if err != nil {
			return err
		}
		if region == "" {
			region = installed
		}
		opt.Region = region
		doc, opt.Lock, opt.Kind = l.Policy, true, policy.ResourcePolicy
		source = fmt.Sprintf("lock policy of %s (%s)", glacier.VaultARN(region, accountID, vault), l.State)
	case "-":
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return err
		}
		doc, source = string(b), "standard input"
	default:
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		doc, source = string(b), file
	}

	fs2 := policy.Analyze(doc, opt)
	if err := printFindings(stdout, source, fs2, asJSON); err != nil {
		return err
	}
	if policy.HasErrors(fs2) {
		return fmt.Errorf("%s: the policy has errors", source)
	}
	return nil
}

// parseFlagsAndFile parses flags before and after one optional
// positional FILE argument.
func parseFlagsAndFile(fs *flag.FlagSet, args []string) (string, error) {
	var file string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return "", err
			}
			return "", usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return file, nil
		}
		if file != "" {
			return "", usageError{fmt.Sprintf("unexpected argument %q: give one FILE", fs.Arg(0))}
		}
		file, args = fs.Arg(0), fs.Args()[1:]
	}
}

// storedLock reads the vault's lock record from the installation
// (glacier.Service.StoredLockPolicy).
func storedLock(ctx context.Context, sf storeFlags, accountID, vault string) (*glacier.Lock, string, error) {
	st, err := openMetaStore(ctx, sf)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	l, err := operatorService(st).StoredLockPolicy(ctx, accountID, vault)
	if glacier.IsNotFound(err) {
		return nil, "", fmt.Errorf("vault %s of account %s does not exist", vault, accountID)
	}
	if err != nil {
		return nil, "", err
	}
	if l == nil {
		return nil, "", fmt.Errorf("vault %s of account %s has no lock policy", vault, accountID)
	}
	return l, glacier.RegionOr(ctx, st.meta, glacier.DefaultRegion), nil
}

// printFindings writes the findings for people (one block per finding,
// then a count) or as JSON.
func printFindings(w io.Writer, source string, fs []policy.Finding, asJSON bool) error {
	if asJSON {
		out := validateOutput{Source: source, Valid: !policy.HasErrors(fs), Findings: []findingOutput{}}
		for _, f := range fs {
			out.Findings = append(out.Findings, findingOutput{string(f.Severity), f.Code, f.Path, f.Message})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	counts := map[policy.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
		where := f.Path
		if where == "" {
			where = "(document)"
		}
		fmt.Fprintf(w, "%s %s at %s\n    %s\n", f.Severity, f.Code, where, f.Message)
	}
	if len(fs) == 0 {
		_, err := fmt.Fprintf(w, "%s: no findings\n", source)
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %s, %s, %s, %s\n", source,
		plural(counts[policy.SeverityError], "error"), plural(counts[policy.SeveritySecurityWarning], "security warning"),
		plural(counts[policy.SeverityWarning], "warning"), plural(counts[policy.SeveritySuggestion], "suggestion"))
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
