package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"regexp"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	keyIDPattern     = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// newAccountID returns 12 random digits not starting with 0.
func newAccountID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e11))
	return fmt.Sprintf("%012d", n.Int64()+1e11)
}

// newAccessKey returns a 20-character key id (AKIA + 16 base32
// characters) and a 40-character secret, the shapes of AWS keys.
func newAccessKey(accountID, user string, now time.Time) glacier.AccessKey {
	b := make([]byte, 10)
	rand.Read(b)
	id := "AKIA" + base32.StdEncoding.EncodeToString(b)[:16]
	s := make([]byte, 30)
	rand.Read(s)
	return glacier.AccessKey{
		ID:        id,
		Secret:    base64.StdEncoding.EncodeToString(s),
		AccountID: accountID,
		UserName:  user,
		CreatedAt: now,
	}
}

// ensureAccount creates the account unless it exists.
func ensureAccount(ctx context.Context, meta glacier.IdentityStore, id string) error {
	_, err := meta.GetAccount(ctx, id)
	if glacier.IsNotFound(err) {
		err = meta.CreateAccount(ctx, glacier.Account{ID: id, CreatedAt: time.Now().UTC()})
		if glacier.KindOf(err) == glacier.KindConflict {
			return nil // created concurrently by another process
		}
	}
	return err
}

// bootstrapCredentials makes sure the server can be used on first start.
// With PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY set, that
// key is created (for PERMAFROST_ACCOUNT_ID, or a new account) unless it
// exists. Without them, if no key exists at all, one is generated and
// returned: the caller prints it (printFirstKey) once the server is
// listening, so a start that fails later never shows a key.
func bootstrapCredentials(ctx context.Context, meta glacier.IdentityStore, log *slog.Logger) (*glacier.AccessKey, error) {
	keyID, secret := os.Getenv("PERMAFROST_ACCESS_KEY_ID"), os.Getenv("PERMAFROST_SECRET_ACCESS_KEY")
	accountID := os.Getenv("PERMAFROST_ACCOUNT_ID")
	if accountID != "" && !accountIDPattern.MatchString(accountID) {
		return nil, usageError{fmt.Sprintf("PERMAFROST_ACCOUNT_ID must be 12 digits, not %q", accountID)}
	}
	if (keyID == "") != (secret == "") {
		return nil, usageError{"set both PERMAFROST_ACCESS_KEY_ID and PERMAFROST_SECRET_ACCESS_KEY, or neither"}
	}
	if keyID != "" {
		if !keyIDPattern.MatchString(keyID) {
			return nil, usageError{"PERMAFROST_ACCESS_KEY_ID must be 16 to 128 upper-case letters and digits"}
		}
		if len(secret) < 16 {
			return nil, usageError{"PERMAFROST_SECRET_ACCESS_KEY must be at least 16 characters"}
		}
		existing, err := meta.GetAccessKey(ctx, keyID)
		if err == nil {
			if existing.Secret != secret || accountID != "" && existing.AccountID != accountID {
				log.Warn("PERMAFROST_ACCESS_KEY_ID already exists with another secret or account; keeping the stored key", "access_key_id", keyID, "account_id", existing.AccountID)
			}
			return nil, nil
		}
		if !glacier.IsNotFound(err) {
			return nil, err
		}
		if accountID == "" {
			accountID = newAccountID()
		}
		if err := ensureAccount(ctx, meta, accountID); err != nil {
			return nil, err
		}
		k := glacier.AccessKey{ID: keyID, Secret: secret, AccountID: accountID, CreatedAt: time.Now().UTC()}
		if err := meta.CreateAccessKey(ctx, k); err != nil && glacier.KindOf(err) != glacier.KindConflict {
			return nil, err
		}
		log.Info("created access key from the environment", "access_key_id", keyID, "account_id", accountID)
		return nil, nil
	}
	keys, err := meta.ListAccessKeys(ctx, "")
	if err != nil || len(keys) > 0 {
		return nil, err
	}
	if accountID == "" {
		accountID = newAccountID()
	}
	if err := ensureAccount(ctx, meta, accountID); err != nil {
		return nil, err
	}
	k := newAccessKey(accountID, "", time.Now().UTC())
	if err := meta.CreateAccessKey(ctx, k); err != nil {
		return nil, err
	}
	return &k, nil
}

// printFirstKey prints the key a first start created, once, as
// ready-to-paste export lines.
func printFirstKey(out io.Writer, k *glacier.AccessKey) {
	fmt.Fprintf(out, "# permafrost: first start; created account %s with this access key (shown only once):\n", k.AccountID)
	fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
}
