package resp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/celerity/celerity/aof"
)

// The latency monitor (Redis 7.0's latency.c) and LATENCY HISTOGRAM.
//
// With latency-monitor-threshold > 0 (milliseconds), every event that
// lasted at least that long is recorded as a sample of its event class:
// one time series of the last latencySeriesLen seconds per class, keeping
// the worst sample of each second and the all-time maximum. The classes
// Celerity records are those it has an equivalent code path for:
//
//   - "command" and "fast-command": a command's execution, by its fast
//     flag (dispatch.go times non-fast commands alone while the monitor
//     is on; fast commands of a pipelined batch get the batch's average,
//     as their statistics do);
//   - "expire-cycle": one active expiry cycle of the cron;
//   - "eviction-cycle": one call of the evictor that had keys to evict;
//   - "aof-write-alone" / "aof-fsync-always": the wait of a batch of
//     replies for the append-only file (write, or write and fsync under
//     appendfsync always). Redis's other AOF and RDB classes (fork,
//     aof-rewrite-*, rdb-*) have no equivalent: there is no child process.
//
// LATENCY HISTOGRAM reads the per-command histograms that INFO
// latencystats also uses (latency.go), reported in Redis's power-of-two
// microsecond buckets.

// latencySeriesLen is LATENCY_TS_LEN: samples kept per event class.
const latencySeriesLen = 160

type latencySample struct {
	time    int64 // Unix seconds; 0: unused slot
	latency int64 // milliseconds
}

// latencySeries is one event class's time series.
type latencySeries struct {
	samples [latencySeriesLen]latencySample
	idx     int   // next slot to write
	max     int64 // all-time maximum, milliseconds
}

// latencyMonitor holds the event classes in the order they were first
// recorded (Redis's dict has no order; a stable one makes LATEST readable).
type latencyMonitor struct {
	events map[string]*latencySeries
	order  []string
}

// latencyAddSampleIfNeeded records d for event when the monitor is on and
// d reaches the threshold. Called with the engine lock.
func (s *Server) latencyAddSampleIfNeeded(event string, d time.Duration) {
	t := int64(s.cfg.LatencyMonitorThreshold)
	if t <= 0 {
		return
	}
	if ms := d.Milliseconds(); ms >= t {
		s.latencyAddSample(event, ms, time.Now().Unix())
	}
}

