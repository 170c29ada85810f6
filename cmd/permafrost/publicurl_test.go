package main

import (
	"strings"
	"testing"
)

func TestPublicURLValidation(t *testing.T) {
	for _, ok := range []string{"", "https://glacier.example.com", "http://10.0.0.5:9400", "https://lb.example.com/glacier"} {
		c := DefaultConfig()
		c.PublicURL = ok
		if err := c.Validate(); err != nil {
			t.Errorf("--public-url %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"glacier.example.com", "ftp://x", "https://", "https://x/?a=b", "https://user:pw@x"} {
		c := DefaultConfig()
		c.PublicURL = bad
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: %v, want an error naming --public-url", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") && strings.Contains(bad, "pw") {
			// checkPublicURL quotes the value; a password in it is the
			// operator's mistake, but still should not be echoed.
			t.Errorf("--public-url error echoes a password: %v", err)
		}
	}
}
