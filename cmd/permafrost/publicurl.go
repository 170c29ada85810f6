package main

import (
	"fmt"
	"net/url"
)

// checkPublicURL checks --public-url: empty, or an absolute http(s) URL
// with a host, no query and no user information. The error never repeats
// a password given by mistake.
func checkPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	shown := "(unparsable)"
	if err == nil {
		shown = u.Redacted()
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return usageError{fmt.Sprintf("--public-url %s: want an http:// or https:// URL without credentials or query, such as https://glacier.example.com", shown)}
	}
	return nil
}
