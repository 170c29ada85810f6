package s3

import (
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The blob store's own credential settings. They take precedence over the
// standard AWS chain, so the bucket's keys never have to live in
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, where they would collide with a
// Glacier client's keys in the same shell or service environment (and they
// never belong in the --blobs URL, which is logged).
const (
	EnvAccessKeyID     = "PERMAFROST_S3_ACCESS_KEY_ID"
	EnvSecretAccessKey = "PERMAFROST_S3_SECRET_ACCESS_KEY"
	EnvSessionToken    = "PERMAFROST_S3_SESSION_TOKEN" // optional, with the two above
	EnvProfile         = "PERMAFROST_S3_PROFILE"       // a profile of the shared AWS config and credentials files
)

// Credentials says where the blob store's credentials come from.
type Credentials struct {
	// Source names it for the start-up log: "PERMAFROST_S3_ACCESS_KEY_ID",
	// "profile NAME (PERMAFROST_S3_PROFILE)" or "the standard AWS chain".
	Source string
	opts   []func(*config.LoadOptions) error
}

// CredentialsFromEnv reads the blob store's credential settings:
//
//   - PERMAFROST_S3_ACCESS_KEY_ID and PERMAFROST_S3_SECRET_ACCESS_KEY (both,
//     and optionally PERMAFROST_S3_SESSION_TOKEN): static keys;
//   - else PERMAFROST_S3_PROFILE: that profile of the shared AWS files;
//   - else the standard AWS chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, the
//     shared files, SSO, web identity, container and instance roles), as
//     before these settings existed.
//
// Half a key pair, a session token without keys, or keys and a profile
// together are configuration errors: guessing would sign with the wrong
// identity. getenv is os.Getenv when nil.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	id, secret, token, profile := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey), getenv(EnvSessionToken), getenv(EnvProfile)
	switch {
	case id != "" && secret == "":
		return Credentials{}, fmt.Errorf("s3: %s is set but %s is not: set both", EnvAccessKeyID, EnvSecretAccessKey)
	case id == "" && secret != "":
		return Credentials{}, fmt.Errorf("s3: %s is set but %s is not: set both", EnvSecretAccessKey, EnvAccessKeyID)
	case id == "" && token != "":
		return Credentials{}, fmt.Errorf("s3: %s is set without %s and %s", EnvSessionToken, EnvAccessKeyID, EnvSecretAccessKey)
	case id != "" && profile != "":
		return Credentials{}, fmt.Errorf("s3: set either %s/%s or %s, not both", EnvAccessKeyID, EnvSecretAccessKey, EnvProfile)
	case id != "":
		return Credentials{
			Source: EnvAccessKeyID,
			opts: []func(*config.LoadOptions) error{
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token)),
			},
		}, nil
	case profile != "":
		return Credentials{
			Source: fmt.Sprintf("profile %s (%s)", profile, EnvProfile),
			opts:   []func(*config.LoadOptions) error{config.WithSharedConfigProfile(profile)},
		}, nil
	}
	return Credentials{Source: "the standard AWS chain"}, nil
}
