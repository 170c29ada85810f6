package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Nothing imports cmd: the commands are programs (package main, which Go
// refuses to import), and no package outside cmd depends on one, so the
// wiring stays at the top.
func TestNothingImportsCmd(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}} {{join .Deps \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	cmd := module + "cmd"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		pkg, name := f[0], f[1]
		inCmd := pkg == cmd || strings.HasPrefix(pkg, cmd+"/")
		if inCmd && name != "main" {
			t.Errorf("%s is package %s; everything under cmd is a program (package main)", pkg, name)
		}
		if inCmd {
			continue
		}
		for _, dep := range f[2:] {
			if dep == cmd || strings.HasPrefix(dep, cmd+"/") {
				t.Errorf("%s depends on %s; nothing outside cmd may", pkg, dep)
			}
		}
	}
}
