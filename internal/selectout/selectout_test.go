package selectout

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Setenv(EnvAccessKeyID, "AK")
	t.Setenv(EnvSecretAccessKey, "SK")
	c, err := ParseURL("s3://?endpoint=http://127.0.0.1:7070/&region=eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "http://127.0.0.1:7070" || c.Region != "eu-west-1" || !c.PathStyle || c.AccessKeyID != "AK" || c.SecretAccessKey != "SK" {
		t.Errorf("%+v", c)
	}
	if c, err := ParseURL("s3://"); err != nil || c.Endpoint != "" || c.PathStyle || c.Region != "us-east-1" {
		t.Errorf("s3:// = %+v, %v", c, err)
	}
	if c, err := ParseURL("s3://?endpoint=https://s3.example.com&path-style=false"); err != nil || c.PathStyle {
		t.Errorf("path-style=false = %+v, %v", c, err)
	}
	for _, bad := range []string{"http://x", "s3://bucket", "s3://?endpoint=ftp://x", "s3://?color=red", "s3://?path-style=maybe", "s3://user:pw@/", "s3://?region=a&region=b"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: error echoes the password: %v", bad, err)
		}
	}
	t.Setenv(EnvSecretAccessKey, "")
	if _, err := ParseURL("s3://"); err == nil {
		t.Error("an access key without a secret accepted")
	}
}
