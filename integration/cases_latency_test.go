package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// LATENCY: the latency monitor's samples and the command histograms are
// measurements, so these cases compare what is not: errors, help, the
// replies of an empty monitor, the event classes recorded, the shapes of
// samples, and the text of GRAPH and DOCTOR with numbers masked. A spike
// is made the same way on both servers: a script that spins for 20 ms,
// past a 10 ms threshold.

// spin20ms is a script that runs for at least 20 ms of wall-clock time.
const spin20ms = "local t=redis.call('time') while true do local n=redis.call('time') " +
	"if (n[1]-t[1])*1000000+(n[2]-t[2]) > 20000 then break end end return 1"

// latencyCleanup restores the shared oracle's latency settings.
var latencyCleanup = [][]string{
	{"CONFIG", "SET", "latency-monitor-threshold", "0", "latency-tracking", "yes",
		"latency-tracking-info-percentiles", "50 99 99.9"},
	{"LATENCY", "RESET"},
}

var digits = regexp.MustCompile(`[0-9]+`)

// cmpMaskDigits compares text replies (bulk or verbatim) with every run of
// digits replaced; other replies exactly.
func cmpMaskDigits(g, w *reply) string {
	if g.Kind != w.Kind {
		return fmt.Sprintf("type %q, oracle %q", g.Kind, w.Kind)
	}
	if a, b := digits.ReplaceAllString(string(g.Raw), "N"), digits.ReplaceAllString(string(w.Raw), "N"); a != b {
		if g.Kind == '$' || g.Kind == '=' {
			a, b = digits.ReplaceAllString(g.Str, "N"), digits.ReplaceAllString(w.Str, "N")
			if a == b {
				return "" // only the lengths differ
			}
		}
		return fmt.Sprintf("differ with digits masked:\n    %q\n  oracle\n    %q", a, b)
	}
	return ""
}

// cmpLatencyLatest compares LATENCY LATEST: the same event classes (as a
// set: Redis lists them in hash order), each [name, time, latest, max]
// with integers.
func cmpLatencyLatest(g, w *reply) string {
	if why := compareShape(g, w, "reply"); why != "" {
		return why
	}
	var gn, wn []string
	for i := range g.Elems {
		gn, wn = append(gn, g.Elems[i].Elems[0].Str), append(wn, w.Elems[i].Elems[0].Str)
	}
	slices.Sort(gn)
	slices.Sort(wn)
	if !slices.Equal(gn, wn) {
		return fmt.Sprintf("events %q, oracle %q", gn, wn)
	}
	return ""
}

// cmpHistogram compares LATENCY HISTOGRAM: the same commands (as a set),
// each {calls: N, histogram_usec: {µs: cumulative count, ...}} with equal
// calls, buckets rising and the last bucket holding every call. The
// buckets themselves are measurements.
func cmpHistogram(g, w *reply) string {
	if g.Kind != w.Kind {
		return fmt.Sprintf("type %q, oracle %q", g.Kind, w.Kind)
	}
	if g.Kind == '-' {
		return compareShape(g, w, "reply")
	}
	gm, why := histograms(g)
	if why != "" {
		return "celerity: " + why
	}
	wm, why := histograms(w)
	if why != "" {
		return "oracle: " + why
	}
	if a, b := sortedKeys(gm), sortedKeys(wm); !slices.Equal(a, b) {
		return fmt.Sprintf("commands %q, oracle %q", a, b)
	}
	for name, calls := range wm {
		if gm[name] != calls {
			return fmt.Sprintf("%s: calls %d, oracle %d", name, gm[name], calls)
		}
	}
	return ""
}

