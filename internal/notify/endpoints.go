package notify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/permafrost/permafrost/internal/glacier"
)

// ParseEndpoints builds the topic ARN → URL map from repeatable "ARN=URL"
// settings (the --sns-endpoint flag) and the lines of a topics file, which
// may be nil. A topics-file line is "ARN URL" or "ARN=URL"; blank lines and
// lines whose first non-blank character is # are skipped. Each ARN must look
// like arn:aws:sns:<region>:<12 digits>:<name> and each URL must be an
// absolute http or https URL with a host. Naming one topic twice with the
// same URL is harmless; with different URLs it is an error, since which
// one wins would be a guess.
func ParseEndpoints(flags []string, topicsFile io.Reader) (map[string]string, error) {
	m := map[string]string{}
	from := map[string]string{} // ARN → where it was set, for conflict messages
	add := func(where, arn, rawURL string) error {
		if err := checkEndpoint(arn, rawURL); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if old, ok := m[arn]; ok && old != rawURL {
			return fmt.Errorf("%s: topic %s already mapped to %s by %s", where, arn, redact(old), from[arn])
		}
		m[arn], from[arn] = rawURL, where
		return nil
	}
	for _, f := range flags {
		where := fmt.Sprintf("--sns-endpoint %q", redact(f))
		arn, u, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%s: want ARN=URL", where)
		}
		if err := add(where, strings.TrimSpace(arn), strings.TrimSpace(u)); err != nil {
			return nil, err
		}
	}
	if topicsFile == nil {
		return m, nil
	}
	sc := bufio.NewScanner(topicsFile)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		where := fmt.Sprintf("topics file line %d", line)
		// An ARN holds neither "=" nor blanks, so the first of either ends it.
		cut := strings.IndexAny(text, "= \t")
		if cut < 0 {
			return nil, fmt.Errorf("%s: want \"ARN URL\" or \"ARN=URL\", got %q", where, text)
		}
		arn, rest := text[:cut], strings.TrimSpace(text[cut:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
		if err := add(where, arn, rest); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading topics file: %w", err)
	}
	return m, nil
}

func checkEndpoint(arn, rawURL string) error {
	if !glacier.ValidTopicARN(arn) {
		return fmt.Errorf("invalid topic ARN %q: want arn:aws:sns:<region>:<12-digit account>:<topic name>", arn)
	}
	if rawURL == "" {
		return fmt.Errorf("topic %s: missing URL", arn)
	}
	if strings.ContainsAny(rawURL, " \t") {
		return fmt.Errorf("topic %s: URL %q contains blanks", arn, redact(rawURL))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the bare reason, without the URL and any password in it
		}
		return fmt.Errorf("topic %s: invalid URL: %w", arn, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("topic %s: URL %s: scheme must be http or https", arn, u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("topic %s: URL %s: missing host", arn, u.Redacted())
	}
	return nil
}

// redact hides the password of any URL in s, so that configuration errors
// can be logged.
func redact(s string) string {
	arn, raw, ok := strings.Cut(s, "=")
	if !ok {
		arn, raw = "", s
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	if ok {
		return arn + "=" + u.Redacted()
	}
	return u.Redacted()
}
