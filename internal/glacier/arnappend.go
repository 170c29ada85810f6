package glacier

// AppendVaultARN appends VaultARN(region, accountID, name) to b, for
// answers written without building the string.
func AppendVaultARN(b []byte, region, accountID, name string) []byte {
	b = append(b, "arn:aws:glacier:"...)
	b = append(b, region...)
	b = append(b, ':')
	b = append(b, accountID...)
	b = append(b, ":vaults/"...)
	return append(b, name...)
}