// histograms checks one LATENCY HISTOGRAM reply and returns its calls per
// command.
func histograms(r *reply) (map[string]int64, string) {
	out := map[string]int64{}
	for _, kv := range r.mapPairs() {
		name, h := kv[0].Str, kv[1]
		pairs := h.mapPairs()
		if len(pairs) != 2 || pairs[0][0].Str != "calls" || pairs[0][1].Kind != ':' || pairs[1][0].Str != "histogram_usec" {
			return nil, fmt.Sprintf("%s: not {calls, histogram_usec}: %q", name, h.Raw)
		}
		calls, _ := strconv.ParseInt(pairs[0][1].Head, 10, 64)
		var lastBucket, lastCount int64
		for _, b := range pairs[1][1].mapPairs() {
			bucket, err1 := strconv.ParseInt(b[0].Head, 10, 64)
			count, err2 := strconv.ParseInt(b[1].Head, 10, 64)
			if b[0].Kind != ':' || b[1].Kind != ':' || err1 != nil || err2 != nil || bucket <= lastBucket || count <= lastCount {
				return nil, fmt.Sprintf("%s: buckets not rising integers: %q", name, pairs[1][1].Raw)
			}
			lastBucket, lastCount = bucket, count
		}
		if lastCount != calls {
			return nil, fmt.Sprintf("%s: last bucket %d, calls %d", name, lastCount, calls)
		}
		out[name] = calls
	}
	return out, ""
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// cmpPairs compares map replies (RESP2 flat arrays) as sets of pairs:
// CONFIG GET with a glob lists parameters in Redis's hash order.
func cmpPairs(g, w *reply) string { return compareReplies(modeUnorderedPairs, g.Raw, w.Raw) }

func TestDiffLatency(t *testing.T) {
	reset := x("LATENCY", "RESET")
	spike := x("EVAL", spin20ms, "0")
	threshold := func(ms string) xstep { return x("CONFIG", "SET", "latency-monitor-threshold", ms) }
	hist := func(args ...string) xstep {
		return x(append([]string{"LATENCY", "HISTOGRAM"}, args...)...).with(cmpHistogram)
	}
	runX(t, defaultTarget(t), []xcase{
		{name: "latency/errors-and-help", cleanup: latencyCleanup, steps: []xstep{
			x("LATENCY"), x("LATENCY", "HELP"), x("latency", "help"), x("LATENCY", "HELP", "x"), x("LATENCY", "FOO"),
			x("LATENCY", "HISTORY"), x("LATENCY", "HISTORY", "a", "b"), x("LATENCY", "GRAPH"), x("LATENCY", "GRAPH", "command"),
			x("LATENCY", "GRAPH", "nosuch\x00x"), x("LATENCY", "LATEST", "x"), x("LATENCY", "DOCTOR", "x"),
			x("LATENCY", "HISTOGRAM|x"), x("LATENCY|LATEST")}},
		{name: "latency/empty-monitor", cleanup: latencyCleanup, steps: []xstep{
			reset, x("LATENCY", "LATEST"), x("LATENCY", "HISTORY", "command"), x("LATENCY", "RESET"),
			x("LATENCY", "RESET", "command", "nosuch", ""), x("LATENCY", "DOCTOR"),
			// Enabled, but nothing happened yet.
			threshold("10000"), x("LATENCY", "DOCTOR"), x("CONFIG", "GET", "latency-monitor-threshold"), threshold("0"),
			x("LATENCY", "DOCTOR")}},
		{name: "latency/config", cleanup: latencyCleanup, steps: []xstep{
			x("CONFIG", "GET", "latency*").with(cmpPairs), threshold("-1"), threshold("x"), threshold("9223372036854775807"),
			x("CONFIG", "GET", "latency-monitor-threshold"), threshold("0"),
			x("CONFIG", "SET", "latency-tracking", "maybe"), x("CONFIG", "SET", "latency-tracking", "no"),
			x("CONFIG", "GET", "latency-tracking"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "x"), x("CONFIG", "SET", "latency-tracking-info-percentiles", "101"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "-1"), x("CONFIG", "SET", "latency-tracking-info-percentiles", "50,99"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "inf"), x("CONFIG", "SET", "latency-tracking-info-percentiles", "nan"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.9999 1e2 0 0.5"),
			x("CONFIG", "GET", "latency-tracking-info-percentiles"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", ""), x("CONFIG", "GET", "latency-tracking-info-percentiles"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "50  99"), x("CONFIG", "GET", "latency-tracking-info-percentiles")}},
		{name: "latency/spike", cleanup: latencyCleanup, steps: []xstep{
			reset, threshold("10"), x("PING"), x("LATENCY", "LATEST"), spike,
			x("LATENCY", "LATEST").with(cmpLatencyLatest), x("LATENCY", "HISTORY", "command").with(shapeOnly),
			x("LATENCY", "HISTORY", "COMMAND"), x("LATENCY", "HISTORY", "fast-command"),
			x("LATENCY", "GRAPH", "command").with(cmpMaskDigits), x("LATENCY", "GRAPH", "Command"),
			x("LATENCY", "DOCTOR").with(cmpMaskDigits),
			x("CONFIG", "SET", "slowlog-log-slower-than", "-1"), x("LATENCY", "DOCTOR").with(cmpMaskDigits),
			x("CONFIG", "SET", "slowlog-log-slower-than", "10000"),
			// RESET matches names case-insensitively.
			x("LATENCY", "RESET", "COMMAND", "command"), x("LATENCY", "LATEST"), x("LATENCY", "DOCTOR"),
			spike, x("LATENCY", "RESET"), x("LATENCY", "GRAPH", "command")}},
		{name: "latency/histogram", cleanup: latencyCleanup, steps: []xstep{
			x("CONFIG", "RESETSTAT"), hist(), x("PING"), x("PING"), x("SET", "k", "v"), x("GET", "k"), x("CONFIG", "GET", "hz"),
			x("CLIENT", "GETNAME"), hist("ping"), hist("PING", "set", "nosuch", "get"), hist("config"), hist("config|get"),
			hist("CONFIG|GET"), hist("config|get|x"), hist("client|nosuch"), hist("nosuch"), hist(""), hist("client", "client|getname"),
			x("CONFIG", "RESETSTAT"), hist("ping"),
			// With tracking off nothing is recorded, and INFO shows an
			// empty section.
			x("CONFIG", "SET", "latency-tracking", "no"), x("PING"), hist("ping"),
			x("INFO", "latencystats").with(cmpInfoLatency), x("CONFIG", "SET", "latency-tracking", "yes"), x("PING"),
			hist("ping")}},
		{name: "latency/info-percentiles", cleanup: latencyCleanup, steps: []xstep{
			x("CONFIG", "RESETSTAT"), x("PING"), x("SET", "k", "v"),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50 99.9999 100"),
			x("INFO", "latencystats").with(cmpInfoLatency),
			x("CONFIG", "SET", "latency-tracking-info-percentiles", ""), x("INFO", "latencystats").with(cmpInfoLatency)}},
	})
}
