package notify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/permafrost/permafrost/internal/glacier"
)

// ParseEndpoints builds the topic ARN → URL map from repeatable "ARN=URL"
// settings (the --sns-endpoint flag) and the lines of a topics file, which
// may be nil; see ParseTopics.
func ParseEndpoints(flags []string, topicsFile io.Reader) (map[string]string, error) {
	t, err := ParseTopics(flags, topicsFile)
	return t.Endpoints, err
}

// Topics is the operator's topic configuration.
type Topics struct {
	// Endpoints maps a topic ARN to the URL its messages are POSTed to.
	Endpoints map[string]string
	// Accounts maps a topic ARN to the other accounts whose vaults and
	// jobs may use it besides the topic's own account.
	Accounts map[string][]string
}

// ParseTopics reads repeatable "ARN=URL" settings (the --sns-endpoint
// flag) and the lines of a topics file, which may be nil. A topics-file
// line is "ARN URL" or "ARN=URL", optionally followed by
// "allow=ACCOUNT[,ACCOUNT…]": the 12-digit ids of other accounts whose
// vaults and jobs may use the topic (by default only the account in the
// topic's ARN may). Blank lines and lines whose first non-blank character
// is # are skipped. Each ARN must look like
// arn:aws:sns:<region>:<12 digits>:<name> and each URL must be an absolute
// http or https URL with a host. Naming one topic twice with the same URL
// is harmless (the allowed accounts add up); with different URLs it is an
// error, since which one wins would be a guess.
func ParseTopics(flags []string, topicsFile io.Reader) (Topics, error) {
	m := map[string]string{}
	accounts := map[string][]string{}
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
			return Topics{}, fmt.Errorf("%s: want ARN=URL", where)
		}
		if err := add(where, strings.TrimSpace(arn), strings.TrimSpace(u)); err != nil {
			return Topics{}, err
		}
	}
	if topicsFile == nil {
		return Topics{Endpoints: m, Accounts: accounts}, nil
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
			return Topics{}, fmt.Errorf("%s: want \"ARN URL\" or \"ARN=URL\", got %q", where, text)
		}
		arn, rest := text[:cut], strings.TrimSpace(text[cut:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
		rawURL, allowed, err := splitAllow(rest)
		if err != nil {
			return Topics{}, fmt.Errorf("%s: topic %s: %w", where, arn, err)
		}
		if err := add(where, arn, rawURL); err != nil {
			return Topics{}, err
		}
		for _, a := range allowed {
			if !slices.Contains(accounts[arn], a) {
				accounts[arn] = append(accounts[arn], a)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Topics{}, fmt.Errorf("reading topics file: %w", err)
	}
	return Topics{Endpoints: m, Accounts: accounts}, nil
}

// splitAllow splits "URL allow=A,B" into the URL and the account ids.
// Without an allow= field, rest is the URL as it is.
func splitAllow(rest string) (string, []string, error) {
	fields := strings.Fields(rest)
	if len(fields) < 2 || !strings.HasPrefix(fields[len(fields)-1], "allow=") {
		return rest, nil, nil
	}
	last := fields[len(fields)-1]
	rawURL := strings.TrimSpace(strings.TrimSuffix(rest, last))
	var ids []string
	for _, id := range strings.Split(strings.TrimPrefix(last, "allow="), ",") {
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return "", nil, fmt.Errorf("allow=%s: want 12-digit account ids separated by commas", strings.TrimPrefix(last, "allow="))
		}
		ids = append(ids, id)
	}
	return rawURL, ids, nil
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
