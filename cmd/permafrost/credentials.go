package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/permafrost/permafrost/internal/glacier"
)

// checkEnvKey checks the key the environment gives (PERMAFROST_ACCESS_KEY_ID,
// PERMAFROST_SECRET_ACCESS_KEY, PERMAFROST_ACCOUNT_ID) against the
// domain's rules, naming the variables in its usage errors.
func checkEnvKey(k glacier.AccessKey) error {
	if k.ID != "" {
		if !glacier.ValidAccessKeyID(k.ID) {
			return usageError{"PERMAFROST_ACCESS_KEY_ID must be 16 to 128 upper-case letters and digits"}
		}
		if len(k.Secret) < glacier.MinSecretLength {
			return usageError{fmt.Sprintf("PERMAFROST_SECRET_ACCESS_KEY must be at least %d characters", glacier.MinSecretLength)}
		}
	}
	if k.AccountID != "" && !glacier.ValidAccountID(k.AccountID) {
		return usageError{fmt.Sprintf("PERMAFROST_ACCOUNT_ID must be 12 digits, not %q", k.AccountID)}
	}
	return nil
}

// bootstrapCredentials makes sure the server can be used on first start.
// With PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY set, that
// key is created (for PERMAFROST_ACCOUNT_ID, or a new account) unless it
// exists. Without them, if no key exists at all, one is generated and
// returned: the caller prints it (printFirstKey) once the server is
// listening, so a start that fails later never shows a key.
func bootstrapCredentials(ctx context.Context, svc *glacier.Service, log *slog.Logger) (*glacier.AccessKey, error) {
	want := glacier.AccessKey{
		ID:        os.Getenv("PERMAFROST_ACCESS_KEY_ID"),
		Secret:    os.Getenv("PERMAFROST_SECRET_ACCESS_KEY"),
		AccountID: os.Getenv("PERMAFROST_ACCOUNT_ID"),
	}
	if err := checkEnvKey(glacier.AccessKey{AccountID: want.AccountID}); err != nil {
		return nil, err
	}
	if (want.ID == "") != (want.Secret == "") {
		return nil, usageError{"set both PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY, or neither"}
	}
	if want.ID == "" {
		return svc.CreateFirstAccessKey(ctx, want.AccountID)
	}
	if err := checkEnvKey(want); err != nil {
		return nil, err
	}
	k, created, err := svc.EnsureAccessKey(ctx, want)
	switch {
	case err != nil:
		return nil, err
	case created:
		log.Info("created access key from the environment", "access_key_id", k.ID, "account_id", k.AccountID)
	case k.Secret != want.Secret || want.AccountID != "" && k.AccountID != want.AccountID:
		log.Warn("PERMAFROST_ACCESS_KEY_ID already exists with another secret or account; keeping the stored key", "access_key_id", k.ID, "account_id", k.AccountID)
	}
	return nil, nil
}

// printFirstKey prints the key a first start created, once, as
// ready-to-paste export lines.
func printFirstKey(out io.Writer, k *glacier.AccessKey) {
	fmt.Fprintf(out, "# permafrost: first start; created account %s with this access key (shown only once):\n", k.AccountID)
	fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
}
