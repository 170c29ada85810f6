package policy

import "testing"

func TestGlob(t *testing.T) {
	rows := []struct {
		pattern, s string
		fold       bool
		want       bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"abc", "abc", false, true},
		{"abc", "abd", false, false},
		{"abc", "ABC", false, false},
		{"abc", "ABC", true, true},
		{"ab*", "ab", false, true},
		{"ab*", "abcd", false, true},
		{"ab*", "a", false, false},
		{"AB*", "abcd", true, true},
		{"*b", "aab", false, true},
		{"*b", "aba", false, false},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"*é", "café", false, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{`a\*c`, "a*c", false, true},
		{`a\*c`, "abc", false, false},
		{`a\?`, "a?", false, true},
		{`a\\*`, `a\bc`, false, true},
		{`a\:b`, "a:b", false, true},
		{"glacier:*archive", "glacier:DeleteArchive", true, true},
		{"glacier:get?ault*", "glacier:GetVaultLock", true, true},
	}
	for _, r := range rows {
		text := r.pattern
		if r.fold {
			text = lowerASCII(text)
		}
		g := compileGlob(r.pattern, r.fold)
		if got := g.match(r.s); got != r.want {
			t.Errorf("glob %q (fold %v) on %q = %v, want %v", r.pattern, r.fold, r.s, got, r.want)
		}
		// The fast paths must agree with the general matcher.
		if got := wildcardMatch(text, r.s, r.fold); got != r.want {
			t.Errorf("wildcardMatch %q (fold %v) on %q = %v, want %v", r.pattern, r.fold, r.s, got, r.want)
		}
	}
}

func TestARNGlob(t *testing.T) {
	const v = "arn:aws:glacier:us-east-1:111122223333:vaults/photos"
	rows := []struct {
		pattern, s string
		want       bool
	}{
		{"*", v, true},
		{"*", "*", true},
		{v, v, true},
		{"arn:aws:glacier:*:*:*", v, true},
		{"arn:aws:glacier:us-*-1:111122223333:vaults/*", v, true},
		{"arn:aws:glacier:*:111122223333:vaults/p?otos", v, true},
		{"arn:aws:glacier:*:*:vaults/photos/*", v, false},
		{"arn:aws:glacier:*:vaults/photos", v, false},
		{"arn:aws:*", v, false},
		{"arn:aws:glacier:us-east-1:111122223333:*", "arn:aws:glacier:us-east-1:111122223333:a/b:c", true},
		{"arn:aws:glacier:us-east-1:*:vaults/photos", "arn:aws:glacier:us-east-1:1:2:vaults/photos", false},
		{v, "*", false},
		{v, "arn:aws:glacier", false},
		{`arn:aws:glacier:us-east-1:111122223333:vaults/a\:b`, "arn:aws:glacier:us-east-1:111122223333:vaults/a:b", true},
	}
	for _, r := range rows {
		a := compileARN(r.pattern)
		if got := a.match(r.s); got != r.want {
			t.Errorf("ARN pattern %q on %q = %v, want %v", r.pattern, r.s, got, r.want)
		}
	}
}

func TestCountSegments(t *testing.T) {
	rows := []struct {
		s    string
		vars bool
		want int
	}{
		{"arn:aws:glacier:r:a:vaults/x", false, 6},
		{"arn:aws:glacier:r:a:vaults/${aws:username}", true, 6},
		{"arn:aws:glacier:r:a:vaults/${aws:username}", false, 7},
		{"arn:aws:glacier:${aws:x}", true, 4},
		{"arn:aws:glacier:${unterminated:x", true, 5},
	}
	for _, r := range rows {
		if got := countSegments(r.s, r.vars); got != r.want {
			t.Errorf("countSegments(%q, %v) = %d, want %d", r.s, r.vars, got, r.want)
		}
	}
}
