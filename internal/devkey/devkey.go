// Package devkey holds the well-known account and access key of
// development and test installations (permafrost serve --dev and the
// permafrosttest package), so that test suites and documentation can use
// fixed credentials. They are public: such installations hold nothing that
// needs protecting.
package devkey

const (
	// AccountID is the account the well-known key belongs to.
	AccountID = "000000000000"
	// AccessKeyID and SecretAccessKey are the well-known key.
	AccessKeyID     = "AKIAPERMAFROSTDEVKEY"
	SecretAccessKey = "permafrost/dev/secret/not/for/production"
)
