package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/permafrost/permafrost/"

// deps returns every package pkg imports, directly or not.
func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	got := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		got[p.ImportPath] = true
	}
	return got
}

func banned(t *testing.T, pkg string, prefixes ...string) {
	t.Helper()
	for dep := range deps(t, pkg) {
		for _, p := range prefixes {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("%s imports %s (via its dependencies); it must not", pkg, dep)
			}
		}
	}
}

func TestDomainStaysFreeOfTechnology(t *testing.T) {
	banned(t, "internal/glacier", "net/http", "database/sql", "github.com/aws", "os/exec",
		module+"internal/api", module+"internal/meta", module+"internal/blob")
}

// imports returns the packages pkg imports directly (tests excluded).
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The standard library reaches os internally (crypto does); the rule is
// that a pure core itself never does I/O, so its direct imports are checked.
func TestPureCoresUseNoOSOrNetwork(t *testing.T) {
	for _, pkg := range []string{"internal/treehash", "internal/sigv4", "internal/clock", "internal/policy",
		"internal/vaultlock", "internal/inventory", "internal/selectsql"} {
		for _, imp := range imports(t, pkg) {
			// net/url and net/netip are pure parsing (URLs, CIDRs).
			netOK := imp == "net/url" || imp == "net/netip"
			if imp == "os" || strings.HasPrefix(imp, "os/") || imp == "net" || strings.HasPrefix(imp, "net/") && !netOK || imp == "database/sql" {
				t.Errorf("%s imports %s; pure cores take their facts as arguments", pkg, imp)
			}
			if strings.Contains(imp, ".") {
				t.Errorf("%s imports %s; pure cores use the standard library only", pkg, imp)
			}
		}
	}
}

// The scheduler and the notifier work through the service and the outbox;
// neither knows the wire format or a storage engine.
func TestWorkersStayAboveStorage(t *testing.T) {
	for _, pkg := range []string{"internal/jobs", "internal/notify"} {
		banned(t, pkg, "database/sql", module+"internal/api", module+"internal/meta", module+"internal/blob")
	}
}

func TestStoresDoNotImportTheWireLayer(t *testing.T) {
	for _, pkg := range []string{"internal/meta/sqlite", "internal/meta/postgres", "internal/blob/disk", "internal/blob/s3"} {
		banned(t, pkg, module+"internal/api", module+"cmd")
	}
}
