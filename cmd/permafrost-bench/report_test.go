package main

import (
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Stat
	}{
		{nil, Stat{}},
		{[]float64{5}, Stat{5, 5, 5, 1}},
		{[]float64{3, 1, 2}, Stat{2, 1, 3, 3}},
		{[]float64{4, 1, 3, 2}, Stat{2.5, 1, 4, 4}}, // even: mean of the middle two
		{[]float64{7, 7, 1}, Stat{7, 1, 7, 3}},
	} {
		in := append([]float64(nil), tc.in...)
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("summarize(%v) reordered its argument", in)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(lat, tc.p); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {12345.6, "12346"}, {123.4, "123"}, {12.34, "12.3"}, {1.234, "1.23"}, {0.1234, "0.123"}, {0.001234, "0.0012"}} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func stat(v float64) Result { return have(Stat{Median: v, Min: v, Max: v, N: 1}) }

func TestAdvantageAndStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		row    Row
		adv    string
		status string
	}{
		{"rate ahead", Row{Higher: true, PF: stat(1000), Moto: stat(50)}, "20.0", "met"},
		{"rate behind target", Row{Higher: true, PF: stat(100), Moto: stat(50)}, "2.00", "**gap**: 2.00× moto < 10×"},
		{"time: lower is better", Row{PF: stat(10), Moto: stat(500)}, "50.0", "met"},
		{"memory is not held to the moto factor", Row{Memory: true, PF: stat(30), Moto: stat(60)}, "2.00", ""},
		{"no moto, no target", Row{Higher: true, PF: stat(1), Moto: missing("n/a")}, "", ""},
		{"minimum missed", Row{Higher: true, PF: stat(80), Target: &Target{Min: 90}}, "", "**gap**: 80.0 < 90.0"},
		{"maximum met", Row{PF: stat(1.5), Target: &Target{Max: 2}}, "", "met"},
		{"maximum reached is a gap", Row{PF: stat(2), Target: &Target{Max: 2}}, "", "**gap**: 2.00 ≥ 2.00"},
		{"no permafrost figure", Row{PF: missing("error: x"), Target: &Target{Max: 2}}, "", ""},
	} {
		adv := ""
		if a, ok := advantage(tc.row); ok {
			adv = num(a)
		}
		if adv != tc.adv {
			t.Errorf("%s: advantage = %q, want %q", tc.name, adv, tc.adv)
		}
		if got := status(tc.row); got != tc.status {
			t.Errorf("%s: status = %q, want %q", tc.name, got, tc.status)
		}
	}
}

func TestApplyTargets(t *testing.T) {
	r := &Report{
		Ceilings: []Row{
			{ID: "write/large", Name: "disk", PF: stat(400)},
			{ID: "hash1/large", Name: "hash", PF: stat(900)},
			{ID: "write-par/2", Name: "disk ×2", PF: stat(500)},
			{ID: "hashN/large", Name: "hash ×2", PF: stat(1800)},
			{ID: "http-tiny/64", Name: "tiny", PF: stat(20000)},
		},
		Rows: []Row{
			{ID: "upload/large", Higher: true, PF: stat(300), Ceil: []string{"write/large", "hash1/large"}},
			{ID: "multipart/2", Higher: true, PF: stat(420), Ceil: []string{"write-par/2", "hashN/large"}},
			{ID: "describe/64", Higher: true, PF: stat(12000), Ceil: []string{"http-tiny/64"}},
			{ID: "policy/young", PF: stat(90)},
		},
	}
	applyTargets(r)
	want := map[string]float64{
		"upload/large": 360,   // 90% of min(400, 900)
		"multipart/2":  450,   // 1.5 × 300 = 450 ≤ 90% of 500
		"describe/64":  10000, // 50% of 20000
	}
	for _, row := range r.Rows {
		if row.Target == nil {
			t.Fatalf("%s: no target", row.ID)
		}
		if w, ok := want[row.ID]; ok && row.Target.Min != w {
			t.Errorf("%s: target min %v, want %v", row.ID, row.Target.Min, w)
		}
	}
	if got := status(r.Rows[1]); got != "**gap**: 420 < 450" {
		t.Errorf("multipart/2 status = %q", got)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes without an SDK ceiling: %q", r.Notes)
	}
	if r.Rows[3].Target.Max != 2000 {
		t.Errorf("policy target = %+v, want < 2000 ns", r.Rows[3].Target)
	}

	// A DescribeVault target above what the client alone can do is pointed out.
	r.Ceilings = append(r.Ceilings, Row{ID: "sdk-describe/64", Name: "sdk", PF: stat(8000)})
	r.Rows[2].Target = nil
	applyTargets(r)
	if r.Rows[2].Target.Min != 10000 || len(r.Notes) == 0 || !strings.Contains(r.Notes[len(r.Notes)-1], "(8000 req/s)") {
		t.Errorf("describe/64 with a slow client: target %+v, notes %q", r.Rows[2].Target, r.Notes)
	}

	// When the disk cannot take 1.5× single stream, 90% of its ceiling is the goal.
	r.Ceilings[2].PF = stat(420)
	r.Rows[1].Target = nil
	applyTargets(r)
	if got := r.Rows[1].Target.Min; got != 0.9*420 {
		t.Errorf("multipart/2 target with a slow disk = %v, want %v", got, 0.9*420)
	}
}