// latencyAddSample is latencyAddSample: a sample in the same second as
// the previous one only raises it.
func (s *Server) latencyAddSample(event string, ms, now int64) {
	m := &s.latency
	ts := m.events[event]
	if ts == nil {
		if m.events == nil {
			m.events = map[string]*latencySeries{}
		}
		ts = &latencySeries{}
		m.events[event] = ts
		m.order = append(m.order, event)
	}
	ts.max = max(ts.max, ms)
	prev := &ts.samples[(ts.idx+latencySeriesLen-1)%latencySeriesLen]
	if prev.time == now {
		prev.latency = max(prev.latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{time: now, latency: ms}
	ts.idx = (ts.idx + 1) % latencySeriesLen
}

// latencyReset forgets the event classes named (case-insensitively, as
// Redis's strcasecmp), or all of them for "", and returns how many.
func (s *Server) latencyReset(event string) int {
	m := &s.latency
	n := 0
	kept := m.order[:0]
	for _, name := range m.order {
		if event == "" || strings.EqualFold(name, event) {
			delete(m.events, name)
			n++
			continue
		}
		kept = append(kept, name)
	}
	m.order = kept
	return n
}

// cronLatency folds in what happened outside the engine lock since the
// last tick: the longest wait of a reactor for the AOF.
func (s *Server) cronLatency() {
	if ms := s.aofWaitMaxMs.Swap(0); ms > 0 {
		event := "aof-write-alone"
		if s.cfg.AppendFsync == aof.FsyncAlways {
			event = "aof-fsync-always"
		}
		s.latencyAddSampleIfNeeded(event, time.Duration(ms)*time.Millisecond)
	}
}

// noteAOFWait records a reactor's wait for the AOF (outside the engine
// lock: only the maximum is kept, for cronLatency).
func (s *Server) noteAOFWait(d time.Duration) {
	ms := d.Milliseconds()
	if ms <= 0 {
		return
	}
	for {
		cur := s.aofWaitMaxMs.Load()
		if ms <= cur || s.aofWaitMaxMs.CompareAndSwap(cur, ms) {
			return
		}
	}
}

func latencyCommands() []*Command {
	const f = Admin | NoScript | Loading | Stale
	return []*Command{
		{Name: "latency", Arity: -2, Sub: []*Command{
			{Name: "doctor", Arity: 2, Flags: f, Run: latencyDoctorCommand},
			{Name: "graph", Arity: 3, Flags: f, Run: latencyGraphCommand},
			{Name: "histogram", Arity: -2, Flags: f, Run: latencyHistogramCommand},
			{Name: "history", Arity: 3, Flags: f, Run: latencyHistoryCommand},
			{Name: "latest", Arity: 2, Flags: f, Run: latencyLatestCommand},
			{Name: "reset", Arity: -2, Flags: f, Run: latencyResetCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: latencyHelpCommand},
		}},
	}
}

// latencyHistoryCommand is LATENCY HISTORY <event>: [time, ms] pairs,
// oldest first. The event name is matched exactly, as Redis's dict does.
func latencyHistoryCommand(c *Client) {
	ts := c.srv.latency.events[string(c.argv[2])]
	if ts == nil {
		c.Array(0)
		return
	}
	d := c.DeferLen()
	n := 0
	for j := 0; j < latencySeriesLen; j++ {
		smp := ts.samples[(ts.idx+j)%latencySeriesLen]
		if smp.time == 0 {
			continue
		}
		c.Array(2)
		c.Int(smp.time)
		c.Int(smp.latency)
		n++
	}
	c.SetArrayLen(d, n)
}

// latencyLatestCommand is LATENCY LATEST: per event class [name, time of
// the latest sample, its latency, all-time maximum].
func latencyLatestCommand(c *Client) {
	m := &c.srv.latency
	c.Array(len(m.order))
	for _, name := range m.order {
		ts := m.events[name]
		last := ts.samples[(ts.idx+latencySeriesLen-1)%latencySeriesLen]
		c.Array(4)
		c.BulkString(name)
		c.Int(last.time)
		c.Int(last.latency)
		c.Int(ts.max)
	}
}

func latencyResetCommand(c *Client) {
	s := c.srv
	if len(c.argv) == 2 {
		c.Int(int64(s.latencyReset("")))
		return
	}
	n := 0
	for _, a := range c.argv[2:] {
		if len(a) > 0 { // "" would mean every class to latencyReset
			n += s.latencyReset(string(a))
		}
	}
	c.Int(int64(n))
}

// latencyGraphCommand is LATENCY GRAPH <event>: an ASCII sparkline of the
// series, 80 columns by 4 rows, labelled with each sample's age.
func latencyGraphCommand(c *Client) {
	name := string(c.argv[2])
	ts := c.srv.latency.events[name]
	if ts == nil {
		c.Error("ERR No samples available for event '" + cstr(c.argv[2], len(c.argv[2])) + "'")
		return
	}
	now := time.Now().Unix()
	var seq sparkline
	var lo, hi int64
	for j := 0; j < latencySeriesLen; j++ {
		smp := ts.samples[(ts.idx+j)%latencySeriesLen]
		if smp.time == 0 {
			continue
		}
		if len(seq.values) == 0 {
			lo, hi = smp.latency, smp.latency
		} else {
			lo, hi = min(lo, smp.latency), max(hi, smp.latency)
		}
		seq.add(float64(smp.latency), ageLabel(now-smp.time))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", name, hi, lo, ts.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	seq.render(&b, 80, 4)
	c.Verbatim(b.String())
}

// ageLabel is a sample's age as LATENCY GRAPH labels it.
func ageLabel(sec int64) string {
	switch {
	case sec < 60:
		return strconv.FormatInt(sec, 10) + "s"
	case sec < 3600:
		return strconv.FormatInt(sec/60, 10) + "m"
	case sec < 86400:
		return strconv.FormatInt(sec/3600, 10) + "h"
	}
	return strconv.FormatInt(sec/86400, 10) + "d"
}

// sparkline renders values as Redis's sparkline.c does with
// SPARKLINE_FILL: rows*3 levels drawn with "_o#" and '|' below the top
// of a column, then each label written vertically under its column after
// one blank line.
type sparkline struct {
	values   []float64
	labels   []string
	lo, hi   float64
	nLabeled int
}

func (sp *sparkline) add(v float64, label string) {
	if len(sp.values) == 0 {
		sp.lo, sp.hi = v, v
	} else if v < sp.lo {
		sp.lo = v
	} else if v > sp.hi {
		sp.hi = v
	}
	sp.values = append(sp.values, v)
	sp.labels = append(sp.labels, label)
	if label != "" {
		sp.nLabeled++
	}
}

func (sp *sparkline) render(b *strings.Builder, columns, rows int) {
	for j := 0; j < len(sp.values); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		sp.renderRange(b, rows, j, min(columns, len(sp.values)-j))
	}
}

func (sp *sparkline) renderRange(b *strings.Builder, rows, offset, n int) {
	const charset = "_o#"
	steps := len(charset) * rows
	rel := sp.hi - sp.lo
	if rel == 0 {
		rel = 1
	}
	line := make([]byte, n)
	for row := 0; ; row++ {
		more := false
		for j := range line {
			line[j] = ' '
		}
		for j := 0; j < n; j++ {
			i := offset + j
			if row < rows {
				more = true
				step := int(float64(int((sp.values[i]-sp.lo)*float64(steps))) / rel)
				step = max(0, min(step, steps-1))
				switch idx := step - (rows-row-1)*len(charset); {
				case idx >= 0 && idx < len(charset):
					line[j] = charset[idx]
				case idx >= len(charset):
					line[j] = '|'
				}
				continue
			}
			if sp.nLabeled > 0 && row-rows < 1 {
				more = true // the blank line above the labels
				break
			}
			if k := row - rows - 1; k < len(sp.labels[i]) {
				more = true
				line[j] = sp.labels[i][k]
			}
		}
		if !more {
			return
		}
		b.Write(line)
		b.WriteByte('\n')
	}
}

// latencyDoctorCommand is LATENCY DOCTOR: Redis's report, with the event
// statistics and the advice that applies to the classes Celerity records.
func latencyDoctorCommand(c *Client) {
	c.Verbatim(c.srv.latencyReport())
}

func (s *Server) latencyReport() string {
	m := &s.latency
	if len(m.order) == 0 && s.cfg.LatencyMonitorThreshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var slowlogEnable, slowlogTune, slowlogInspect, scheduler, relaxFsync, hz, largeObjects, massEviction bool
	advices := 0
	now := time.Now().Unix()
	for i, name := range m.order {
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		st := m.events[name].stats(now)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, name, st.samples, st.avg, st.mad, float64(st.period)/float64(st.samples), m.events[name].max)
		switch strings.ToLower(name) {
		case "command":
			if s.cfg.SlowlogLogSlowerThan < 0 {
				slowlogEnable = true
				advices++
			} else if s.cfg.SlowlogLogSlowerThan/1000 > s.cfg.LatencyMonitorThreshold {
				slowlogTune = true
				advices++
			}
			slowlogInspect, largeObjects = true, true
			advices += 2
		case "fast-command":
			scheduler = true
			advices++
		case "aof-fsync-always":
			relaxFsync = true
			advices++
		case "expire-cycle":
			hz, largeObjects = true, true
			advices += 2
		case "eviction-cycle":
			massEviction = true
			advices++
		}
		b.WriteByte('\n')
	}
	switch {
	case len(m.order) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
		return b.String()
	case advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
		return b.String()
	}
	b.WriteString("\nI have a few advices for you:\n\n")
	if slowlogEnable {
		fmt.Fprintf(&b, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", s.cfg.LatencyMonitorThreshold*1000)
	}
	if slowlogTune {
		fmt.Fprintf(&b, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n", s.cfg.LatencyMonitorThreshold*1000)
	}
	if slowlogInspect {
		b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
	}
	if scheduler {
		b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
			"  1) Lower the system load.\n" +
			"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
			"  3) Check if you have a \"noisy neighbour\" problem.\n" +
			"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
			"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n")
	}
	if relaxFsync && s.cfg.AppendFsync == aof.FsyncAlways {
		b.WriteString("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n")
	}
	if hz && s.cfg.HZ < 100 {
		b.WriteString("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n")
	}
	if largeObjects {
		b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
	}
	if massEviction {
		b.WriteString("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n")
	}
	return b.String()
}

// latencyStats is what DOCTOR reports of one class (analyzeLatencyForEvent).
type latencyStats struct {
	samples, avg, mad, period int64
}

func (ts *latencySeries) stats(now int64) latencyStats {
	var st latencyStats
	var sum, oldest int64
	for _, smp := range ts.samples {
		if smp.time == 0 {
			continue
		}
		st.samples++
		sum += smp.latency
		if oldest == 0 || smp.time < oldest {
			oldest = smp.time
		}
	}
	if st.samples == 0 {
		return st
	}
	st.avg = sum / st.samples
	st.period = max(now-oldest, 1)
	var dev int64
	for _, smp := range ts.samples {
		if smp.time != 0 {
			d := st.avg - smp.latency
			dev += max(d, -d)
		}
	}
	st.mad = dev / st.samples
	return st
}

// latencyHistogramCommand is LATENCY HISTOGRAM [command ...]: per command
// with recorded latencies, a map {calls, histogram_usec}. Unknown names
// are skipped; a container command stands for its subcommands.
func latencyHistogramCommand(c *Client) {
	s := c.srv
	var cmds []*Command
	if len(c.argv) == 2 {
		cmds = s.allCommands()
	} else {
		for _, a := range c.argv[2:] {
			cmd := s.lookupCommandBySds(string(a))
			if cmd == nil {
				continue
			}
			cmds = append(cmds, cmd)
			cmds = append(cmds, cmd.Sub...)
		}
	}
	d := c.DeferLen()
	n := 0
	for _, cmd := range cmds {
		h := cmd.stats.latency
		if h == nil || h.total == 0 {
			continue
		}
		c.BulkString(cmd.fullName)
		h.writeCDF(c)
		n++
	}
	c.SetMapLen(d, n)
}

// lookupCommandBySds resolves "name" or "name|sub" as Redis's
// lookupCommandBySds does: more than one '|' finds nothing.
func (s *Server) lookupCommandBySds(name string) *Command {
	if strings.Count(name, "|") > 1 {
		return nil
	}
	return s.table.lookupFullName(name)
}

// Redis's command histograms track 1 µs to 1 s (LATENCY_HISTOGRAM_MIN_VALUE
// and _MAX_VALUE, in ns); a sample outside is clamped into the range.
const (
	latencyHistMinNs = 1024
	latencyHistMaxNs = 1_000_000_000
)

// writeCDF writes {calls, histogram_usec: {bucket µs: cumulative calls}}
// with Redis's buckets: powers of two from 1024 ns, each reported as the
// highest value its HDR histogram (2 significant digits) holds in it, in
// µs, and only where the cumulative count grew.
func (h *latencyHist) writeCDF(c *Client) {
	c.Map(2)
	c.BulkString("calls")
	c.Int(int64(h.total))
	c.BulkString("histogram_usec")
	d := c.DeferLen()
	n := 0
	var prev, cum uint64
	i := 0 // next latencyHist bucket to add to cum
	for k := 0; ; k++ {
		level := int64(latencyHistMinNs) << k
		for ; i < len(h.counts) && bucketLower(i) <= level; i++ {
			cum += uint64(h.counts[i])
		}
		if level >= latencyHistMaxNs {
			cum = h.total // clamped at the top
		}
		if cum > prev {
			c.Int((level + int64(8)<<k - 1) / 1000)
			c.Int(int64(cum))
			n++
		}
		prev = cum
		if cum >= h.total {
			break
		}
	}
	c.SetMapLen(d, n)
}

// bucketLower is the smallest value that falls in bucket i of a
// latencyHist.
func bucketLower(i int) int64 {
	if i == 0 {
		return 0
	}
	return bucketUpper(i-1) + 1
}

func latencyHelpCommand(c *Client) {
	c.replyHelp([]string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}
