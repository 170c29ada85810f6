package policy

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// backtrackMatch is the matcher wild replaced: correct, but
// O(len(p) × len(s)). It is the reference the new matcher must agree with.
func backtrackMatch(p, s string, fold bool) bool {
	runeLen := func(s string, i int) int {
		if s[i] < utf8.RuneSelf {
			return 1
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		return n
	}
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx += runeLen(s, sx)
					continue
				}
			default:
				w := 1
				if c == '\\' && px+1 < len(p) {
					c, w = p[px+1], 2
				}
				if sx < len(s) && (s[sx] == c || fold && lowerByte(s[sx]) == c) {
					px += w
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			starSx += runeLen(s, starSx)
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// TestWildAgreesWithBacktracking compares the two matchers on random
// patterns and subjects over a small alphabet (so that matches are
// frequent), with multi-byte characters, escapes and case folding.
func TestWildAgreesWithBacktracking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	patAlpha := []string{"a", "b", "A", "*", "?", "é", `\*`, `\?`, `\\`, ":"}
	subAlpha := []string{"a", "b", "A", "B", "é", "*", "?", `\`, ":"}
	pick := func(alpha []string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	matches := 0
	for range 200000 {
		p := pick(patAlpha, rng.IntN(8))
		s := pick(subAlpha, rng.IntN(10))
		fold := rng.IntN(4) == 0
		if fold {
			p = lowerASCII(p)
		}
		want := backtrackMatch(p, s, fold)
		if want {
			matches++
		}
		if got := wildcardMatch(p, s, fold); got != want {
			t.Fatalf("wildcardMatch(%q, %q, fold %v) = %v, backtracking says %v", p, s, fold, got, want)
		}
		g := compileGlob(p, false)
		if fold {
			g = glob{kind: globGeneral, text: p, fold: true, prog: compileWild(p)}
		}
		if got := g.match(s); got != want {
			t.Fatalf("glob %q match %q (fold %v) = %v, backtracking says %v", p, s, fold, got, want)
		}
	}
	if matches < 1000 {
		t.Fatalf("only %d of the random cases matched; the test is not exercising matches", matches)
	}
	// Segments longer than one 64-bit word, with rare and frequent
	// multi-byte characters.
	longAlpha := []string{"a", "?", "?", "é", "b", "ü"}
	matches = 0
	for range 3000 {
		p := pick(longAlpha, 60+rng.IntN(140))
		if rng.IntN(2) == 0 {
			p = "*" + p
		}
		if rng.IntN(2) == 0 {
			p += "*"
		}
		subj := []string{"a", "a", "é", "b", "ü"}
		s := pick(subj, rng.IntN(400))
		if rng.IntN(2) == 0 {
			// An instance of the pattern, sometimes with one character
			// changed.
			var b strings.Builder
			for _, c := range p {
				switch c {
				case '*':
					b.WriteString(pick(subj, rng.IntN(20)))
				case '?':
					b.WriteString(pick(subj, 1))
				default:
					b.WriteRune(c)
				}
			}
			s = b.String()
			if rng.IntN(3) == 0 {
				rs := []rune(s)
				if len(rs) > 0 {
					rs[rng.IntN(len(rs))] = 'b'
				}
				s = string(rs)
			}
		}
		want := backtrackMatch(p, s, false)
		if want {
			matches++
		}
		if got := wildcardMatch(p, s, false); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, backtracking says %v", p, s, got, want)
		}
	}
	t.Logf("%d long cases matched", matches)
}

// FuzzWild checks the matcher against the backtracking reference.
func FuzzWild(f *testing.F) {
	f.Add("a*b?c", "aXbYc", false)
	f.Add("*é?", "café!", false)
	f.Add(`a\*?*`, "a*bc", true)
	f.Fuzz(func(t *testing.T, p, s string, fold bool) {
		// Policy text is JSON, so always valid UTF-8; a pattern byte that
		// is not UTF-8 is compared as one character here, as a byte by
		// the old matcher.
		if len(p) > 64 || len(s) > 256 || !utf8.ValidString(p) {
			return
		}
		if fold {
			p = lowerASCII(p)
		}
		if got, want := wildcardMatch(p, s, fold), backtrackMatch(p, s, fold); got != want {
			t.Fatalf("wildcardMatch(%q, %q, %v) = %v, backtracking says %v", p, s, fold, got, want)
		}
	})
}

// pathological are the patterns that made the backtracking matcher
// quadratic, each about 19 KB, against a 400 KB subject of 'a's that none
// of them matches (and one that does).
func pathological() (subject string, patterns map[string]string) {
	const plen = 19 * 1024
	subject = strings.Repeat("a", 400*1024)
	return subject, map[string]string{
		"star-then-literal":   "*" + strings.Repeat("a", plen) + "b",
		"many-stars":          strings.Repeat("*a", plen/2) + "b",
		"question-marks":      "*" + strings.Repeat("a?", plen/2) + "b",
		"questions-then-star": strings.Repeat("?", plen) + "*b",
		"matching":            "*" + strings.Repeat("a?", plen/2) + "*",
	}
}

// TestPathologicalGlob: each pathological pattern answers quickly. The
// bound is generous (a loaded 2-core machine); the backtracking matcher
// needed tens of seconds for the first one.
func TestPathologicalGlob(t *testing.T) {
	subject, patterns := pathological()
	for name, p := range patterns {
		start := time.Now()
		g := compileGlob(globText(p), false)
		got := g.match(subject)
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: %v to match", name, el)
		}
		if want := name == "matching"; got != want {
			t.Errorf("%s: match = %v, want %v", name, got, want)
		}
	}
}

// TestEvaluateStopsWhenCancelled: an evaluation of a large policy against a
// large User-Agent stops as soon as its context is done, and reports it.
func TestEvaluateStopsWhenCancelled(t *testing.T) {
	subject, patterns := pathological()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:*","Resource":"*",
		"Condition":{"StringLike":{"aws:UserAgent":"` + patterns["question-marks"] + `"}}}]}`
	pol := mustParse(t, doc, ResourcePolicy)
	req := rq(ownerRoot, del, map[string][]string{KeyUserAgent: {subject}})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d, err := EvaluateContext(ctx, req, nil, []*Policy{pol}); err == nil || d != ImplicitDeny {
		t.Fatalf("EvaluateContext with a cancelled context = %v, %v; want ImplicitDeny and the context's error", d, err)
	}
	d, err := EvaluateContext(context.Background(), req, nil, []*Policy{pol})
	if err != nil || d != Allow {
		t.Fatalf("EvaluateContext = %v, %v; want Allow (root, the Deny's pattern does not match)", d, err)
	}
	req.Context[KeyUserAgent] = []string{subject + "b"}
	if d := Evaluate(req, nil, []*Policy{pol}); d != ExplicitDeny {
		t.Fatalf("Evaluate with a matching User-Agent = %v, want ExplicitDeny", d)
	}
}

func BenchmarkPathologicalGlob(b *testing.B) {
	subject, patterns := pathological()
	for _, name := range []string{"star-then-literal", "many-stars", "question-marks", "questions-then-star"} {
		g := compileGlob(globText(patterns[name]), false)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(subject)))
			for b.Loop() {
				g.match(subject)
			}
		})
	}
}

func BenchmarkActionGlob(b *testing.B) {
	g := compileGlob(globText("glacier:*Vault*"), true)
	for b.Loop() {
		if !g.match("glacier:DescribeVault") {
			b.Fatal("no match")
		}
	}
}

// TestMatchGivesUpWhenDone: a long '?' scan stops when its request ends,
// reporting no match, instead of running to the end of the value.
func TestMatchGivesUpWhenDone(t *testing.T) {
	subject, patterns := pathological()
	g := compileGlob(globText(patterns["matching"]), false)
	if !g.match(subject) {
		t.Fatal("the pattern does not match without a done channel")
	}
	done := make(chan struct{})
	close(done)
	if g.matchDone(subject, done) {
		t.Fatal("matchDone with a closed channel reported a match")
	}
}
