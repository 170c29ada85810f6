package inventory

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the pure-core rule of STYLE.md: the package (tests
// aside) uses only the standard library and never os or net.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") || imp == "os" || strings.HasPrefix(imp, "os/") || imp == "net" || strings.HasPrefix(imp, "net/") {
			t.Errorf("inventory imports %q; a pure core may import only the standard library, without os and net", imp)
		}
	}
}
