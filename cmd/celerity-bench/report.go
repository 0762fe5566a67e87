package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress writes a status line to stderr; the report itself goes to
// stdout so it can be redirected to a file while progress stays visible.
func progress(format string, args ...any) {
	fmt.Fprintln(os.Stderr, printable(strings.TrimRight(fmt.Sprintf(format, args...), " ")))
}

// printable escapes control characters (other than newline and tab) as
// \xNN. Server errors echo key names such as "celery\x06\x163", whose raw
// bytes would be invisible or garble a terminal.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }

// report accumulates everything printed at the end.
type report struct {
	cfg     *config
	started time.Time
	env     [][2]string // label, value

	mu         sync.Mutex
	serverArgv [][2]string // name, command line (first start of each)
	seenArgv   map[string]bool
	notes      []string
	noteCount  map[string]int

	bench  *benchTable
	celery map[string]*celeryCell
	tx     map[int]map[string]*txCell
	memory map[string]*memResult
}

func newReport(cfg *config) *report {
	return &report{cfg: cfg, started: time.Now(), seenArgv: map[string]bool{}, noteCount: map[string]int{}}
}

// notef records a note; repeats (same failure every round) are counted
// instead of listed again.
func (r *report) notef(format string, args ...any) {
	msg := printable(strings.TrimSpace(fmt.Sprintf(format, args...)))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.noteCount[msg] == 0 {
		r.notes = append(r.notes, msg)
	}
	r.noteCount[msg]++
}

// addServerArgv records a server command line with the per-start values
// (port, temp dir) replaced by $PORT and $DIR, so every restart and the
// memory phase's fresh instances collapse into one line per server.
func (r *report) addServerArgv(name string, argv []string) {
	line := shellJoin(templateArgv(argv, map[string]string{"--port": "$PORT", "--dir": "$DIR", "-p": "$PORT"}))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seenArgv[name+"\x00"+line] {
		return
	}
	r.seenArgv[name+"\x00"+line] = true
	r.serverArgv = append(r.serverArgv, [2]string{name, line})
}

// templateArgv returns a copy of argv where the value following each flag
// in subst is replaced by the placeholder.
func templateArgv(argv []string, subst map[string]string) []string {
	out := append([]string(nil), argv...)
	for i := 1; i < len(out); i++ {
		if ph, ok := subst[argv[i-1]]; ok {
			out[i] = ph
		}
	}
	return out
}

// Column names of the two servers, fixed so tables stay comparable.
const (
	celerityName = "celerity"
	redisName    = "redis"
)

func (r *report) write(w io.Writer) {
	md := r.cfg.markdown
	heading := func(s string) {
		if md {
			fmt.Fprintf(w, "\n### %s\n\n", s)
		} else {
			fmt.Fprintf(w, "\n== %s ==\n\n", s)
		}
	}
	if md {
		fmt.Fprintf(w, "## Celerity vs Redis benchmark (%s)\n\n", r.started.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "Celerity vs Redis benchmark (%s)\n", r.started.UTC().Format(time.RFC3339))
	}
	env := table{header: []string{"", ""}}
	for _, kv := range r.env {
		env.rows = append(env.rows, []string{kv[0], kv[1]})
	}
	env.write(w, md, true)

	if r.bench != nil && len(r.bench.keys) > 0 {
		heading(fmt.Sprintf("redis-benchmark: median of %d round(s), -c %d; ratio = celerity/redis (rps ratio > 1 and p99 ratio < 1 favour Celerity)",
			r.cfg.rounds, r.cfg.clients))
		r.benchTableOut().write(w, md, false)
	}
	if r.celery != nil {
		heading(fmt.Sprintf("Celery mix: %d x 1 KB messages, %d producers, %d consumers, <= %d in flight; median of %d round(s); latency = publish -> BRPOP",
			r.cfg.celeryMessages, r.cfg.celeryProducers, r.cfg.celeryConsumers, r.cfg.celeryInflight, r.cfg.rounds))
		r.celeryTableOut().write(w, md, false)
	}
	if r.tx != nil {
		heading(fmt.Sprintf("Transactions (Kombu's QoS append, 1 KB body): -c %d, median of %d round(s); latency per batch of P transactions",
			r.cfg.clients, r.cfg.rounds))
		r.txTableOut().write(w, md, false)
	}
	if r.memory != nil {
		heading(fmt.Sprintf("Memory: %d x 1 KB messages RPUSHed onto one list (batches of %d), fresh server each", r.cfg.memMessages, memBatch))
		r.memoryTableOut().write(w, md, false)
	}

	heading("Commands")
	var cmds []string
	for _, kv := range r.serverArgv {
		cmds = append(cmds, fmt.Sprintf("%s: %s", kv[0], kv[1]))
	}
	if r.bench != nil {
		for _, k := range r.bench.keys {
			if c, ok := r.bench.cmds[k]; ok {
				cmds = append(cmds, fmt.Sprintf("%s -P %d: %s", k.Scenario, k.Pipeline, c))
			}
		}
	}
	writeLines(w, md, cmds)

	if len(r.notes) > 0 {
		heading("Notes")
		var notes []string
		for _, n := range r.notes {
			if c := r.noteCount[n]; c > 1 {
				n = fmt.Sprintf("(x%d) %s", c, n)
			}
			notes = append(notes, n)
		}
		writeLines(w, md, notes)
	}
}

