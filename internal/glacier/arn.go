package glacier

import (
	"regexp"
	"strings"
)

// The ARNs permafrost writes, built in one place. Only the aws partition
// exists here; region and account are the server's and the caller's.

// VaultARN returns the ARN of a vault:
// arn:aws:glacier:<region>:<account>:vaults/<name>.
func VaultARN(region, accountID, name string) string {
	return "arn:aws:glacier:" + region + ":" + accountID + ":vaults/" + name
}

// ParseVaultARN splits a vault ARN (arn:PARTITION:glacier:REGION:ACCOUNT:vaults/NAME)
// into its region, account and vault name; ok is false for anything else.
func ParseVaultARN(arn string) (region, accountID, vault string, ok bool) {
	seg := strings.SplitN(arn, ":", 6)
	if len(seg) != 6 || seg[0] != "arn" || seg[2] != "glacier" || seg[3] == "" || !ValidAccountID(seg[4]) {
		return "", "", "", false
	}
	vault, ok = strings.CutPrefix(seg[5], "vaults/")
	return seg[3], seg[4], vault, ok && vault != ""
}

// RetrievalPolicyARN returns the resource ARN of an account's data
// retrieval policy, which the retrieval-policy and provisioned-capacity
// operations are authorized against:
// arn:aws:glacier:<region>:<account>:policies/retrieval-limit-policy.
func RetrievalPolicyARN(region, accountID string) string {
	return "arn:aws:glacier:" + region + ":" + accountID + ":policies/retrieval-limit-policy"
}

// AccountRootARN returns the ARN of an account's root identity:
// arn:aws:iam::<account>:root.
func AccountRootARN(accountID string) string {
	return "arn:aws:iam::" + accountID + ":root"
}

// UserARN returns the ARN of an IAM-style user (users have no path):
// arn:aws:iam::<account>:user/<name>.
func UserARN(accountID, name string) string {
	return "arn:aws:iam::" + accountID + ":user/" + name
}

// arnHead finds the head of ARNs: partition, service, region, account.
var arnHead = regexp.MustCompile(`arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}):`)

// ARNMove says how the ARNs in a document copied from a vault of one
// account to another (an import's access and lock policies and
// notification topic) are rewritten.
type ARNMove struct {
	FromAccount, FromRegion, FromVault string
	ToAccount, ToRegion, ToVault       string
}

// Rewrite returns doc with every ARN naming the source account moved to
// the destination account, in any partition and service, and from the
// source region to the destination region (other regions are kept);
// other accounts' ARNs are kept. A moved vault ARN of the source vault
// closed by a double quote (a JSON string) then names the destination
// vault, which may be named otherwise.
func (m ARNMove) Rewrite(doc string) string {
	doc = arnHead.ReplaceAllStringFunc(doc, func(s string) string {
		p := arnHead.FindStringSubmatch(s)
		if p[4] != m.FromAccount {
			return s
		}
		region := p[3]
		if region == m.FromRegion {
			region = m.ToRegion
		}
		return "arn:" + p[1] + ":" + p[2] + ":" + region + ":" + m.ToAccount + ":"
	})
	return strings.ReplaceAll(doc, VaultARN(m.ToRegion, m.ToAccount, m.FromVault)+`"`,
		VaultARN(m.ToRegion, m.ToAccount, m.ToVault)+`"`)
}
