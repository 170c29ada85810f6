package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// SpaceSource reads, at scrape time, the bytes the stores hold by what
// they are held for (keys: live_archives, in_flight_uploads,
// retained_job_outputs, expired_unpurged) and the number of recorded blob
// intents; ok is false when they could not be read.
type SpaceSource func() (bytes map[string]int64, intents int64, ok bool)

// spaceCollector exports a SpaceSource.
type spaceCollector struct {
	src     SpaceSource
	bytes   *prometheus.Desc
	intents *prometheus.Desc
}

func (c *spaceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bytes
	ch <- c.intents
}

func (c *spaceCollector) Collect(ch chan<- prometheus.Metric) {
	bytes, intents, ok := c.src()
	if !ok {
		return
	}
	for held, n := range bytes {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(n), held)
	}
	ch <- prometheus.MustNewConstMetric(c.intents, prometheus.GaugeValue, float64(intents))
}

// SetSpaceSource registers permafrost_space_bytes{held_for} and
// permafrost_blob_intents, read from src at each scrape. Call it once.
func (m *Metrics) SetSpaceSource(src SpaceSource) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(&spaceCollector{
		src: src,
		bytes: prometheus.NewDesc("permafrost_space_bytes",
			"Bytes the stores hold, by what they are held for: live_archives, in_flight_uploads, retained_job_outputs (outputs of finished jobs inside --job-retention, including bytes of deleted archives they pin) and expired_unpurged (past their retention, removed by the next purge).",
			[]string{"held_for"}, nil),
		intents: prometheus.NewDesc("permafrost_blob_intents",
			"Recorded blob intents: blobs written or released whose fate housekeeping has not settled yet.", nil, nil),
	})
}
