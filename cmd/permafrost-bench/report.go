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
	ID string // stable key, e.g. "upload/1GiB"; targets and ceilings refer to rows by it
	// Config is the server configuration measured ("embedded", "pg-s3-1",
	// …); "" for figures that belong to none (policy evaluation). Only
	// embedded and config-less rows have moto figures and targets.
	Config  string
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
	Configs  []ConfigInfo // the server configurations of the run, in order
	Notes    []string
}

// ConfigInfo describes one server configuration in the report.
type ConfigInfo struct {
	Name  string // "embedded", "pg-s3-1", …
	Title string
	// Compare names the configurations its section compares it with
	// (embedded's rows compare with moto instead).
	Compare []string
	NotRun  string // why it was not measured, if it was not
}

// embeddedRow reports whether a row is shown in the classic sections, with
// moto and the targets: the embedded configuration's and config-less rows.
func embeddedRow(r Row) bool { return r.Config == "" || r.Config == "embedded" }

// find returns the row of a configuration with the id.
func (r *Report) find(config, id string) (Row, bool) {
	for _, x := range r.Rows {
		if x.ID == id && (x.Config == config || config == "embedded" && x.Config == "") {
			return x, true
		}
	}
	return Row{}, false
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
func advantage(row Row) (float64, bool) { return ratio(row.Higher, row.PF, row.Moto) }

// ratio is how many times better a is than b (a ÷ b when higher is better,
// b ÷ a otherwise).
func ratio(higher bool, a, b Result) (float64, bool) {
	if !a.Have || !b.Have || a.Stat.Median <= 0 || b.Stat.Median <= 0 {
		return 0, false
	}
	if higher {
		return a.Stat.Median / b.Stat.Median, true
	}
	return b.Stat.Median / a.Stat.Median, true
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

	r.summary(&b)
	section := ""
	for _, row := range r.Rows {
		if !embeddedRow(row) {
			continue
		}
		if row.Section != section {
			section = row.Section
			fmt.Fprintf(&b, "\n## %s\n\n", section)
			b.WriteString("| workload | unit | permafrost | ceiling | % of ceiling | moto | × moto | target | status |\n")
			b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
		}
		ceil, pct := r.ceilingCells(row)
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
	for _, c := range r.Configs {
		if c.Name != "embedded" {
			r.configSection(&b, c)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// ceilingCells are a row's ceiling and its % of it.
func (r *Report) ceilingCells(row Row) (ceil, pct string) {
	if c, name, ok := r.ceilingOf(row); ok {
		ceil = fmt.Sprintf("%s (%s)", num(c.Median), name)
		if row.PF.Have && c.Median > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*row.PF.Stat.Median/c.Median)
		}
	}
	return ceil, pct
}

// summaryIDs are the rows of the comparison of configurations.
var summaryIDs = []string{
	"upload/1MiB", "upload/large", "multipart/1", "multipart/4", "retrieve/whole", "retrieve/range",
	"describe/1", "describe/64", "list/64", "mixed/ops", "mixed/p50", "mixed/p99", "rss/workloads",
	"inventory/time", "inventory/rss", "startup/fresh", "startup/existing", "rss/idle",
}

// summary writes the table of the main workloads across configurations,
// medians only, when the run measured more than one configuration.
func (r *Report) summary(b *strings.Builder) {
	if len(r.Configs) < 2 {
		return
	}
	b.WriteString("\n## Configurations compared\n\n")
	b.WriteString("Medians of the main workloads; ranges, ceilings and the other workloads are in the sections below. ")
	if r.Configs[0].Name == "embedded" {
		b.WriteString("The sections without a configuration's name (Uploads … Start-up) are the embedded configuration's, beside moto and held to the targets; " +
			"every other configuration has one section, compared with embedded (× embedded > 1: ahead of it, as for × moto). ")
	}
	for i, c := range r.Configs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(b, "**%s**: %s", c.Name, c.Title)
	}
	b.WriteString(".\n\n| workload | unit |")
	sep := "|---|---|"
	for _, c := range r.Configs {
		fmt.Fprintf(b, " %s |", c.Name)
		sep += "---|"
	}
	b.WriteString(" moto |\n" + sep + "---|\n")
	for _, id := range summaryIDs {
		var name, unit string
		var cells []string
		measured := false
		motoCell := ""
		for _, c := range r.Configs {
			row, ok := r.find(c.Name, id)
			switch {
			case ok:
				if name == "" {
					name, unit = row.Name, row.Unit
				}
				if c.Name == "embedded" {
					motoCell = median(row.Moto)
				}
				measured = measured || row.PF.Have
				cells = append(cells, median(row.PF))
			case c.NotRun != "":
				cells = append(cells, "not run")
			default:
				cells = append(cells, "")
			}
		}
		if !measured {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, unit, strings.Join(cells, " | "), motoCell)
	}
}

// configSection writes one non-embedded configuration's rows as one table,
// compared with the configurations it names.
func (r *Report) configSection(b *strings.Builder, c ConfigInfo) {
	fmt.Fprintf(b, "\n## %s: %s\n\n", c.Name, c.Title)
	if c.NotRun != "" {
		fmt.Fprintf(b, "Not run: %s\n", c.NotRun)
		return
	}
	fmt.Fprintf(b, "| workload | unit | %s | ceiling | %% of ceiling |", c.Name)
	sep := "|---|---|---|---|---|"
	for _, other := range c.Compare {
		fmt.Fprintf(b, " %s | × %s |", other, other)
		sep += "---|---|"
	}
	b.WriteString("\n" + sep + "\n")
	section := ""
	cols := 5 + 2*len(c.Compare)
	for _, row := range r.Rows {
		if row.Config != c.Name {
			continue
		}
		if row.Section != section {
			section = row.Section
			fmt.Fprintf(b, "| **%s** |%s\n", section, strings.Repeat(" |", cols-1))
		}
		ceil, pct := r.ceilingCells(row)
		name := row.Name
		if row.Note != "" {
			name += " — " + row.Note
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", name, row.Unit, cell(row.PF), ceil, pct)
		for _, other := range c.Compare {
			o, ok := r.find(other, row.ID)
			oc, x := "", ""
			if ok {
				oc = cell(o.PF)
				if v, ok := ratio(row.Higher, row.PF, o.PF); ok {
					x = num(v) + "×"
				}
			}
			fmt.Fprintf(b, " %s | %s |", oc, x)
		}
		b.WriteString("\n")
	}
}

// median renders a result's median alone, or the first words of its note
// ("n/a", "error", "not run").
func median(r Result) string {
	if !r.Have {
		short, _, _ := strings.Cut(r.Note, ":")
		return short
	}
	return num(r.Stat.Median)
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
