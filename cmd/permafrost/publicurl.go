package main

import (
	"fmt"
	"net/url"
)

// checkPublicURL checks --public-url: empty, or an absolute http(s) URL
// with a host and no query.
func checkPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return usageError{fmt.Sprintf("--public-url %q: want an http:// or https:// URL such as https://glacier.example.com", raw)}
	}
	return nil
}
