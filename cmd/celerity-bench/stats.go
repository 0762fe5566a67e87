package main

import (
	"slices"
	"time"
)

// median of xs (mean of the two middle values for an even count). The
// median rather than the mean: one round disturbed by another job on the
// machine should not move the result.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m], true
	}
	return (s[m-1] + s[m]) / 2, true
}

// percentileDur is the nearest-rank percentile (q in [0,1]) of an
// ascending slice: the smallest value with at least q of the samples at or
// below it. It never interpolates, so p99 is a latency that was observed.
func percentileDur(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999) // ceil without float surprises at exact ranks
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
