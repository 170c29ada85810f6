package glacier

// The ARNs permafrost writes, built in one place. Only the aws partition
// exists here; region and account are the server's and the caller's.

// VaultARN returns the ARN of a vault:
// arn:aws:glacier:<region>:<account>:vaults/<name>.
func VaultARN(region, accountID, name string) string {
	return "arn:aws:glacier:" + region + ":" + accountID + ":vaults/" + name
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
