package glacier

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// validateVaultName applies limits.md §1: 1–255 characters of a–z A–Z 0–9 _ - .
func validateVaultName(name string) error {
	if name == "" {
		return Errorf(KindInvalidParameter, "Invalid vault name: the name must be 1 to 255 characters long")
	}
	if len(name) > 255 {
		return Errorf(KindInvalidParameter, "Invalid vault name: %d characters is longer than the maximum of 255", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return Errorf(KindInvalidParameter, "Invalid vault name: %q contains a character other than a-z, A-Z, 0-9, '_', '-' and '.'", name)
		}
	}
	return nil
}

// normalizeDescription strips leading spaces and checks limits.md §2:
// at most 1,024 printable ASCII characters.
func normalizeDescription(d string) (string, error) {
	d = strings.TrimLeft(d, " ")
	if len(d) > MaxDescriptionLen {
		return "", Errorf(KindInvalidParameter, "Invalid archive description: %d characters is longer than the maximum of %d", len(d), MaxDescriptionLen)
	}
	for i := 0; i < len(d); i++ {
		if d[i] < 0x20 || d[i] > 0x7e {
			return "", Errorf(KindInvalidParameter, "Invalid archive description: byte 0x%02x at position %d is not printable ASCII (0x20-0x7E)", d[i], i)
		}
	}
	return d, nil
}

// validateTag applies limits.md §5 to one key and value.
func validateTag(key, value string) error {
	if n := utf8.RuneCountInString(key); n < 1 || n > 128 {
		return Errorf(KindInvalidParameter, "Invalid tag key %q: a key must be 1 to 128 characters long", key)
	}
	if strings.HasPrefix(strings.ToLower(key), "aws:") {
		return Errorf(KindInvalidParameter, "Invalid tag key %q: the prefix aws: is reserved", key)
	}
	if !tagChars(key) {
		return Errorf(KindInvalidParameter, "Invalid tag key %q: allowed characters are letters, digits, spaces and _ . / = + - @", key)
	}
	if utf8.RuneCountInString(value) > 255 {
		return Errorf(KindInvalidParameter, "Invalid value for tag %q: a value must be at most 255 characters long", key)
	}
	if !tagChars(value) {
		return Errorf(KindInvalidParameter, "Invalid value for tag %q: allowed characters are letters, digits, spaces and _ . / = + - @", key)
	}
	return nil
}

func tagChars(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("_./=+-@", r) {
			continue
		}
		return false
	}
	return true
}
