package main

import (
	"fmt"
	"math"
	"strings"
)

// Result is one server's (or the machine's) figure for a row: the runs'
// statistics, or a note saying why there is none ("n/a: …", "error: …").
type Result struct {
	Stat Stat
	Have bool
	Note string
}

func have(s Stat) Result         { return Result{Stat: s, Have: true} }
func missing(note string) Result { return Result{Note: note} }

// Row is one line of the report. Ceilings are rows too (with only PF set,
// meaning "the machine").
type Row struct {
	ID      string // stable key, e.g. "upload/1GiB"; targets and ceilings refer to rows by it
	Section string
	Name    string
	Unit    string
	Higher  bool // higher is better (throughput, rates); otherwise lower is (times, latency, memory)
	PF      Result
	Moto    Result
	// Ceil lists the ceiling rows this figure is compared with; the lowest
	// of them is the ceiling (e.g. min(disk write, hash) for uploads).
	Ceil []string
	// Memory rows are not held to the "≥ 10× moto" target.
	Memory bool
	Target *Target
	Note   string
}

// Target is a goal of issue #5 §5 for one row. Only the permafrost median
// is judged; nothing fails on a gap, the report shows it.
type Target struct {
	Text string
	Min  float64 // the median must be at least Min (if Min > 0)
	Max  float64 // the median must be below Max (if Max > 0)
}

// MotoFactor is §5's "≥ 10× moto on every workload moto supports".
const MotoFactor = 10

// Report is everything the Markdown file holds.
type Report struct {
	Title    string
	Date     string
	Machine  []string // "key: value" lines
	Settings []string
	Ceilings []Row
	Rows     []Row
	Notes    []string
}

// ceilingOf returns the lowest of the ceilings a row names, with its name.
func (r *Report) ceilingOf(row Row) (Stat, string, bool) {
	var best Stat
	var name string
	found := false
	for _, id := range row.Ceil {
		for _, c := range r.Ceilings {
			if c.ID == id && c.PF.Have && (!found || c.PF.Stat.Median < best.Median) {
				best, name, found = c.PF.Stat, c.Name, true
			}
		}
	}
	return best, name, found
}

// advantage is how many times better permafrost is than moto: the ratio of
// the figures, turned round for lower-is-better rows, so that > 1 always
// means permafrost is ahead.
func advantage(row Row) (float64, bool) {
	if !row.PF.Have || !row.Moto.Have || row.PF.Stat.Median <= 0 || row.Moto.Stat.Median <= 0 {
		return 0, false
	}
	if row.Higher {
		return row.PF.Stat.Median / row.Moto.Stat.Median, true
	}
	return row.Moto.Stat.Median / row.PF.Stat.Median, true
}

// status judges a row against its target and, where moto has a figure,
// against MotoFactor. It returns "" when nothing applies.
func status(row Row) string {
	if !row.PF.Have {
		return ""
	}
	var gaps []string
	judged := false
	m := row.PF.Stat.Median
	if t := row.Target; t != nil {
		judged = true
		if t.Min > 0 && m < t.Min {
			gaps = append(gaps, fmt.Sprintf("%s < %s", num(m), num(t.Min)))
		}
		if t.Max > 0 && m >= t.Max {
			gaps = append(gaps, fmt.Sprintf("%s ≥ %s", num(m), num(t.Max)))
		}
	}
	if adv, ok := advantage(row); ok && !row.Memory {
		judged = true
		if adv < MotoFactor {
			gaps = append(gaps, fmt.Sprintf("%s× moto < %d×", num(adv), MotoFactor))
		}
	}
	switch {
	case !judged:
		return ""
	case len(gaps) == 0:
		return "met"
	}
	return "**gap**: " + strings.Join(gaps, "; ")
}

// targetText is the target column: the row's own target and the moto goal.
func targetText(row Row) string {
	var parts []string
	if row.Target != nil {
		parts = append(parts, row.Target.Text)
	}
	if row.Moto.Have && !row.Memory {
		parts = append(parts, fmt.Sprintf("≥ %d× moto", MotoFactor))
	}
	return strings.Join(parts, "; ")
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s — %s\n\n", r.Title, r.Date)
	for _, l := range r.Machine {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	if len(r.Settings) > 0 {
		b.WriteString("\n")
		for _, l := range r.Settings {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	b.WriteString("\nEach figure is the median of the runs, with min–max in brackets. MB = 10⁶ bytes, MiB = 2²⁰. " +
		"**% of ceiling** is permafrost ÷ the lowest listed ceiling of this machine. " +
		"**× moto** is how many times better permafrost is (permafrost ÷ moto for rates, moto ÷ permafrost for times and memory), so > 1 means ahead. " +
		"Targets are issue #5 §5; a gap is reported, never failed.\n")

	if len(r.Ceilings) > 0 {
		b.WriteString("\n## Machine ceilings\n\n")
		b.WriteString("| ceiling | unit | median [min–max] | note |\n|---|---|---|---|\n")
		for _, c := range r.Ceilings {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Name, c.Unit, cell(c.PF), c.Note)
		}
	}

	section := ""
	for _, row := range r.Rows {
		if row.Section != section {
			section = row.Section
			fmt.Fprintf(&b, "\n## %s\n\n", section)
			b.WriteString("| workload | unit | permafrost | ceiling | % of ceiling | moto | × moto | target | status |\n")
			b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
		}
		ceil, pct := "", ""
		if c, name, ok := r.ceilingOf(row); ok {
			ceil = fmt.Sprintf("%s (%s)", num(c.Median), name)
			if row.PF.Have && c.Median > 0 {
				pct = fmt.Sprintf("%.0f%%", 100*row.PF.Stat.Median/c.Median)
			}
		}
		adv := ""
		if a, ok := advantage(row); ok {
			adv = num(a) + "×"
		}
		name := row.Name
		if row.Note != "" {
			name += " — " + row.Note
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, row.Unit, cell(row.PF), ceil, pct, cell(row.Moto), adv, targetText(row), status(row))
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// cell renders a result as "median [min–max]", or its note.
func cell(r Result) string {
	if !r.Have {
		return r.Note
	}
	s := r.Stat
	if s.N <= 1 || s.Min == s.Max {
		return num(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", num(s.Median), num(s.Min), num(s.Max))
}

// num formats a figure with about three significant digits, without
// exponents.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
