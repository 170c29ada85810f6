package main

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
)

// policy runs the policy package's own micro-benchmark — the lock policy
// every DeleteArchive evaluates — -runs times and reports ns/op.
func (b *bench) policy(ctx context.Context) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkEvaluateLockPolicy$",
		"-count", strconv.Itoa(b.cfg.runs), "./internal/policy/")
	cmd.Dir = b.root
	out, err := cmd.CombinedOutput()
	values := parseBench(string(out), "BenchmarkEvaluateLockPolicy")
	rows := []Row{
		{ID: "policy/young", Name: "retention lock policy, young archive (explicit deny)"},
		{ID: "policy/old", Name: "retention lock policy, old archive (allow)"},
	}
	for i, row := range rows {
		row.Section, row.Unit = "Policy evaluation (go test -bench BenchmarkEvaluateLockPolicy ./internal/policy)", "ns/op"
		sub := []string{"young", "old"}[i]
		switch v := values[sub]; {
		case len(v) > 0:
			row.PF = have(summarize(v))
		case err != nil:
			row.PF = missing("error: " + oneLine(err))
		default:
			row.PF = missing("error: no result for " + sub)
		}
		row.Moto = missing("n/a: moto has no vault lock")
		b.logf("  %-10s %-55s %s", "permafrost", row.Name, cell(row.PF))
		b.report.Rows = append(b.report.Rows, row)
	}
}

var benchLine = regexp.MustCompile(`(?m)^(Benchmark\w+)/(\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// parseBench collects the ns/op of each sub-benchmark of name in go test
// -bench output.
func parseBench(out, name string) map[string][]float64 {
	values := map[string][]float64{}
	for _, m := range benchLine.FindAllStringSubmatch(out, -1) {
		if m[1] != name {
			continue
		}
		if v, err := strconv.ParseFloat(m[3], 64); err == nil {
			values[m[2]] = append(values[m[2]], v)
		}
	}
	return values
}
