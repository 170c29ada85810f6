package deptest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitectureDocNamesWhatExists keeps docs/architecture.md honest
// about names: every path it quotes exists, every package under internal
// has its room in it, and every glacier.Name and Service.Name it quotes
// is declared in internal/glacier.
func TestArchitectureDocNamesWhatExists(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	quoted := regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(doc, -1)
	for _, q := range quoted {
		p := strings.TrimSuffix(q[1], "/...")
		if !strings.HasPrefix(p, "internal/") && !strings.HasPrefix(p, "cmd/") && p != "permafrosttest" {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Errorf("docs/architecture.md names %s, which does not exist", q[1])
		}
	}
	dirs, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && !strings.Contains(doc, "`internal/"+d.Name()) {
			t.Errorf("docs/architecture.md has no room for internal/%s", d.Name())
		}
	}
	var src strings.Builder
	files, _ := filepath.Glob(filepath.Join(root, "internal", "glacier", "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, q := range quoted {
		m := regexp.MustCompile(`^(?:glacier|Service)\.([A-Z]\w*)$`).FindStringSubmatch(q[1])
		if m == nil {
			continue
		}
		decl := regexp.MustCompile(`(?m)(^func (\(\w+ \*?\w+\) )?|^type |^(const|var) |^\t|^\t\w+, )` + m[1] + `\b`)
		if !decl.MatchString(src.String()) {
			t.Errorf("docs/architecture.md names %s, which internal/glacier does not declare", q[1])
		}
	}
}