// writeLines prints a list: plain indented lines, or a Markdown code block
// (command lines and log tails contain characters Markdown would eat).
func writeLines(w io.Writer, md bool, lines []string) {
	if md {
		fmt.Fprintln(w, "```")
	}
	for _, l := range lines {
		if md {
			fmt.Fprintln(w, l)
		} else {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if md {
		fmt.Fprintln(w, "```")
	}
}

func (r *report) benchTableOut() table {
	t := table{
		header: []string{"test", "P", "celerity rps", "redis rps", "rps ratio", "celerity p99 ms", "redis p99 ms", "p99 ratio"},
		right:  []bool{false, true, true, true, true, true, true, true},
	}
	for _, k := range r.bench.keys {
		c, rd := r.bench.data[k][celerityName], r.bench.data[k][redisName]
		cr, crOK := medianOf(c, func(s *samples) []float64 { return s.rps })
		rr, rrOK := medianOf(rd, func(s *samples) []float64 { return s.rps })
		cp, cpOK := medianOf(c, func(s *samples) []float64 { return s.p99 })
		rp, rpOK := medianOf(rd, func(s *samples) []float64 { return s.p99 })
		t.rows = append(t.rows, []string{
			k.Scenario, fmt.Sprint(k.Pipeline),
			withCount(fmtNum(cr, crOK, "%.0f"), c, r.cfg.rounds), withCount(fmtNum(rr, rrOK, "%.0f"), rd, r.cfg.rounds),
			ratio(cr, crOK, rr, rrOK),
			fmtNum(cp, cpOK, "%.3f"), fmtNum(rp, rpOK, "%.3f"),
			ratio(cp, cpOK, rp, rpOK),
		})
	}
	return t
}

func medianOf(s *samples, pick func(*samples) []float64) (float64, bool) {
	if s == nil {
		return 0, false
	}
	return median(pick(s))
}

// withCount flags a median computed from fewer rounds than requested.
func withCount(v string, s *samples, rounds int) string {
	if s == nil || len(s.rps) == 0 || len(s.rps) == rounds {
		return v
	}
	return fmt.Sprintf("%s (%d/%d)", v, len(s.rps), rounds)
}

func (r *report) celeryTableOut() table {
	t := table{
		header: []string{"scenario", "celerity msg/s", "redis msg/s", "ratio", "celerity p50 ms", "redis p50 ms", "celerity p99 ms", "redis p99 ms", "p99 ratio"},
		right:  []bool{false, true, true, true, true, true, true, true, true},
	}
	get := func(name string, pick func(*celeryCell) []float64) (float64, bool) {
		c := r.celery[name]
		if c == nil {
			return 0, false
		}
		return median(pick(c))
	}
	cr, crOK := get(celerityName, func(c *celeryCell) []float64 { return c.rate })
	rr, rrOK := get(redisName, func(c *celeryCell) []float64 { return c.rate })
	c50, c50OK := get(celerityName, func(c *celeryCell) []float64 { return c.p50 })
	r50, r50OK := get(redisName, func(c *celeryCell) []float64 { return c.p50 })
	c99, c99OK := get(celerityName, func(c *celeryCell) []float64 { return c.p99 })
	r99, r99OK := get(redisName, func(c *celeryCell) []float64 { return c.p99 })
	t.rows = append(t.rows, []string{
		"celery", fmtNum(cr, crOK, "%.0f"), fmtNum(rr, rrOK, "%.0f"), ratio(cr, crOK, rr, rrOK),
		fmtNum(c50, c50OK, "%.3f"), fmtNum(r50, r50OK, "%.3f"),
		fmtNum(c99, c99OK, "%.3f"), fmtNum(r99, r99OK, "%.3f"), ratio(c99, c99OK, r99, r99OK),
	})
	return t
}

func (r *report) memoryTableOut() table {
	t := table{
		header: []string{"metric", "celerity", "redis", "ratio"},
		right:  []bool{false, true, true, true},
	}
	c, rd := r.memory[celerityName], r.memory[redisName]
	row := func(label, format string, f func(*memResult) (float64, bool)) {
		cv, cOK := 0.0, false
		rv, rOK := 0.0, false
		if c != nil {
			cv, cOK = f(c)
		}
		if rd != nil {
			rv, rOK = f(rd)
		}
		t.rows = append(t.rows, []string{label, fmtNum(cv, cOK, format), fmtNum(rv, rOK, format), ratio(cv, cOK, rv, rOK)})
	}
	row("RSS bytes per message", "%.0f", func(m *memResult) (float64, bool) { return m.rssPerMsg(), true })
	row("used_memory bytes per message", "%.0f", func(m *memResult) (float64, bool) { return m.usedPerMsg(), m.HaveUsed })
	row("RSS before (MiB)", "%.1f", func(m *memResult) (float64, bool) { return mib(m.RSSBefore), true })
	row("RSS after (MiB)", "%.1f", func(m *memResult) (float64, bool) { return mib(m.RSSAfter), true })
	return t
}

func fmtNum(v float64, ok bool, format string) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// ratio is a/b formatted, or n/a when either side is missing.
func ratio(a float64, aOK bool, b float64, bOK bool) string {
	if !aOK || !bOK || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// table renders aligned plain text or Markdown.
type table struct {
	header []string
	rows   [][]string
	right  []bool // per column: right-align (numbers)
}

func (t table) write(w io.Writer, markdown, noHeader bool) {
	if markdown {
		io.WriteString(w, t.markdown(noHeader))
	} else {
		io.WriteString(w, t.text(noHeader))
	}
}

func (t table) widths(noHeader bool) []int {
	w := make([]int, len(t.header))
	all := t.rows
	if !noHeader {
		all = append([][]string{t.header}, t.rows...)
	}
	for _, row := range all {
		for i, cell := range row {
			if i < len(w) {
				w[i] = max(w[i], len(cell))
			}
		}
	}
	return w
}

func (t table) text(noHeader bool) string {
	w := t.widths(noHeader)
	var b strings.Builder
	line := func(row []string) {
		var cells []string
		for i := range w {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			if i < len(t.right) && t.right[i] {
				cells = append(cells, fmt.Sprintf("%*s", w[i], cell))
			} else {
				cells = append(cells, fmt.Sprintf("%-*s", w[i], cell))
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(cells, "  "), " ") + "\n")
	}
	if !noHeader {
		line(t.header)
		var rule []string
		for _, n := range w {
			rule = append(rule, strings.Repeat("-", n))
		}
		line(rule)
	}
	for _, row := range t.rows {
		line(row)
	}
	return b.String()
}

func (t table) markdown(noHeader bool) string {
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	line := func(row []string) {
		b.WriteString("|")
		for i := range t.header {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			b.WriteString(" " + esc(cell) + " |")
		}
		b.WriteString("\n")
	}
	header := t.header
	if noHeader {
		// Markdown tables need a header row; an empty one renders as such.
		header = make([]string, len(t.header))
	}
	line(header)
	b.WriteString("|")
	for i := range t.header {
		if i < len(t.right) && t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		line(row)
	}
	return b.String()
}

// shellJoin renders argv so it can be pasted into a shell.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return `""`
	}
	if strings.HasPrefix(s, "$") && !strings.ContainsAny(s[1:], " \t\n'\"\\$") {
		return s // our $PORT placeholder
	}
	if !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