func TestMarkdown(t *testing.T) {
	r := &Report{
		Title: "permafrost benchmark", Date: "2026-01-02",
		Machine:  []string{"CPU: test"},
		Ceilings: []Row{{ID: "write/large", Name: "sequential write", Unit: "MB/s", PF: have(Stat{400, 390, 410, 3})}},
		Rows: []Row{
			{ID: "upload/large", Section: "Uploads", Name: "UploadArchive 1 GiB", Unit: "MB/s", Higher: true,
				PF: have(Stat{380, 370, 385, 3}), Moto: have(Stat{19, 18, 20, 3}), Ceil: []string{"write/large"}},
			{ID: "multipart/2", Section: "Uploads", Name: "multipart", Unit: "MB/s", Higher: true,
				PF: missing("error: boom"), Moto: missing("n/a: moto has no multipart upload")},
		},
	}
	applyTargets(r)
	md := r.Markdown()
	for _, want := range []string{
		"# permafrost benchmark — 2026-01-02",
		"| sequential write | MB/s | 400 [390–410] |",
		"## Uploads",
		"| UploadArchive 1 GiB | MB/s | 380 [370–385] | 400 (sequential write) | 95% | 19.0 [18.0–20.0] | 20.0× | ≥ 90% of min(fsync'd write, 1-core hash); ≥ 10× moto | met |",
		"| multipart | MB/s | error: boom |  |  | n/a: moto has no multipart upload |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkEvaluateLockPolicy/young-2         	12345678	        92.10 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluateLockPolicy/old-2           	12345678	       121.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluateLockPolicy/young-2         	12345678	        94.20 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluateCrossAccount-2             	1000000	      1000 ns/op
PASS`
	got := parseBench(out, "BenchmarkEvaluateLockPolicy")
	if len(got["young"]) != 2 || got["young"][1] != 94.2 || len(got["old"]) != 1 || got["old"][0] != 121 || len(got) != 2 {
		t.Errorf("parseBench = %v", got)
	}
}

func TestTokenCounter(t *testing.T) {
	doc := strings.Repeat(`{"ArchiveId":"x","Size":1},`, 50)
	for _, chunk := range []int{1, 2, 5, 11, 12, 13, 64, len(doc)} {
		tc := &tokenCounter{token: []byte(`"ArchiveId"`)}
		for i := 0; i < len(doc); i += chunk {
			tc.write([]byte(doc[i:min(i+chunk, len(doc))]))
		}
		if tc.n != 50 {
			t.Errorf("chunks of %d: counted %d, want 50", chunk, tc.n)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1000000: "1,000,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMarkdownConfigs(t *testing.T) {
	r := &Report{
		Title: "permafrost benchmark", Date: "2026-01-02",
		Ceilings: []Row{{ID: "write/large", Name: "sequential write", Unit: "MB/s", PF: have(Stat{400, 390, 410, 3})}},
		Configs: []ConfigInfo{
			{Name: "embedded", Title: "SQLite"},
			{Name: "pg-s3-1", Title: "one node", Compare: []string{"embedded"}},
			{Name: "pg-s3-2", Title: "two nodes", Compare: []string{"embedded", "pg-s3-1"}},
		},
		Rows: []Row{
			{ID: "upload/large", Config: "embedded", Section: "Uploads", Name: "UploadArchive 1 GiB", Unit: "MB/s", Higher: true,
				PF: stat(380), Moto: stat(19), Ceil: []string{"write/large"}},
			{ID: "mixed/p99", Config: "embedded", Section: "Mixed", Name: "p99", Unit: "ms", PF: stat(10), Moto: stat(50)},
			{ID: "upload/large", Config: "pg-s3-1", Section: "Uploads", Name: "UploadArchive 1 GiB", Unit: "MB/s", Higher: true,
				PF: stat(200), Moto: missing("not run"), Ceil: []string{"write/large"}},
			{ID: "mixed/p99", Config: "pg-s3-1", Section: "Mixed", Name: "p99", Unit: "ms", PF: stat(20)},
			{ID: "upload/large", Config: "pg-s3-2", Section: "Uploads", Name: "UploadArchive 1 GiB", Unit: "MB/s", Higher: true,
				PF: stat(300), Ceil: []string{"write/large"}},
			{ID: "mixed/p99", Config: "pg-s3-2", Section: "Mixed", Name: "p99", Unit: "ms", PF: missing("error: boom")},
		},
	}
	applyTargets(r)
	for _, row := range r.Rows {
		if row.Config != "embedded" && row.Target != nil {
			t.Errorf("%s %s has a target", row.Config, row.ID)
		}
	}
	md := r.Markdown()
	for _, want := range []string{
		"## Configurations compared",
		"| workload | unit | embedded | pg-s3-1 | pg-s3-2 | moto |",
		"| UploadArchive 1 GiB | MB/s | 380 | 200 | 300 | 19.0 |",
		"| p99 | ms | 10.0 | 20.0 | error | 50.0 |",
		"## Uploads\n",
		"## pg-s3-1: one node\n",
		"| workload | unit | pg-s3-1 | ceiling | % of ceiling | embedded | × embedded |",
		"| **Uploads** | | | | | | |",
		"| UploadArchive 1 GiB | MB/s | 200 | 400 (sequential write) | 50% | 380 | 0.526× |",
		"| p99 | ms | 20.0 |  |  | 10.0 | 0.500× |",
		"## pg-s3-2: two nodes\n",
		"| UploadArchive 1 GiB | MB/s | 300 | 400 (sequential write) | 75% | 380 | 0.789× | 200 | 1.50× |",
		"| p99 | ms | error: boom |  |  | 10.0 |  | 20.0 |  |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// The pg rows stay out of the classic (moto) tables.
	if strings.Count(md, "| UploadArchive 1 GiB | MB/s | 380") != 2 || strings.Contains(md, "| UploadArchive 1 GiB | MB/s | 200 [") {
		t.Errorf("rows in the wrong tables:\n%s", md)
	}
}
