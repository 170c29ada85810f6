package glacier

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// maxInterfaceMethods bounds every interface the domain declares: a store
// ability joins the role that uses it, or becomes a role of its own, rather
// than growing one interface into the union of every consumer's needs.
const maxInterfaceMethods = 15

// TestInterfacesStaySmall fails when an interface declared in this package
// has more than maxInterfaceMethods methods (embedded interfaces count with
// their own methods when declared here).
func TestInterfacesStaySmall(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[string]*ast.InterfaceType{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if it, ok := ts.Type.(*ast.InterfaceType); ok {
					ifaces[ts.Name.Name] = it
				}
			}
			return true
		})
	}
	var count func(it *ast.InterfaceType) int
	count = func(it *ast.InterfaceType) int {
		n := 0
		for _, m := range it.Methods.List {
			if len(m.Names) > 0 {
				n += len(m.Names)
			} else if id, ok := m.Type.(*ast.Ident); ok && ifaces[id.Name] != nil {
				n += count(ifaces[id.Name])
			} else {
				n++ // an interface of another package
			}
		}
		return n
	}
	if len(ifaces) == 0 {
		t.Fatal("no interfaces found")
	}
	for name, it := range ifaces {
		if n := count(it); n > maxInterfaceMethods {
			t.Errorf("interface %s has %d methods; split it by role (at most %d)", name, n, maxInterfaceMethods)
		}
	}
}
