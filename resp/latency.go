package resp

import (
	"fmt"
	"math/bits"
	"strings"
)

// latencyHist is a per-command latency histogram for INFO latencystats,
// in the spirit of the HDR histograms Redis uses: log-linear buckets (64
// sub-buckets per power of two, so about 1.5% relative error), counts in
// nanoseconds, percentiles reported as the upper bound of their bucket.
// Allocated on a command's first call, so unused commands cost nothing.
type latencyHist struct {
	counts [latencyExps * latencySub]uint32
	total  uint64
}

const (
	latencySubBits = 6
	latencySub     = 1 << latencySubBits
	latencyExps    = 42 // up to 2^42 ns, over an hour
)

func latencyBucket(ns int64) int {
	if ns < latencySub {
		if ns < 0 {
			ns = 0
		}
		return int(ns)
	}
	exp := bits.Len64(uint64(ns)) - latencySubBits // >= 1
	if exp >= latencyExps {
		return len(latencyHist{}.counts) - 1
	}
	sub := int(uint64(ns)>>(exp-1)) - latencySub // 0..latencySub-1
	return exp*latencySub + sub
}

// bucketUpper is the largest value that falls in bucket i.
func bucketUpper(i int) int64 {
	exp, sub := i/latencySub, i%latencySub
	if exp == 0 {
		return int64(sub)
	}
	shift := exp - 1
	return int64(latencySub+sub+1)<<shift - 1
}

func (h *latencyHist) record(ns int64) {
	h.counts[latencyBucket(ns)]++
	h.total++
}

// percentile returns the value at percentile p (0..100) in nanoseconds.
func (h *latencyHist) percentile(p float64) int64 {
	if h.total == 0 {
		return 0
	}
	want := uint64(p / 100 * float64(h.total))
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= want {
			return bucketUpper(i)
		}
	}
	return bucketUpper(len(h.counts) - 1)
}

// infoLine renders "p50=..,p99=..,p99.9=.." (the percentiles of
// latency-tracking-info-percentiles) in microseconds with three decimals,
// as Redis does.
func (h *latencyHist) infoLine(percentiles []float64) string {
	var b strings.Builder
	for i, p := range percentiles {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "p%s=%.3f", formatPercentile(p), float64(h.percentile(p))/1000)
	}
	return b.String()
}

// recordLatency adds one call of cmd to its histogram, under
// latency-tracking. Called with the engine lock.
func (s *Server) recordLatency(cmd *Command, ns int64) {
	if !s.cfg.LatencyTracking {
		return
	}
	if cmd.stats.latency == nil {
		cmd.stats.latency = &latencyHist{}
	}
	cmd.stats.latency.record(ns)
}

// commandLatencyEvent is the latency monitor's class for a command.
func commandLatencyEvent(cmd *Command) string {
	if cmd.Flags&Fast != 0 {
		return "fast-command"
	}
	return "command"
}
