package main

import "fmt"

// applyTargets attaches issue #5 §5's goals to the rows they concern. It
// runs after all measurements because some goals are relative to other
// rows (multipart against single stream) or to ceilings.
func applyTargets(r *Report) {
	ceil := func(ids ...string) (float64, bool) {
		s, _, ok := r.ceilingOf(Row{Ceil: ids})
		return s.Median, ok
	}
	row := func(id string) (Row, bool) {
		for _, x := range r.Rows {
			if x.ID == id && x.PF.Have && embeddedRow(x) {
				return x, true
			}
		}
		return Row{}, false
	}
	for i := range r.Rows {
		x := &r.Rows[i]
		if !embeddedRow(*x) { // the goals are the embedded server's
			continue
		}
		switch x.ID {
		case "upload/large":
			if c, ok := ceil(x.Ceil...); ok {
				x.Target = &Target{Text: "≥ 90% of min(fsync'd write, 1-core hash)", Min: 0.9 * c}
			}
			if d, ok := ceil("pipeline-direct/large"); ok {
				if x.Target == nil {
					x.Target = &Target{}
				} else {
					x.Target.Text += "; "
				}
				x.Target.Text += fmt.Sprintf("≥ 0.9× the O_DIRECT pipeline (%s, issue #13)", num(0.9*d))
				x.Target.Min = max(x.Target.Min, 0.9*d)
			}
		case "multipart/2", "multipart/4", "multipart/8":
			single, ok := row("upload/large")
			if !ok {
				continue
			}
			want := 1.5 * single.PF.Stat.Median
			text := fmt.Sprintf("≥ 1.5× single stream (%s)", num(want))
			if c, ok := ceil(x.Ceil...); ok && 0.9*c < want {
				want = 0.9 * c
				text = fmt.Sprintf("disk allows < 1.5× single stream: ≥ 90%% of ceiling (%s)", num(want))
			}
			x.Target = &Target{Text: text, Min: want}
		case "retrieve/whole":
			if c, ok := ceil(x.Ceil...); ok {
				x.Target = &Target{Text: "≥ 0.8× sequential read (issue #13)", Min: 0.8 * c}
			}
		case "describe/64":
			if c, ok := ceil("http-tiny/64"); ok {
				x.Target = &Target{Text: "≥ 50% of bare net/http tiny GET", Min: 0.5 * c}
				if sdk, ok := ceil("sdk-describe/64"); ok && sdk < x.Target.Min {
					r.Notes = append(r.Notes, fmt.Sprintf("The DescribeVault target at 64 clients (%s req/s) is above what the SDK client "+
						"alone reaches against a handler that does nothing (%s req/s): client and server share this machine's cores, "+
						"so no server can meet it as measured here; compare with that ceiling too.", num(x.Target.Min), num(sdk)))
				}
			}
		case "replay-describe/16", "replay-list/16":
			if c, ok := ceil(x.Ceil...); ok {
				x.Target = &Target{Text: "≥ 0.6× the do-nothing server (issue #13)", Min: 0.6 * c}
			}
		case "replay-upload4k/16":
			x.Target = &Target{Text: "≥ 2,500/s (issue #13)", Min: 2500}
		case "inventory/time":
			x.Target = &Target{Text: "< 10 s", Max: 10}
		case "inventory/rss":
			x.Target = &Target{Text: "< 100 MiB", Max: 100}
		case "policy/young", "policy/old":
			x.Target = &Target{Text: "< 2 µs", Max: 2000}
		case "startup/fresh", "startup/existing":
			x.Target = &Target{Text: "< 200 ms", Max: 200}
		}
	}
}
