package main

import (
	"math"
	"slices"
	"time"
)

// Stat summarises the repeated runs of one measurement: the median is the
// figure, min and max show the spread.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// summarize returns the median, minimum and maximum of values. For an even
// count the median is the mean of the two middle values. No values give
// the zero Stat.
func summarize(values []float64) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Stat{Median: med, Min: v[0], Max: v[n-1], N: n}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of latencies by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It sorts lat in place.
func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	rank := int(math.Ceil(p / 100 * float64(len(lat))))
	rank = min(max(rank, 1), len(lat))
	return lat[rank-1]
}

// mbps is a throughput in MB/s (10^6 bytes per second).
func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

// perSecond is a rate of n events in d.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func millisOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
