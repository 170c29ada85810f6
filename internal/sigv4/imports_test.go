package sigv4

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces the pure-core rule (STYLE.md §8): the package's non-test files import only the
// standard library, and nothing from os or net.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			switch {
			case strings.Contains(first, "."):
				t.Errorf("%s imports %s: standard library only", name, path)
			case path == "os" || strings.HasPrefix(path, "os/") || path == "net" || strings.HasPrefix(path, "net/"):
				t.Errorf("%s imports %s: a pure core may not use os or net", name, path)
			}
		}
	}
}
