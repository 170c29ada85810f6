package glacier

import "strings"

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
