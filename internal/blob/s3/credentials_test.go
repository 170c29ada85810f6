package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/testenv"
)

func TestCredentialsFromEnvSettings(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		source  string // want, or
		wantErr string
	}{
		{nil, "the standard AWS chain", ""},
		{map[string]string{s3.EnvAccessKeyID: "AK", s3.EnvSecretAccessKey: "SK"}, s3.EnvAccessKeyID, ""},
		{map[string]string{s3.EnvAccessKeyID: "AK", s3.EnvSecretAccessKey: "SK", s3.EnvSessionToken: "T"}, s3.EnvAccessKeyID, ""},
		{map[string]string{s3.EnvProfile: "archive"}, "profile archive (PERMAFROST_S3_PROFILE)", ""},
		{map[string]string{s3.EnvAccessKeyID: "AK"}, "", "PERMAFROST_S3_ACCESS_KEY_ID is set but PERMAFROST_S3_SECRET_ACCESS_KEY is not"},
		{map[string]string{s3.EnvSecretAccessKey: "SK"}, "", "PERMAFROST_S3_SECRET_ACCESS_KEY is set but PERMAFROST_S3_ACCESS_KEY_ID is not"},
		{map[string]string{s3.EnvSessionToken: "T"}, "", "PERMAFROST_S3_SESSION_TOKEN is set without"},
		{map[string]string{s3.EnvAccessKeyID: "AK", s3.EnvSecretAccessKey: "SK", s3.EnvProfile: "p"}, "", "not both"},
	} {
		c, err := s3.CredentialsFromEnv(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err %v, want %q", tc.env, err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "SK") || strings.Contains(err.Error(), "AK")) {
				t.Errorf("%v: the error shows a key: %v", tc.env, err)
			}
			continue
		}
		if err != nil || c.Source != tc.source {
			t.Errorf("%v: source %q, %v; want %q", tc.env, c.Source, err, tc.source)
		}
	}
}

var roundTrips int

// roundTrip opens the store at url, and writes and reads one blob.
func roundTrip(t *testing.T, url string) error {
	t.Helper()
	ctx := context.Background()
	st, err := s3.Open(ctx, url)
	if err != nil {
		return err
	}
	want := []byte("bytes for the bucket")
	roundTrips++
	key := fmt.Sprintf("creds/round-trip-%d", roundTrips)
	if _, err := st.Put(ctx, key, bytes.NewReader(want)); err != nil {
		return err
	}
	r, err := st.Open(ctx, key, 0, int64(len(want)))
	if err != nil {
		return err
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		t.Errorf("read back %q", got)
	}
	return nil
}

// The store's own settings win over a Glacier client's AWS_* keys in the
// same environment; without them the standard chain still works.
func TestOpenPrefersItsOwnCredentials(t *testing.T) {
	b := testenv.S3(t)
	b.SetEnv(t)
	// The bucket's keys through the standard chain: as before.
	if err := roundTrip(t, b.URL); err != nil {
		t.Fatalf("standard chain: %v", err)
	}

	// A Glacier client's keys in AWS_*, the bucket's in PERMAFROST_S3_*.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAGLACIERCLIENTKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "glacier-client-secret")
	if err := roundTrip(t, b.URL); err == nil {
		t.Fatalf("with only a Glacier client's AWS_* keys the bucket opened")
	}
	t.Setenv(s3.EnvAccessKeyID, b.AccessKey)
	t.Setenv(s3.EnvSecretAccessKey, b.SecretKey)
	if err := roundTrip(t, b.URL); err != nil {
		t.Errorf("PERMAFROST_S3_* keys beside other AWS_* keys: %v", err)
	}
	t.Setenv(s3.EnvSecretAccessKey, "")
	if err := roundTrip(t, b.URL); err == nil || !strings.Contains(err.Error(), "set both") {
		t.Errorf("half a key pair: %v", err)
	}
	t.Setenv(s3.EnvAccessKeyID, "")

	// A profile of a shared credentials file.
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("[archive-bucket]\naws_access_key_id = "+b.AccessKey+
		"\naws_secret_access_key = "+b.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv(s3.EnvProfile, "archive-bucket")
	if err := roundTrip(t, b.URL); err != nil {
		t.Errorf("PERMAFROST_S3_PROFILE beside other AWS_* keys: %v", err)
	}
	t.Setenv(s3.EnvProfile, "no-such-profile")
	if err := roundTrip(t, b.URL); err == nil || !strings.Contains(err.Error(), "no-such-profile") {
		t.Errorf("a missing profile: %v", err)
	}
}
